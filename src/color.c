#include "color.h"

#include <math.h>

/* BT.709 luma coefficients. */
#define KR 0.2126
#define KB 0.0722
#define KG (1.0 - KR - KB)

static uint8_t clamp_u8(double v)
{
    if (v < 0.0)
        return 0;
    if (v > 255.0)
        return 255;
    return (uint8_t)lround(v);
}

void gv_rgb_to_yuv(uint8_t r, uint8_t g, uint8_t b, uint8_t *y, uint8_t *u, uint8_t *v)
{
    const double rf = r / 255.0, gf = g / 255.0, bf = b / 255.0;
    const double yf = KR * rf + KG * gf + KB * bf;
    *y = clamp_u8(16.0 + 219.0 * yf);
    *u = clamp_u8(128.0 + 224.0 * (bf - yf) / (2.0 * (1.0 - KB)));
    *v = clamp_u8(128.0 + 224.0 * (rf - yf) / (2.0 * (1.0 - KR)));
}

void gv_yuv_to_rgb(uint8_t y, uint8_t u, uint8_t v, uint8_t *r, uint8_t *g, uint8_t *b)
{
    const double yf = (y - 16.0) / 219.0;
    const double pb = (u - 128.0) / 224.0, pr = (v - 128.0) / 224.0;
    const double rf = yf + 2.0 * (1.0 - KR) * pr;
    const double bf = yf + 2.0 * (1.0 - KB) * pb;
    const double gf = (yf - KR * rf - KB * bf) / KG;
    *r = clamp_u8(rf * 255.0);
    *g = clamp_u8(gf * 255.0);
    *b = clamp_u8(bf * 255.0);
}
