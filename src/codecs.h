/*
 * The video codecs gridvid writes: the one list of their names, for the
 * settings (src/config.c) and the encoder's tables (src/encode/choose.c).
 * No dependencies, so the settings need no libav to check a name.
 */
#ifndef GV_CODECS_H
#define GV_CODECS_H

/*
 * X(ID, name, alias): ID names the enumerator GV_CODEC_ID and, in
 * src/encode/, libavcodec's AV_CODEC_ID_ID; name is the canonical
 * spelling that every later stage compares; alias is another spelling
 * CODEC accepts, or NULL.
 */
#define GV_CODECS(X)            \
    X(H264, "h264", NULL)       \
    X(HEVC, "hevc", "h265")     \
    X(AV1, "av1", NULL)         \
    X(PRORES, "prores", NULL)   \
    X(VP9, "vp9", NULL)         \
    X(WEBP, "webp", NULL)       \
    X(GIF, "gif", NULL)

typedef enum GvCodec {
#define GV_CODEC_ENUM(id, name, alias) GV_CODEC_##id,
    GV_CODECS(GV_CODEC_ENUM)
#undef GV_CODEC_ENUM
    GV_CODEC_COUNT
} GvCodec;

#endif
