/*
 * Choosing the container (from the output's name), the codec and the
 * encoder, and checking that they go together, before any work.
 */
#include "internal.h"

#include <stdio.h>
#include <string.h>

#include <libavutil/avstring.h>

/*
 * Encoders of each codec of codecs.h: the software ones (the first
 * available is used), then the hardware ones in the order auto tries them:
 * VideoToolbox, NVENC, VAAPI, Quick Sync.
 */
#define ENCODERS_H264 { "libx264" }, \
    { "h264_videotoolbox", "h264_nvenc", "h264_vaapi", "h264_qsv" }
#define ENCODERS_HEVC { "libx265" }, \
    { "hevc_videotoolbox", "hevc_nvenc", "hevc_vaapi", "hevc_qsv" }
#define ENCODERS_AV1 { "libsvtav1", "libaom-av1" }, { NULL, "av1_nvenc", "av1_vaapi", "av1_qsv" }
#define ENCODERS_PRORES { "prores_ks" }, { "prores_videotoolbox" }
#define ENCODERS_VP9 { "libvpx-vp9" }, { NULL, NULL, "vp9_vaapi", "vp9_qsv" }
/* animated WebP, for the web: loops, no sound */
#define ENCODERS_WEBP { "libwebp_anim" }, { NULL }
/* animated GIF: libavcodec's own encoder, fed by src/encode/gif.c */
#define ENCODERS_GIF { "gif" }, { NULL }

/* Indexed by GvCodec. */
static const CodecInfo codecs[GV_CODEC_COUNT] = {
#define CODEC_INFO(id, name, alias) { name, AV_CODEC_ID_##id, ENCODERS_##id },
    GV_CODECS(CODEC_INFO)
#undef CODEC_INFO
};
#define N_CODECS ((int)(sizeof(codecs) / sizeof(codecs[0])))

/* The count and the list of the codecs a container holds. */
#define HOLDS(...) (int)(sizeof((const GvCodec[]){ __VA_ARGS__ }) / sizeof(GvCodec)), \
    { __VA_ARGS__ }

static const Container containers[] = {
    { "mp4", "mp4", HOLDS(GV_CODEC_H264, GV_CODEC_HEVC, GV_CODEC_AV1, GV_CODEC_VP9), 1 },
    { "mov", "mov", HOLDS(GV_CODEC_H264, GV_CODEC_HEVC, GV_CODEC_PRORES), 1 },
    { "mkv", "matroska",
      HOLDS(GV_CODEC_H264, GV_CODEC_HEVC, GV_CODEC_AV1, GV_CODEC_VP9, GV_CODEC_PRORES), 0 },
    { "webm", "webm", HOLDS(GV_CODEC_VP9, GV_CODEC_AV1), 0 },
    { "webp", "webp", HOLDS(GV_CODEC_WEBP), 0 },
    { "gif", "gif", HOLDS(GV_CODEC_GIF), 0 },
};
#define N_CONTAINERS ((int)(sizeof(containers) / sizeof(containers[0])))

static const Container *find_container(const char *const name)
{
    const char *const slash = strrchr(name, '/');
    const char *const dot = strrchr(slash ? slash + 1 : name, '.');
    if (!dot)
        return NULL;
    for (int i = 0; i < N_CONTAINERS; i++)
        if (!av_strcasecmp(dot + 1, containers[i].ext))
            return &containers[i];
    return NULL;
}

static const CodecInfo *codec_by_name(const char *const name)
{
    for (int i = 0; i < N_CODECS; i++)
        if (!av_strcasecmp(name, codecs[i].name))
            return &codecs[i];
    return NULL;
}

static const CodecInfo *codec_by_id(const enum AVCodecID id)
{
    for (int i = 0; i < N_CODECS; i++)
        if (codecs[i].id == id)
            return &codecs[i];
    return NULL;
}

