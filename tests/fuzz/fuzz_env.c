/*
 * libFuzzer target: .env text through gv_env_parse, every pair through
 * gv_settings_set, then gv_settings_validate on the result, the way the
 * CLI layers a .env file onto the defaults.
 *
 * The input is also split at its first NUL into KEY and VALUE and set
 * directly, so that keys and values the .env syntax cannot express (a
 * leading space, a '#') reach the value parsers too.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gridvid/gridvid.h"
#include "layout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void count_image(void *opaque, const int k)
{
    (void)k;
    (*(int *)opaque)++;
}

/* Settings that validate must give a layout, as the pipeline builds it:
 * its geometry and timing must hold for every value validate lets by. */
static void check_layout(const GvSettings *s, const int n_images)
{
    const GvLayoutParams lp = gv_layout_params(s, n_images);
    GvLayout l;
    const int r = gv_layout_init(&l, &lp);
    if (r == 0) {
        if (l.frames < 1 || l.n_lanes < 1)
            abort();
        GvOffset *const offs = calloc((size_t)l.n_lanes * (size_t)s->motion_blur, sizeof(*offs));
        const int64_t at[3] = { 0, l.frames / 2, l.frames - 1 };
        for (int i = 0; offs && i < 3; i++) {
            gv_frame_offsets(&l, at[i], offs);
            for (int j = 0; j < l.n_lanes * s->motion_blur; j++) {
                const int64_t period = l.lanes[j % l.n_lanes].period;
                if (offs[j].frac < 0 || offs[j].frac >= GV_FRAC_ONE ||
                    (period > 0 && (offs[j].pos < 0 || offs[j].pos >= period)))
                    abort();
            }
            int seen = 0;
            if (gv_frame_images(&l, at[i], count_image, &seen) != seen || seen > n_images)
                abort();
        }
        free(offs);
        /* Every frame is visited: only for small enough plans. */
        if (l.frames * s->motion_blur * l.n_lanes <= 200000) {
            int64_t *const first = malloc(sizeof(int64_t) * (size_t)n_images);
            int64_t *const last = malloc(sizeof(int64_t) * (size_t)n_images);
            if (first && last) {
                gv_layout_lifetimes(&l, first, last);
                for (int k = 0; k < n_images; k++)
                    if (first[k] > last[k] || last[k] >= l.frames || (first[k] < 0) != (last[k] < 0))
                        abort();
            }
            free(first);
            free(last);
        }
    } else if (r != -22 && r != -12) {
        abort();
    }
    gv_layout_free(&l);
}

/* Settings borrow their strings: the parser's scratch dies with the
 * callback, so each value is copied into an arena kept until the end. */
typedef struct Arena {
    char **v;
    size_t n, cap;
    GvSettings *s;
} Arena;

static int keep(Arena *a, const char *value, const char **out)
{
    if (a->n == a->cap) {
        const size_t cap = a->cap ? 2 * a->cap : 16;
        char **const v = realloc(a->v, cap * sizeof(*v));
        if (!v)
            return -1;
        a->v = v;
        a->cap = cap;
    }
    if (!(a->v[a->n] = strdup(value)))
        return -1;
    *out = a->v[a->n++];
    return 0;
}

static int on_pair(void *opaque, const char *key, const char *value, const int line)
{
    Arena *const a = opaque;
    if (line < 1)
        abort();
    const char *v;
    if (keep(a, value, &v) < 0)
        return 0;
    char err[256];
    const int r = gv_settings_set(a->s, key, v, err, sizeof(err));
    /* The contract: 0, GV_ERR_SETTING or -ENOENT, and a terminated message. */
    if (r != 0 && r != GV_ERR_SETTING && r != -2)
        abort();
    if (strnlen(err, sizeof(err)) == sizeof(err) || (r == 0) != (err[0] == '\0'))
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, const size_t size)
{
    GvSettings s;
    gv_default_settings(&s);
    Arena a = { NULL, 0, 0, &s };
    char err[512];

    const int r = gv_env_parse((const char *)data, size, on_pair, &a, err, sizeof(err));
    if (r != 0 && r != GV_ERR_SETTING)
        abort();
    if ((r == 0) != (err[0] == '\0'))
        abort();

    /* KEY\0VALUE straight into gv_settings_set. */
    const uint8_t *const nul = memchr(data, 0, size);
    if (nul && nul > data) {
        char *const key = strndup((const char *)data, (size_t)(nul - data));
        const size_t vlen = size - (size_t)(nul - data) - 1;
        char *const value = malloc(vlen + 1);
        if (key && value) {
            memcpy(value, nul + 1, vlen);
            value[vlen] = '\0';
            const char *v;
            if (keep(&a, value, &v) == 0)
                gv_settings_set(&s, key, v, err, sizeof(err));
        }
        free(key);
        free(value);
    }

    /* Validate as the CLI would, with one input so that the inputs
     * check does not hide the rest. */
    static const char *const inputs[] = { "in" };
    s.inputs = inputs;
    s.n_inputs = 1;
    const int v = gv_settings_validate(&s, err, sizeof(err));
    if (v != 0 && v != GV_ERR_SETTING)
        abort();
    if ((v == 0) != (err[0] == '\0'))
        abort();
    if (v == 0)
        check_layout(&s, 1 + (int)(size % 97));

    for (size_t i = 0; i < a.n; i++)
        free(a.v[i]);
    free(a.v);
    return 0;
}
