#include "sink.h"
#include "cputime.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "png.h"
#include "threads.h"

int gv_sink_keep_frames(GvSink *k, const char *parent, const GvLog *log)
{
    snprintf(k->png_dir, sizeof(k->png_dir), "%s/gridvid-frames-XXXXXX", parent);
    if (!mkdtemp(k->png_dir)) {
        gv_log(log, GV_LOG_ERROR, "cannot create a frame folder in %s: %s", parent,
               strerror(errno));
        k->png_dir[0] = 0;
        return GV_ERR_IO;
    }
    gv_log(log, GV_LOG_WARNING, "STREAM_PROCESSING=false: frames kept in %s", k->png_dir);
    return 0;
}

static int write_png_frame(const GvSink *k, const GvPoolPic *pp, int64_t frame)
{
    char path[PATH_MAX + 32], reason[256];
    snprintf(path, sizeof(path), "%s/frame_%06lld.png", k->png_dir, (long long)frame);
    const int ret = gv_picture_write_png(&pp->pic, path, reason, sizeof(reason));
    if (ret < 0 && ret != -ENOMEM) {
        gv_log(k->log, GV_LOG_ERROR, "%s: %s", path, reason);
        return GV_ERR_IO;
    }
    return ret;
}

static void *sink_main(void *arg)
{
    gv_thread_name("gv-sink");
    GvSink *const k = arg;
    GvPoolPic *pp;
    int64_t frame;
    while (gv_framequeue_pop(k->in, &pp, &frame) > 0) {
        int ret = 0;
        if (k->png_dir[0])
            ret = write_png_frame(k, pp, frame);
        if (ret == 0)
            ret = gv_encoder_send(k->enc, &pp->pic, frame, gv_picpool_put, pp);
        else
            gv_picpool_put(pp);
        if (ret < 0) {
            gv_framequeue_fail(k->in, ret);
            break;
        }
        atomic_fetch_add(&k->frames_done, 1);
    }
    k->thread_cpu = gv_thread_cpu_s();
    return NULL;
}

int gv_sink_start(GvSink *k, GvFrameQueue *in, GvEncoder *enc, const GvLog *log)
{
    k->in = in;
    k->enc = enc;
    k->log = log;
    atomic_init(&k->frames_done, 0);
    if (pthread_create(&k->thread, NULL, sink_main, k) != 0)
        return -EAGAIN;
    k->started = 1;
    return 0;
}

void gv_sink_join(GvSink *k)
{
    if (k->started)
        pthread_join(k->thread, NULL);
    k->started = 0;
}

void gv_sink_discard_frames(GvSink *k)
{
    if (!k->png_dir[0])
        return;
    char path[PATH_MAX + 32];
    const int64_t upto = atomic_load(&k->frames_done) + 1;
    for (int64_t i = 0; i < upto; i++) {
        snprintf(path, sizeof(path), "%s/frame_%06lld.png", k->png_dir, (long long)i);
        unlink(path);
    }
    rmdir(k->png_dir);
}
