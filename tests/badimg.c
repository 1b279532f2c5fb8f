/*
 * Makes the bad and unusual inputs the reliability tests need, the ones
 * vips and ffmpeg will not write, and measures a command's peak memory:
 *
 *   badimg png-header W H OUT        a PNG whose IHDR claims W x H (valid
 *                                    CRCs, one small IDAT, IEND)
 *   badimg exif IN.jpg N OUT.jpg     IN with an APP1 Exif segment saying
 *                                    orientation N inserted after SOI
 *   badimg ppms DIR N                N 8x8 PPM files DIR/img00001.ppm ...
 *   badimg maxrss FILE CMD [ARG...]  runs CMD, writes its peak resident
 *                                    memory in KiB to FILE, exits as CMD
 *
 * Everything is generated at test time: no binary is kept in the tree.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static uint32_t crc_table[256];

static void crc_init(void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[n] = c;
    }
}

static uint32_t crc32_of(const uint8_t *p, const size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++)
        c = crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
}

static void put32(uint8_t *p, const uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* One chunk: length, type, data, CRC over type and data. */
static int write_chunk(FILE *f, const char *type, const uint8_t *data, const uint32_t len)
{
    uint8_t buf[4 + 4 + 64];
    if (len > 64)
        return -1;
    put32(buf, len);
    memcpy(buf + 4, type, 4);
    if (len)
        memcpy(buf + 8, data, len);
    uint8_t crc[4];
    put32(crc, crc32_of(buf + 4, 4 + len));
    return fwrite(buf, 1, 8 + len, f) == 8 + len && fwrite(crc, 1, 4, f) == 4 ? 0 : -1;
}

static int png_header(const uint32_t w, const uint32_t h, const char *path)
{
    FILE *const f = fopen(path, "wb");
    if (!f)
        return -1;
    uint8_t ihdr[13];
    put32(ihdr, w);
    put32(ihdr + 4, h);
    ihdr[8] = 8;  /* bit depth */
    ihdr[9] = 2;  /* RGB */
    ihdr[10] = ihdr[11] = ihdr[12] = 0;
    /* A zlib stream of one stored empty block: far too little data for
     * the picture, as a decompression bomb's header would be. */
    static const uint8_t idat[] = { 0x78, 0x01, 0x01, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01 };
    const int ok = fwrite("\x89PNG\r\n\x1a\n", 1, 8, f) == 8 && !write_chunk(f, "IHDR", ihdr, 13) &&
                   !write_chunk(f, "IDAT", idat, sizeof(idat)) && !write_chunk(f, "IEND", NULL, 0);
    return fclose(f) == 0 && ok ? 0 : -1;
}

static int exif(const char *in, const int orientation, const char *out)
{
    FILE *const f = fopen(in, "rb");
    if (!f)
        return -1;
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            uint8_t *const t = realloc(buf, cap = cap ? 2 * cap : 65536);
            if (!t) {
                free(buf);
                fclose(f);
                return -1;
            }
            buf = t;
        }
        const size_t got = fread(buf + n, 1, cap - n, f);
        if (!got)
            break;
        n += got;
    }
    fclose(f);
    if (n < 2 || buf[0] != 0xff || buf[1] != 0xd8) {
        fprintf(stderr, "%s: not a JPEG\n", in);
        free(buf);
        return -1;
    }
    /* APP1: "Exif\0\0", a big-endian TIFF header, IFD0 with one entry
     * (0x0112 Orientation, SHORT, 1 value) and no next IFD. */
    const uint8_t app1[] = {
        0xff, 0xe1, 0x00, 34,
        'E', 'x', 'i', 'f', 0, 0,
        'M', 'M', 0x00, 0x2a, 0x00, 0x00, 0x00, 0x08,
        0x00, 0x01,
        0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, (uint8_t)orientation, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00,
    };
    FILE *const o = fopen(out, "wb");
    if (!o) {
        free(buf);
        return -1;
    }
    const int ok = fwrite(buf, 1, 2, o) == 2 && fwrite(app1, 1, sizeof(app1), o) == sizeof(app1) &&
                   fwrite(buf + 2, 1, n - 2, o) == n - 2;
    free(buf);
    return fclose(o) == 0 && ok ? 0 : -1;
}

static int ppms(const char *dir, const int count)
{
    char path[4096];
    uint8_t px[8 * 8 * 3];
    for (int i = 1; i <= count; i++) {
        snprintf(path, sizeof(path), "%s/img%05d.ppm", dir, i);
        FILE *const f = fopen(path, "wb");
        if (!f)
            return -1;
        for (int k = 0; k < 64; k++) {
            px[3 * k] = (uint8_t)(i * 7);
            px[3 * k + 1] = (uint8_t)(i * 13);
            px[3 * k + 2] = (uint8_t)(i * 29);
        }
        const int ok = fprintf(f, "P6\n8 8\n255\n") > 0 && fwrite(px, 1, sizeof(px), f) == sizeof(px);
        if (fclose(f) != 0 || !ok)
            return -1;
    }
    return 0;
}

static int maxrss(const char *file, char **argv)
{
    const pid_t pid = fork();
    if (pid < 0)
        return 127;
    if (pid == 0) {
        execvp(argv[0], argv);
        perror(argv[0]);
        _exit(127);
    }
    int status;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0)
        if (errno != EINTR)
            return 127;
    FILE *const f = fopen(file, "w");
    if (f) {
        fprintf(f, "%ld\n", ru.ru_maxrss);
        fclose(f);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char **argv)
{
    crc_init();
    if (argc == 5 && !strcmp(argv[1], "png-header"))
        return png_header((uint32_t)strtoul(argv[2], NULL, 10), (uint32_t)strtoul(argv[3], NULL, 10),
                          argv[4]) ? 1 : 0;
    if (argc == 5 && !strcmp(argv[1], "exif"))
        return exif(argv[2], atoi(argv[3]), argv[4]) ? 1 : 0;
    if (argc == 4 && !strcmp(argv[1], "ppms"))
        return ppms(argv[2], atoi(argv[3])) ? 1 : 0;
    if (argc >= 4 && !strcmp(argv[1], "maxrss"))
        return maxrss(argv[2], argv + 3);
    fprintf(stderr, "usage: badimg png-header W H OUT | exif IN N OUT | ppms DIR N | "
                    "maxrss FILE CMD [ARG...]\n");
    return 2;
}
