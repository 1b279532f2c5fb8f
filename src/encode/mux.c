/*
 * The output file and the encoder's life: the entry points that open it
 * (settings checked, audio file read, file created, encoder opened,
 * header written), finish it (trailer, moov moved to the front) and free it.
 */
#include "internal.h"

#include "cputime.h"

#include <errno.h>
#include <stdlib.h>

#include <libavutil/avstring.h>
#include <libavutil/dict.h>
#include <libavutil/imgutils.h>
#include <libavutil/mem.h>

/* ---------------------------------------------------------------- */
/* Output file                                                        */

static int open_output(GvEncoder *const e, const GvEncodeParams *const p, const Container *const ct)
{
    char why[256];
    const AVOutputFormat *const of = av_guess_format(ct->muxer, NULL, NULL);
    if (!of) {
        gv_log(e->log, GV_LOG_ERROR, "this FFmpeg cannot write %s", ct->muxer);
        return GV_ERR_ENCODE;
    }
    int ret = avformat_alloc_output_context2(&e->fmt, of, NULL, p->path);
    if (ret < 0) {
        gv_log(e->log, GV_LOG_ERROR, "cannot set up the %s muxer: %s", ct->muxer,
               gv_enc_reason(e, ret, 0, why, sizeof(why)));
        return gv_enc_codec_error(ret);
    }
    if ((ret = avio_open(&e->fmt->pb, p->path, AVIO_FLAG_WRITE)) < 0) {
        gv_log(e->log, GV_LOG_ERROR, "cannot write %s: %s", p->name ? p->name : p->path,
               gv_enc_reason(e, ret, 1, why, sizeof(why)));
        return gv_enc_io_error(ret);
    }
    return 0;
}

static int start_stream(GvEncoder *const e, const Container *const ct, const CodecInfo *const ci)
{
    char why[256];
    AVDictionary *opts = NULL;
    int ret = 0;

    e->st = avformat_new_stream(e->fmt, NULL);
    if (!e->st)
        return -ENOMEM;
    if ((ret = avcodec_parameters_from_context(e->st->codecpar, e->cc)) < 0)
        return gv_enc_codec_error(ret);
    if (ct->isobmff && ci->id == AV_CODEC_ID_HEVC)
        e->st->codecpar->codec_tag = MKTAG('h', 'v', 'c', '1'); /* Apple plays only hvc1 */
    /* Matroska's AlphaMode: players (browsers) look for the VP9 alpha there */
    if (e->alpha && ci->id == AV_CODEC_ID_VP9 &&
        (ret = av_dict_set(&e->st->metadata, "alpha_mode", "1", 0)) < 0)
        return gv_enc_codec_error(ret);
    e->st->time_base = e->cc->time_base;
    e->st->avg_frame_rate = e->cc->framerate;
    e->st->r_frame_rate = e->cc->framerate;
    if (e->audio && (ret = gv_enc_audio_add_stream(e)) < 0)
        return ret;
    /* an animated WebP or GIF loops forever */
    if ((ci->id == AV_CODEC_ID_WEBP || ci->id == AV_CODEC_ID_GIF) &&
        (ret = av_dict_set(&opts, "loop", "0", 0)) < 0) {
        av_dict_free(&opts);
        return gv_enc_codec_error(ret);
    }
    /* the last frame of a GIF lasts until the loop's length, in the
     * hundredths of a second its delays are counted in */
    if (ci->id == AV_CODEC_ID_GIF && e->frames > 0) {
        const AVRational cs = { 1, 100 };
        const int64_t last = av_rescale_q(e->frames, e->cc->time_base, cs) -
                             av_rescale_q(e->frames - 1, e->cc->time_base, cs);
        if ((ret = av_dict_set_int(&opts, "final_delay", last, 0)) < 0) {
            av_dict_free(&opts);
            return gv_enc_codec_error(ret);
        }
    }
    if (ct->isobmff && (ret = av_dict_set(&opts, "movflags", "+faststart", 0)) < 0) {
        av_dict_free(&opts);
        return gv_enc_codec_error(ret);
    }
    ret = avformat_write_header(e->fmt, &opts);
    av_dict_free(&opts);
    if (ret < 0) {
        gv_log(e->log, GV_LOG_ERROR, "writing %s: %s", e->path,
               gv_enc_reason(e, ret, 1, why, sizeof(why)));
        return gv_enc_io_error(ret);
    }
    return 0;
}

