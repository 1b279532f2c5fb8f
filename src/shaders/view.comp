#version 450
/*
 * One frame of the photo wall through the view (src/view.h): Ken Burns
 * zooms inside the tiles and a perspective camera. Every sample follows
 * gv_view_locate() and gv_view_fetch() in src/view.c in the same integer
 * arithmetic, so the frame equals the CPU reference sample for sample.
 *
 * One invocation owns 8 luma samples of two lines and the 4 U and 4 V
 * samples under them, so that every output word has a single writer.
 * Bytes are packed and unpacked by hand: 8-bit storage is optional.
 */
layout(local_size_x = 16, local_size_y = 4) in;

/* Tile slots: the mip chains of Y, U and V, chain_bytes each. */
layout(std430, set = 0, binding = 0) readonly buffer Atlas { uint atlas[]; };

/*
 * Per frame: lanes[n_lanes] of 4 words {pos, period, n, src}; at offs_base
 * offsets[n_blur * n_lanes] of {pos, frac}; at slots_base the atlas slot
 * of every image (-1: not resident); at levels_base {w, h, offset} of
 * every mip level; at runs_base runs[n_blur * n_lanes] of {first, base,
 * count}; at insts_base the tile copies {ax, bx, ay, by, lod}.
 */
layout(std430, set = 0, binding = 1) readonly buffer Frame { int fr[]; };

/* yuv420p with line strides in multiples of 4 bytes. */
layout(std430, set = 0, binding = 2) writeonly buffer Out { uint dst[]; };

/* The camera map: {x, y, lod | fade << 16} per luma pixel (has_map). */
layout(std430, set = 0, binding = 3) readonly buffer Map { int cam[]; };

layout(push_constant) uniform Consts {
    uint columns;     /* 0: lanes are rows, 1: columns */
    uint width, height;
    int first;        /* cross coordinate of lane 0's first line */
    uint pitch;       /* thick + gap */
    uint thick;
    uint step;        /* tile length along the motion */
    uint cstep;       /* step + gap */
    uint n_lanes, n_blur;
    uint chain_bytes, slot_bytes;
    uint bg;          /* Y | U << 8 | V << 16 */
    uint stride_y, stride_c, off_u, off_v;
    uint offs_base, slots_base, levels_base, runs_base, insts_base;
    uint has_map, levels;
    int kc;           /* strip columns added to keep positions non-negative */
    uint rows;        /* R: image k is in row k mod R */
} pc;

uint byte_at(uint addr)
{
    return (atlas[addr >> 2] >> ((addr & 3u) << 3)) & 0xffu;
}

/* 256 x the bilinear value of level lv of the chain at base. */
uint bilinear(uint base, uint lv, int sx8, int sy8)
{
    const int w = fr[pc.levels_base + 3u * lv], h = fr[pc.levels_base + 3u * lv + 1u];
    const uint px = base + uint(fr[pc.levels_base + 3u * lv + 2u]);
    const int x = ((sx8 + 128) >> lv) - 128, y = ((sy8 + 128) >> lv) - 128;
    const int x0 = ((x + 256) >> 8) - 1, y0 = ((y + 256) >> 8) - 1;
    const uint fx = uint(x) & 255u, fy = uint(y) & 255u;
    const uint xa = uint(clamp(x0, 0, w - 1)), xb = uint(clamp(x0 + 1, 0, w - 1));
    const uint ya = uint(clamp(y0, 0, h - 1)), yb = uint(clamp(y0 + 1, 0, h - 1));
    const uint uw = uint(w);
    const uint top = byte_at(px + ya * uw + xa) * (256u - fx) + byte_at(px + ya * uw + xb) * fx;
    const uint bot = byte_at(px + yb * uw + xa) * (256u - fx) + byte_at(px + yb * uw + xb) * fx;
    return (top * (256u - fy) + bot * fy + 128u) >> 8;
}

