#version 450
/*
 * One frame of the photo wall, following the sampling contract of
 * src/render/compositor.h in exact integer arithmetic, so that the output
 * equals the CPU reference sample for sample.
 *
 * One invocation owns 8 luma samples of two lines (two 32-bit words of
 * each line) and the 4 U and 4 V samples under them (one word of each),
 * so every output word has a single writer. It walks the strip along the
 * motion, so that a division is paid per blur sample and line (rows) or
 * column (columns), not per sample. Bytes are packed and unpacked by
 * hand: 8-bit storage is an optional feature.
 */
layout(local_size_x = 16, local_size_y = 4) in;

/* Tile slots: Y, U, V planes of tile_w x tile_h bytes each. */
layout(std430, set = 0, binding = 0) readonly buffer Atlas { uint atlas[]; };

/*
 * Per frame: lanes[n_lanes] of 4 words {pos, period, n, 0}, then at
 * offs_base offsets[n_blur * n_lanes] of 2 words {pos, frac}, then at
 * slots_base the atlas slot of every image (-1: not resident).
 */
layout(std430, set = 0, binding = 1) readonly buffer Frame { uint fr[]; };

/* yuv420p with line strides in multiples of 4 bytes. */
layout(std430, set = 0, binding = 2) writeonly buffer Out { uint dst[]; };

layout(push_constant) uniform Consts {
    uint columns;     /* 0: lanes are rows, 1: columns */
    uint width, height;
    int first;        /* cross coordinate of lane 0's first line */
    uint pitch;       /* thick + gap */
    uint thick;
    uint step;        /* tile length along the motion */
    uint cstep;       /* step + gap */
    uint n_lanes, n_blur;
    uint tile_w;
    uint plane_bytes, slot_bytes;
    uint bg;          /* Y | U << 8 | V << 16 */
    uint stride_y, stride_c, off_u, off_v;
    uint offs_base, slots_base;
} pc;

uint byte_at(uint addr)
{
    return (atlas[addr >> 2] >> ((addr & 3u) << 3)) & 0xffu;
}

/*
 * A walk along a strip line: column, position in the column (the tile,
 * then the gap) and the atlas address of the line's first sample, so that
 * consecutive positions cost no division.
 */
struct Cursor {
    uint col;
    uint w;
    uint base;
    bool tile; /* the column's image is resident */
};

void load_column(inout Cursor c, uint r, uint t)
{
    const int slot = int(fr[pc.slots_base + c.col * pc.n_lanes + r]);
    c.tile = slot >= 0;
    c.base = uint(slot) * pc.slot_bytes + (pc.columns != 0u ? t : t * pc.tile_w);
}

Cursor seek(uint r, uint t, uint s)
{
    Cursor c;
    c.col = s / pc.cstep;
    c.w = s - c.col * pc.cstep;
    load_column(c, r, t);
    return c;
}

void advance(inout Cursor c, uint r, uint t, uint n)
{
    if (++c.w == pc.cstep) {
        c.w = 0u;
        if (++c.col == n)
            c.col = 0u;
        load_column(c, r, t);
    }
}

/* Y | U << 8 | V << 16 at the cursor (Y alone unless chroma). */
uint fetch(Cursor c, bool chroma)
{
    if (!c.tile || c.w >= pc.step)
        return pc.bg;
    const uint a = c.base + (pc.columns != 0u ? c.w * pc.tile_w : c.w);
    uint v = byte_at(a);
    if (chroma)
        v |= byte_at(a + pc.plane_bytes) << 8 | byte_at(a + 2u * pc.plane_bytes) << 16;
    return v;
}

uint Y(uint v) { return v & 0xffu; }
uint U(uint v) { return (v >> 8) & 0xffu; }
uint V(uint v) { return v >> 16; }

/* Lane of cross coordinate c: false for gaps, outside and empty lanes. */
bool lane_at(int c, out uint r, out uint t, out uint period, out uint n)
{
    r = 0u;
    t = 0u;
    period = 0u;
    n = 0u;
    const int rel = c - pc.first;
    if (rel < 0)
        return false;
    r = uint(rel) / pc.pitch;
    t = uint(rel) - r * pc.pitch;
    if (r >= pc.n_lanes || t >= pc.thick)
        return false;
    period = fr[4u * r + 1u];
    n = fr[4u * r + 2u];
    return period != 0u;
}