static int encoder_open(GvEncoder **const out, const GvEncodeParams *const p)
{
    char err[512];
    Choice ch;
    int ret = 0;

    *out = NULL;
    gv_enc_log_init();
    GvEncoder *const e = calloc(1, sizeof(*e));
    if (!e)
        return -ENOMEM;
    GvEncoder *const prev = gv_enc_enter(e);
    e->log = p->log;
    e->width = p->width;
    e->height = p->height;
    e->frames = p->frames > 0 ? p->frames : 0;
    e->sw_format = AV_PIX_FMT_YUV420P;
    e->fail_at = p->fail_at_frame > 0 ? p->fail_at_frame : 0;

    if (!p->path) {
        ret = -EINVAL;
        goto end;
    }
    if ((ret = gv_enc_choose(p->name, p->codec, p->encoder, p->alpha, &ch, err, sizeof(err))) < 0) {
        gv_log(e->log, GV_LOG_ERROR, "%s", err);
        goto end;
    }
    if (p->width <= 0 || p->height <= 0 || (p->width | p->height) & 1 ||
        av_image_check_size((unsigned)p->width, (unsigned)p->height, 0, NULL) < 0) {
        gv_log(e->log, GV_LOG_ERROR, "cannot encode %dx%d: the size must be even and positive",
               p->width, p->height);
        ret = GV_ERR_SETTING;
        goto end;
    }
    if (p->fps_num <= 0 || p->fps_den <= 0) {
        gv_log(e->log, GV_LOG_ERROR, "FPS: '%d/%d' is not valid", p->fps_num, p->fps_den);
        ret = GV_ERR_SETTING;
        goto end;
    }
    e->ci = ch.ci;
    e->alpha = p->alpha;
    const int animated = ch.ci->id == AV_CODEC_ID_WEBP || ch.ci->id == AV_CODEC_ID_GIF;
    const char *const kind = ch.ci->id == AV_CODEC_ID_GIF ? "GIF" : "WebP";
    if (ch.ci->id == AV_CODEC_ID_GIF && (ret = gv_enc_gif_check(p, err, sizeof(err))) < 0) {
        gv_log(e->log, GV_LOG_ERROR, "%s", err);
        goto end;
    }
    /* a bad audio file is a bad setting: found before the output exists */
    if (p->audio && *p->audio && animated) {
        gv_log(e->log, GV_LOG_WARNING, "AUDIO: an animated %s holds no sound: left out", kind);
    } else if (p->audio && *p->audio && (ret = gv_enc_audio_open(e, p, ch.ct)) < 0) {
        goto end;
    }
    /* animated images are for the web: say when one will be heavy */
    if (animated && ((int64_t)p->width * p->height > 1280 * 720 || p->fps_num > 30 * p->fps_den))
        gv_log(e->log, GV_LOG_WARNING,
               "an animated %s of %dx%d at %.3g fps is heavy for the web: --size 720p or "
               "smaller and --fps 15 to 25 keep it light", kind, p->width, p->height,
               (double)p->fps_num / p->fps_den);
    e->path = av_strdup(p->name ? p->name : p->path);
    e->pkt = av_packet_alloc();
    e->frame = av_frame_alloc();
    if (!e->path || !e->pkt || !e->frame) {
        ret = -ENOMEM;
        goto end;
    }
    if ((ret = open_output(e, p, ch.ct)) < 0)
        goto end;
    if ((ret = gv_enc_video_open(e, p, &ch)) < 0)
        goto end;
    if ((ret = start_stream(e, ch.ct, ch.ci)) < 0)
        goto end;

end:
    gv_enc_leave(prev);
    if (ret < 0) {
        GvEncoder *tmp = e;
        gv_encoder_close(&tmp);
    } else {
        *out = e;
    }
    return ret;
}