/* 256 x the plane's value at luma pixel (x, y), blur sample j. */
uint view_sample(uint x, uint y, uint j, uint plane)
{
    const uint bg = ((pc.bg >> (8u * plane)) & 0xffu) * 256u;
    int wx, wy, lod = 0;
    uint fade = 256u;
    if (pc.has_map != 0u) {
        const uint i = 3u * (y * pc.width + x);
        const uint aux = uint(cam[i + 2u]);
        if (aux == 0xffffffffu)
            return bg;
        wx = cam[i];
        wy = cam[i + 1u];
        lod = int(aux & 0xffffu) - 32768;
        fade = aux >> 16;
    } else {
        wx = int(x) * 256;
        wy = int(y) * 256;
    }
    const int cross8 = pc.columns != 0u ? wx : wy, main8 = pc.columns != 0u ? wy : wx;
    const int rel = cross8 - pc.first * 256;
    if (rel < 0)
        return bg;
    const uint pitch8 = pc.pitch * 256u;
    const uint r = uint(rel) / pitch8, t8 = uint(rel) - r * pitch8;
    if (r >= pc.n_lanes || t8 >= pc.thick * 256u)
        return bg;
    const uint n = uint(fr[4u * r + 2u]);
    if (n == 0u)
        return bg;
    const uint o = pc.offs_base + 2u * (j * pc.n_lanes + r);
    const uint cstep8 = pc.cstep * 256u;
    const uint us = uint(main8 + pc.kc * int(cstep8)) + uint(fr[o] * 256 + fr[o + 1u]);
    const uint cb = us / cstep8, w8 = us - cb * cstep8;
    if (w8 >= pc.step * 256u)
        return bg;
    const uint col = (cb % n + n - uint(pc.kc) % n) % n;
    const int slot = fr[pc.slots_base + col * pc.rows + uint(fr[4u * r + 3u])];
    const uint ro = pc.runs_base + 3u * (j * pc.n_lanes + r);
    const int idx = int(cb) - pc.kc - fr[ro];
    if (slot < 0 || idx < 0 || idx >= fr[ro + 2u])
        return bg;
    const uint ii = pc.insts_base + 5u * uint(fr[ro + 1u] + idx);
    const uint tx8 = pc.columns != 0u ? t8 : w8, ty8 = pc.columns != 0u ? w8 : t8;
    uint hi, lo;
    umulExtended(tx8, uint(fr[ii]), hi, lo);
    const int sx8 = max(int((hi << 16) | (lo >> 16)) + fr[ii + 1u], -128);
    umulExtended(ty8, uint(fr[ii + 2u]), hi, lo);
    const int sy8 = max(int((hi << 16) | (lo >> 16)) + fr[ii + 3u], -128);
    const uint base = uint(slot) * pc.slot_bytes + plane * pc.chain_bytes;
    uint val;
    if (pc.levels > 1u) {
        const int lv8 = clamp(lod + fr[ii + 4u], 0, int(pc.levels - 1u) * 256);
        const uint lv = uint(lv8) >> 8, lf = uint(lv8) & 255u;
        val = bilinear(base, lv, sx8, sy8);
        if (lf != 0u)
            val = (val * (256u - lf) + bilinear(base, lv + 1u, sx8, sy8) * lf + 128u) >> 8;
    } else {
        val = bilinear(base, 0u, sx8, sy8);
    }
    if (fade < 256u)
        val = (val * fade + bg * (256u - fade) + 128u) >> 8;
    return val;
}

void main()
{
    const uint x0 = gl_GlobalInvocationID.x * 8u;
    const uint y0 = gl_GlobalInvocationID.y * 2u;
    if (x0 >= pc.width || y0 >= pc.height)
        return;
    const uint nb = pc.n_blur, ny = 256u * nb;
    uint words[2][2];
    uint cu = 0u, cv = 0u;
    for (uint l = 0u; l < 2u; l++) {
        words[l][0] = 0u;
        words[l][1] = 0u;
        for (uint i = 0u; i < 8u; i++) {
            /* samples past the line's end fill the stride's padding */
            const uint x = min(x0 + i, pc.width - 1u);
            uint acc = 0u;
            for (uint j = 0u; j < nb; j++)
                acc += view_sample(x, y0 + l, j, 0u);
            words[l][i >> 2] |= ((acc + ny / 2u) / ny) << ((i & 3u) << 3);
        }
    }
    for (uint i = 0u; i < 4u; i++) {
        const uint x = min(x0 + 2u * i, pc.width - 2u);
        uint su = 0u, sv = 0u;
        for (uint j = 0u; j < nb; j++) {
            su += view_sample(x, y0, j, 1u) + view_sample(x, y0 + 1u, j, 1u);
            sv += view_sample(x, y0, j, 2u) + view_sample(x, y0 + 1u, j, 2u);
        }
        cu |= ((su + ny) / (2u * ny)) << (i << 3);
        cv |= ((sv + ny) / (2u * ny)) << (i << 3);
    }
    const uint la = (y0 * pc.stride_y + x0) >> 2;
    const uint lb = la + (pc.stride_y >> 2);
    dst[la] = words[0][0];
    dst[lb] = words[1][0];
    if (x0 + 4u < pc.width) {
        dst[la + 1u] = words[0][1];
        dst[lb + 1u] = words[1][1];
    }
    const uint c = (gl_GlobalInvocationID.y * pc.stride_c + (x0 >> 1)) >> 2;
    dst[(pc.off_u >> 2) + c] = cu;
    dst[(pc.off_v >> 2) + c] = cv;
}