static int container_holds(const Container *const ct, const CodecInfo *const ci)
{
    for (int i = 0; i < ct->n_codecs; i++)
        if (&codecs[ct->codecs[i]] == ci)
            return 1;
    return 0;
}

/* The names of list[0 .. n - 1] (NULL: of every codec), joined by ", ",
 * the last one by `last`. */
static void list_codecs(const GvCodec *const list, const int n, const char *const last,
                        char *const buf, const size_t len)
{
    buf[0] = 0;
    for (int i = 0; i < n; i++)
        av_strlcatf(buf, len, "%s%s", !i ? "" : i == n - 1 ? last : ", ",
                    codecs[list ? list[i] : (GvCodec)i].name);
}

static int ends_with(const char *const s, const char *const suffix)
{
    const size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && !strcmp(s + ls - lx, suffix);
}

HwKind gv_enc_hw_kind(const AVCodec *const c)
{
    static const struct {
        const char *suffix;
        HwKind kind;
    } wrappers[] = {
        { "_videotoolbox", HW_VIDEOTOOLBOX }, { "_nvenc", HW_NVENC },   { "_vaapi", HW_VAAPI },
        { "_qsv", HW_QSV },                   { "_amf", HW_OTHER },     { "_v4l2m2m", HW_OTHER },
        { "_omx", HW_OTHER },                 { "_mf", HW_OTHER },      { "_mediacodec", HW_OTHER },
    };
    for (size_t i = 0; i < sizeof(wrappers) / sizeof(wrappers[0]); i++)
        if (ends_with(c->name, wrappers[i].suffix))
            return wrappers[i].kind;
    if (c->capabilities & (AV_CODEC_CAP_HARDWARE | AV_CODEC_CAP_HYBRID))
        return HW_OTHER;
    return HW_NONE;
}

const AVCodec *gv_enc_software_encoder(const CodecInfo *const ci)
{
    for (int i = 0; i < 2 && ci->software[i]; i++) {
        const AVCodec *const c = avcodec_find_encoder_by_name(ci->software[i]);
        if (c)
            return c;
    }
    return NULL;
}

static int is_auto(const char *const encoder)
{
    return !encoder || !*encoder || !strcmp(encoder, "auto");
}

/* The encoder named by ENCODER, when not auto, sets ch->named and ch->ci. */
static int choose_named(const char *const encoder, Choice *const ch, char *const err,
                        const size_t errlen)
{
    char list[128];
    ch->named = avcodec_find_encoder_by_name(encoder);
    if (!ch->named || ch->named->type != AVMEDIA_TYPE_VIDEO) {
        snprintf(err, errlen,
                 "ENCODER: '%s' is not valid: not a video encoder of this FFmpeg "
                 "(auto, or a name such as libx264 or h264_nvenc)",
                 encoder);
        return GV_ERR_SETTING;
    }
    const CodecInfo *const own = codec_by_id(ch->named->id);
    if (!own) {
        list_codecs(NULL, N_CODECS, " or ", list, sizeof(list));
        snprintf(err, errlen,
                 "ENCODER: '%s' is not valid: it encodes %s; accepted are encoders of %s",
                 encoder, avcodec_get_name(ch->named->id), list);
        return GV_ERR_SETTING;
    }
    ch->ci = own;
    return 0;
}

/* Whether gridvid writes alpha with this codec in this container (a
 * transparent background): VP9's alpha is a Matroska block addition, which
 * MP4 has no place for. */
static int keeps_alpha(const CodecInfo *const ci, const Container *const ct)
{
    return ci->id == AV_CODEC_ID_PRORES || ci->id == AV_CODEC_ID_WEBP ||
           (ci->id == AV_CODEC_ID_VP9 && !ct->isobmff);
}