int gv_encoder_open(GvEncoder **const out, const GvEncodeParams *const p)
{
    /* The encoder's threads start in avcodec_open2 and take the name of
     * the thread that starts them: their CPU time can then be told apart
     * from gridvid's own (cputime.h). */
    char old[16];
    gv_thread_name_set(old, GV_ENCODER_THREAD);
    const int ret = encoder_open(out, p);
    gv_thread_name_restore(old);
    return ret;
}

int gv_encoder_finish(GvEncoder *const e)
{
    char why[256];
    int ret = 0;
    GvEncoder *const prev = gv_enc_enter(e);

    if (e->state != ST_OPEN) {
        ret = GV_ERR_ENCODE;
        goto end;
    }
    if (e->frames && e->next != e->frames) {
        gv_log(e->log, GV_LOG_ERROR, "finishing %s: %lld of %lld frames were given", e->path,
               (long long)e->next, (long long)e->frames);
        ret = GV_ERR_ENCODE;
        goto end;
    }
    if ((ret = gv_enc_video_flush(e)) < 0)
        goto end;
    if (e->audio && (ret = gv_enc_audio_finish(e)) < 0)
        goto end;
    /* with faststart this also rewrites the file to put moov first */
    if ((ret = av_write_trailer(e->fmt)) < 0) {
        gv_log(e->log, GV_LOG_ERROR, "finishing %s: %s", e->path,
               gv_enc_reason(e, ret, 1, why, sizeof(why)));
        ret = gv_enc_io_error(ret);
        goto end;
    }
    if ((ret = avio_closep(&e->fmt->pb)) < 0) {
        gv_log(e->log, GV_LOG_ERROR, "closing %s: %s", e->path,
               gv_enc_reason(e, ret, 1, why, sizeof(why)));
        ret = gv_enc_io_error(ret);
        goto end;
    }
    e->state = ST_FINISHED;

end:
    if (ret < 0)
        e->state = ST_FAILED;
    gv_enc_leave(prev);
    return ret;
}

const char *gv_encoder_name(const GvEncoder *const e)
{
    return e ? e->name : "";
}

void gv_encoder_close(GvEncoder **const pe)
{
    if (!pe || !*pe)
        return;
    GvEncoder *const e = *pe;
    GvEncoder *const prev = gv_enc_enter(e);
    /* An unfinished encoder is told the stream ended so that it stops
     * cleanly (SVT-AV1 complains on stderr otherwise); frames it still
     * holds are released as it is freed. */
    if (e->cc && e->state != ST_FINISHED && avcodec_is_open(e->cc))
        avcodec_send_frame(e->cc, NULL);
    avcodec_free_context(&e->cc);
    gv_enc_audio_free(&e->audio);
    gv_enc_gif_free(&e->gif);
    av_frame_free(&e->frame);
    av_frame_free(&e->hw_frame);
    av_packet_free(&e->pkt);
    if (e->fmt) {
        if (e->fmt->pb)
            avio_closep(&e->fmt->pb);
        avformat_free_context(e->fmt);
    }
    /* converted pictures still in flight keep the pool alive until they return */
    av_buffer_pool_uninit(&e->pool);
    av_freep(&e->path);
    gv_enc_leave(prev);
    free(e);
    *pe = NULL;
}

int gv_enc_write_packet(GvEncoder *const e)
{
    const int ret = av_interleaved_write_frame(e->fmt, e->pkt);
    if (ret >= 0)
        return 0;
    char why[256];
    gv_log(e->log, GV_LOG_ERROR, "writing %s: %s", e->path,
           gv_enc_reason(e, ret, 1, why, sizeof(why)));
    return gv_enc_io_error(ret);
}
