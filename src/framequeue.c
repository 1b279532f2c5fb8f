#include "framequeue.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gridvid/gridvid.h"
#include "threads.h"

int gv_picpool_init(GvPicPool *p, int w, int h, int max, int transparent)
{
    memset(p, 0, sizeof(*p));
    p->w = w;
    p->h = h;
    p->transparent = transparent;
    p->max = max;
    p->free_list = calloc((size_t)max, sizeof(*p->free_list));
    p->all = calloc((size_t)max, sizeof(*p->all));
    if (!p->free_list || !p->all) {
        free(p->free_list);
        free(p->all);
        p->free_list = NULL;
        p->all = NULL;
        return -ENOMEM;
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    return 0;
}

void gv_picpool_free(GvPicPool *p)
{
    if (!p->free_list)
        return;
    for (int i = 0; i < p->n_alloc; i++) {
        free(p->all[i]->mem);
        free(p->all[i]);
    }
    free(p->free_list);
    free(p->all);
    p->free_list = NULL;
    p->all = NULL;
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->cond);
}

static GvPoolPic *new_pic(GvPicPool *p)
{
    GvPoolPic *const pp = calloc(1, sizeof(*pp));
    if (!pp)
        return NULL;
    /* 64-byte aligned lines suit SIMD in the compositor and the encoder. */
    const int ly = (p->w + 63) & ~63, lc = (p->w / 2 + 63) & ~63;
    const size_t size = (size_t)ly * p->h + 2 * (size_t)lc * (p->h / 2);
    /* transparent: the picture over white, then the alpha plane */
    const size_t total = p->transparent ? 2 * size + (size_t)ly * p->h : size;
    if (posix_memalign(&pp->mem, 64, total) != 0) {
        free(pp);
        return NULL;
    }
    uint8_t *const base = pp->mem;
    pp->pool = p;
    GvPicture *const pics[2] = { &pp->pic, &pp->over };
    for (int i = 0; i < 1 + !!p->transparent; i++) {
        GvPicture *const pic = pics[i];
        pic->width = p->w;
        pic->height = p->h;
        pic->data[0] = base + (size_t)i * size;
        pic->data[1] = pic->data[0] + (size_t)ly * p->h;
        pic->data[2] = pic->data[1] + (size_t)lc * (p->h / 2);
        pic->linesize[0] = ly;
        pic->linesize[1] = pic->linesize[2] = lc;
    }
    if (p->transparent) {
        pp->pic.alpha = base + 2 * size;
        pp->pic.alpha_linesize = ly;
    }
    return pp;
}

GvPoolPic *gv_picpool_get(GvPicPool *p, atomic_int *cancel)
{
    GvPoolPic *pp = NULL;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        if (p->n_free > 0) {
            pp = p->free_list[--p->n_free];
            break;
        }
        if (p->n_alloc < p->max) {
            pp = new_pic(p);
            if (pp)
                p->all[p->n_alloc++] = pp;
            break;
        }
        if (atomic_load(cancel))
            break;
        const double t0 = gv_now_s();
        gv_cond_wait_poll(&p->cond, &p->lock);
        p->wait_s += gv_now_s() - t0;
    }
    pthread_mutex_unlock(&p->lock);
    return pp;
}

void gv_picpool_put(void *opaque)
{
    GvPoolPic *const pp = opaque;
    GvPicPool *const p = pp->pool;
    pthread_mutex_lock(&p->lock);
    p->free_list[p->n_free++] = pp;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

int gv_framequeue_init(GvFrameQueue *q, int cap, atomic_int *cancel)
{
    memset(q, 0, sizeof(*q));
    q->pics = calloc((size_t)cap, sizeof(*q->pics));
    q->frames = calloc((size_t)cap, sizeof(*q->frames));
    if (!q->pics || !q->frames) {
        free(q->pics);
        free(q->frames);
        q->pics = NULL;
        q->frames = NULL;
        return -ENOMEM;
    }
    q->cap = cap;
    q->cancel = cancel;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->cond, NULL);
    return 0;
}

/* With q->lock held. */
static void drain(GvFrameQueue *q)
{
    while (q->len > 0) {
        gv_picpool_put(q->pics[q->head]);
        q->head = (q->head + 1) % q->cap;
        q->len--;
    }
}

void gv_framequeue_free(GvFrameQueue *q)
{
    if (!q->pics)
        return;
    drain(q);
    free(q->pics);
    free(q->frames);
    q->pics = NULL;
    q->frames = NULL;
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->cond);
}

/* With q->lock held: why the queue stopped, or 0 while it runs. */
static int stopped(const GvFrameQueue *q)
{
    if (atomic_load(q->cancel))
        return GV_ERR_CANCELLED;
    return q->error;
}

int gv_framequeue_push(GvFrameQueue *q, GvPoolPic *pp, int64_t frame)
{
    pthread_mutex_lock(&q->lock);
    if (q->len == q->cap && !stopped(q)) {
        const double t0 = gv_now_s();
        while (q->len == q->cap && !stopped(q))
            gv_cond_wait_poll(&q->cond, &q->lock);
        q->push_wait_s += gv_now_s() - t0;
    }
    const int ret = stopped(q);
    if (ret < 0) {
        pthread_mutex_unlock(&q->lock);
        gv_picpool_put(pp);
        return ret;
    }
    const int slot = (q->head + q->len) % q->cap;
    q->pics[slot] = pp;
    q->frames[slot] = frame;
    q->len++;
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
    return 0;
}

int gv_framequeue_pop(GvFrameQueue *q, GvPoolPic **pp, int64_t *frame)
{
    pthread_mutex_lock(&q->lock);
    if (q->len == 0 && !q->end && !stopped(q)) {
        const double t0 = gv_now_s();
        while (q->len == 0 && !q->end && !stopped(q))
            gv_cond_wait_poll(&q->cond, &q->lock);
        q->pop_wait_s += gv_now_s() - t0;
    }
    int ret = stopped(q);
    if (ret == 0 && q->len > 0) {
        *pp = q->pics[q->head];
        *frame = q->frames[q->head];
        q->head = (q->head + 1) % q->cap;
        q->len--;
        ret = 1;
        pthread_cond_broadcast(&q->cond);
    }
    pthread_mutex_unlock(&q->lock);
    return ret;
}

void gv_framequeue_end(GvFrameQueue *q)
{
    pthread_mutex_lock(&q->lock);
    q->end = 1;
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
}

void gv_framequeue_fail(GvFrameQueue *q, int err)
{
    pthread_mutex_lock(&q->lock);
    if (!q->error)
        q->error = err;
    drain(q);
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
}

int gv_framequeue_error(GvFrameQueue *q)
{
    pthread_mutex_lock(&q->lock);
    const int err = q->error;
    pthread_mutex_unlock(&q->lock);
    return err;
}