int gv_enc_choose(const char *const name, const char *const codec, const char *const encoder,
                  const int alpha, Choice *const ch, char *const err, const size_t errlen)
{
    char list[128];
    int ret;
    memset(ch, 0, sizeof(*ch));

    ch->ct = name ? find_container(name) : NULL;
    if (!ch->ct) {
        snprintf(err, errlen,
                 "OUTPUT_FILENAME: '%s' is not valid: the name must end in .mp4, .mov, .mkv, "
                 ".webm, .webp or .gif",
                 name ? name : "");
        return GV_ERR_SETTING;
    }
    if (!is_auto(encoder) && (ret = choose_named(encoder, ch, err, errlen)) < 0)
        return ret;
    if (codec && *codec) {
        const CodecInfo *const ci = codec_by_name(codec);
        if (!ci) {
            list_codecs(NULL, N_CODECS, ", ", list, sizeof(list));
            snprintf(err, errlen, "CODEC: '%s' is not valid: accepted are %s", codec, list);
            return GV_ERR_SETTING;
        }
        if (ch->ci && ch->ci != ci) {
            snprintf(err, errlen, "ENCODER: '%s' is not valid: it encodes %s, but CODEC is %s",
                     encoder, ch->ci->name, ci->name);
            return GV_ERR_SETTING;
        }
        ch->ci = ci;
    }
    /* auto: the container's default, or with alpha its first codec that keeps it */
    for (int i = 0; !ch->ci && alpha && i < ch->ct->n_codecs; i++)
        if (keeps_alpha(&codecs[ch->ct->codecs[i]], ch->ct))
            ch->ci = &codecs[ch->ct->codecs[i]];
    if (!ch->ci)
        ch->ci = &codecs[ch->ct->codecs[0]];
    if (alpha && !keeps_alpha(ch->ci, ch->ct)) {
        snprintf(err, errlen, "BACKGROUND: 'transparent' needs an output that keeps alpha: "
                 ".mov or .mkv (ProRes 4444), .webm or .mkv (VP9) or .webp; %s in .%s has none",
                 ch->ci->name, ch->ct->ext);
        return GV_ERR_SETTING;
    }
    if (alpha && ch->named && gv_enc_hw_kind(ch->named) != HW_NONE) {
        snprintf(err, errlen, "BACKGROUND: 'transparent' needs a software encoder: %s keeps no "
                 "alpha", ch->named->name);
        return GV_ERR_SETTING;
    }
    if (!container_holds(ch->ct, ch->ci)) {
        list_codecs(ch->ct->codecs, ch->ct->n_codecs, ", ", list, sizeof(list));
        snprintf(err, errlen, "CODEC: '%s' cannot be written to .%s: accepted there: %s",
                 ch->ci->name, ch->ct->ext, list);
        return GV_ERR_SETTING;
    }
    /* auto, and a hardware encoder that fails, end with the software one */
    if ((!ch->named || gv_enc_hw_kind(ch->named) != HW_NONE) &&
        !gv_enc_software_encoder(ch->ci)) {
        snprintf(err, errlen, "CODEC: '%s' is not valid: this FFmpeg has no %s%s%s encoder",
                 ch->ci->name, ch->ci->software[0], ch->ci->software[1] ? " or " : "",
                 ch->ci->software[1] ? ch->ci->software[1] : "");
        return GV_ERR_SETTING;
    }
    if (!av_guess_format(ch->ct->muxer, NULL, NULL)) {
        snprintf(err, errlen, "OUTPUT_FILENAME: '%s' is not valid: this FFmpeg cannot write %s",
                 name, ch->ct->muxer);
        return GV_ERR_SETTING;
    }
    return 0;
}

int gv_encoder_check(const char *const name, const char *const codec, const char *const encoder,
                     const int alpha, char *const err, const size_t errlen)
{
    char buf[512];
    Choice ch;
    const int ret = gv_enc_choose(name, codec, encoder, alpha, &ch, buf, sizeof(buf));
    if (ret < 0 && err && errlen)
        av_strlcpy(err, buf, errlen);
    return ret;
}