void main()
{
    const uint x0 = gl_GlobalInvocationID.x * 8u;
    const uint y0 = gl_GlobalInvocationID.y * 2u;
    if (x0 >= pc.width || y0 >= pc.height)
        return;
    const uint nb = pc.n_blur, ny = 256u * nb;
    uint ys[2][8];
    uint us[4], vs[4]; /* sums over both lines */
    for (uint i = 0u; i < 4u; i++) {
        us[i] = 0u;
        vs[i] = 0u;
    }

    if (pc.columns == 0u) {
        /* rows: a line lies in one lane; walk 9 strip positions along it */
        for (uint l = 0u; l < 2u; l++) {
            uint r, t, period, n;
            for (uint i = 0u; i < 8u; i++)
                ys[l][i] = 0u;
            if (!lane_at(int(y0 + l), r, t, period, n)) {
                for (uint i = 0u; i < 8u; i++)
                    ys[l][i] = Y(pc.bg) * ny;
                for (uint i = 0u; i < 4u; i++) {
                    us[i] += U(pc.bg) * ny;
                    vs[i] += V(pc.bg) * ny;
                }
                continue;
            }
            for (uint j = 0u; j < nb; j++) {
                const uint o = pc.offs_base + 2u * (j * pc.n_lanes + r);
                const uint frac = fr[o + 1u], fa = 256u - frac;
                /* x0 < 2^16 and pos < period < 2^31: no overflow */
                Cursor c = seek(r, t, (x0 + fr[o]) % period);
                uint a = fetch(c, true);
                for (uint i = 0u; i < 8u; i++) {
                    advance(c, r, t, n);
                    /* chroma reads positions 0..7 */
                    const uint b = fetch(c, i < 7u);
                    ys[l][i] += Y(a) * fa + Y(b) * frac;
                    if ((i & 1u) == 0u) {
                        us[i >> 1] += U(a) * fa + U(b) * frac;
                        vs[i >> 1] += V(a) * fa + V(b) * frac;
                    }
                    a = b;
                }
            }
        }
    } else {
        /* columns: a column of x lies in one lane; walk 3 positions down it */
        for (uint i = 0u; i < 8u; i++) {
            uint r, t, period, n;
            const bool chroma = (i & 1u) == 0u;
            ys[0][i] = 0u;
            ys[1][i] = 0u;
            if (!lane_at(int(x0 + i), r, t, period, n)) {
                ys[0][i] = Y(pc.bg) * ny;
                ys[1][i] = Y(pc.bg) * ny;
                if (chroma) {
                    us[i >> 1] = 2u * U(pc.bg) * ny;
                    vs[i >> 1] = 2u * V(pc.bg) * ny;
                }
                continue;
            }
            for (uint j = 0u; j < nb; j++) {
                const uint o = pc.offs_base + 2u * (j * pc.n_lanes + r);
                const uint frac = fr[o + 1u], fa = 256u - frac;
                Cursor c = seek(r, t, (y0 + fr[o]) % period);
                const uint a = fetch(c, chroma);
                advance(c, r, t, n);
                const uint b = fetch(c, chroma);
                advance(c, r, t, n);
                const uint d = fetch(c, chroma);
                ys[0][i] += Y(a) * fa + Y(b) * frac;
                ys[1][i] += Y(b) * fa + Y(d) * frac;
                if (chroma) {
                    us[i >> 1] += (U(a) + U(b)) * fa + (U(b) + U(d)) * frac;
                    vs[i >> 1] += (V(a) + V(b)) * fa + (V(b) + V(d)) * frac;
                }
            }
        }
    }

    uint words[2][2];
    uint cu = 0u, cv = 0u;
    for (uint l = 0u; l < 2u; l++) {
        words[l][0] = 0u;
        words[l][1] = 0u;
        for (uint i = 0u; i < 8u; i++)
            words[l][i >> 2] |= ((ys[l][i] + ny / 2u) / ny) << ((i & 3u) << 3);
    }
    for (uint i = 0u; i < 4u; i++) {
        cu |= ((us[i] + ny) / (2u * ny)) << (i << 3);
        cv |= ((vs[i] + ny) / (2u * ny)) << (i << 3);
    }
    const uint la = (y0 * pc.stride_y + x0) >> 2;
    const uint lb = la + (pc.stride_y >> 2);
    dst[la] = words[0][0];
    dst[lb] = words[1][0];
    /* a word that starts inside the line lies within the stride */
    if (x0 + 4u < pc.width) {
        dst[la + 1u] = words[0][1];
        dst[lb + 1u] = words[1][1];
    }
    const uint c = (gl_GlobalInvocationID.y * pc.stride_c + (x0 >> 1)) >> 2;
    dst[(pc.off_u >> 2) + c] = cu;
    dst[(pc.off_v >> 2) + c] = cv;
}
