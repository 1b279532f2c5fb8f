/*
 * JPEG header reader: the markers before the first scan, with no
 * dependency, so that gridvid can decide per file, before decoding,
 * whether the GPU's hardware JPEG decoder may take it or libvips must.
 * Every input is untrusted: no read goes past the buffer, the number of
 * markers and of EXIF and ICC entries is bounded, and nothing loops on
 * offsets found in the file. All functions are pure and thread-safe.
 */
#ifndef GV_JPEGINFO_H
#define GV_JPEGINFO_H

#include <stddef.h>
#include <stdint.h>

/* Markers read before giving up on a file. */
#define GV_JPEG_MAX_MARKERS 1000

typedef struct GvJpegInfo {
    int width, height;    /* from the frame header, 1..65535 */
    int components;       /* 1..4: 1 grey, 3 YCbCr or RGB, 4 CMYK or YCCK */
    int precision;        /* bits per sample: 8 or 12 (2..16 lossless) */
    int sof;              /* n of the SOFn marker: 0 baseline, 1 extended, 2 progressive,
                           * 3 lossless, 5..7 and 13..15 hierarchical, 9..15 arithmetic */
    int id[4];            /* component identifiers */
    int h[4], v[4];       /* sampling factors per component, 1..4 */
    int orientation;      /* EXIF orientation 1..8; 1 when absent or invalid */
    int has_icc;          /* an APP2 ICC_PROFILE segment is present */
    int icc_srgb;         /* ... and its description, in the first segment, names sRGB */
    int adobe_transform;  /* APP14 Adobe transform byte, -1 when absent */
    int restart_interval; /* DRI, 0 when absent */
    int has_dht;          /* the Huffman tables the first scan uses are defined before it */
    int qt_missing;       /* a component's quantization table is not defined by then */
    int qt16;             /* a 16-bit quantization table is defined */
} GvJpegInfo;

/*
 * Reads the markers of data[0..len) up to and including the header of the
 * first SOS. Returns 0 and fills *info, or -EINVAL when the data is not a
 * JPEG or its header is malformed or truncated (then *info is left as it
 * was). Never reads outside data[0..len).
 */
int gv_jpeg_info(const uint8_t *data, size_t len, GvJpegInfo *info);

/*
 * Whether the hardware decoder may take the image: SOF0 or SOF1, 8-bit,
 * Huffman and quantization tables present (8-bit ones), 1 component or 3
 * YCbCr ones with luma sampled 1x1, 2x1, 1x2 or 2x2 and chroma 1x1, no ICC
 * profile other than sRGB, and at most max_pixels pixels (0: no limit).
 * Returns 1, or 0 with a short static reason in *why ("progressive",
 * "CMYK", "12-bit", "ICC profile", ...). why may be NULL; it is set to
 * NULL when the image is accepted.
 */
int gv_jpeg_engine_ok(const GvJpegInfo *info, uint64_t max_pixels, const char **why);

#endif
