#version 450
/*
 * Tile scaling: the Lanczos-3 of src/resample.c in two passes over one
 * work buffer (words, offsets in the push constants):
 *   [source bytes][x weights][x firsts][y weights][y firsts][tmp floats]
 * pass 0, one invocation per (x < dw, y < sh): tmp = the row filtered
 *   horizontally (RGBA put over bg first);
 * pass 1, one invocation per (x < dw, y < dh): out = tmp filtered
 *   vertically, rounded to even and clamped, one word a pixel (R | G << 8
 *   | B << 16).
 * The sums run in the order of the C loops and are `precise` (no fused
 * multiply-add), so they round as the CPU's do.
 */
layout(local_size_x = 16, local_size_y = 16) in;

layout(std430, binding = 0) buffer Work { uint w[]; } work;
layout(std430, binding = 1) writeonly buffer Out { uint o[]; } result;

layout(push_constant) uniform Params {
    uint pass_, sw, sh, bands, dw, dh, nx, ny;
    uint wx, fx, wy, fy, tmp, bg;
} p;

uint byte_at(uint i)
{
    return (work.w[i >> 2] >> ((i & 3u) * 8u)) & 255u;
}

float flatten(uint c, uint a, uint bg)
{
    return float((2u * (a * c + (255u - a) * bg) + 255u) / 510u);
}

void main()
{
    const uint x = gl_GlobalInvocationID.x, y = gl_GlobalInvocationID.y;
    if (p.pass_ == 0u) {
        if (x >= p.dw || y >= p.sh)
            return;
        const int first = int(work.w[p.fx + x]);
        precise vec3 acc = vec3(0.0);
        for (uint j = 0u; j < p.nx; j++) {
            const uint sx = uint(clamp(first + int(j), 0, int(p.sw) - 1));
            const uint at = (y * p.sw + sx) * p.bands;
            vec3 px = vec3(float(byte_at(at)), float(byte_at(at + 1u)), float(byte_at(at + 2u)));
            if (p.bands == 4u) {
                const uint a = byte_at(at + 3u);
                px = vec3(flatten(byte_at(at), a, p.bg & 255u),
                          flatten(byte_at(at + 1u), a, (p.bg >> 8) & 255u),
                          flatten(byte_at(at + 2u), a, (p.bg >> 16) & 255u));
            }
            const float wt = uintBitsToFloat(work.w[p.wx + x * p.nx + j]);
            precise vec3 prod = wt * px;
            acc = acc + prod;
        }
        const uint t = p.tmp + (y * p.dw + x) * 3u;
        work.w[t] = floatBitsToUint(acc.r);
        work.w[t + 1u] = floatBitsToUint(acc.g);
        work.w[t + 2u] = floatBitsToUint(acc.b);
    } else {
        if (x >= p.dw || y >= p.dh)
            return;
        const int first = int(work.w[p.fy + y]);
        precise vec3 acc = vec3(0.0);
        for (uint j = 0u; j < p.ny; j++) {
            const uint sy = uint(clamp(first + int(j), 0, int(p.sh) - 1));
            const uint t = p.tmp + (sy * p.dw + x) * 3u;
            const vec3 v = vec3(uintBitsToFloat(work.w[t]), uintBitsToFloat(work.w[t + 1u]),
                                uintBitsToFloat(work.w[t + 2u]));
            const float wt = uintBitsToFloat(work.w[p.wy + y * p.ny + j]);
            precise vec3 prod = wt * v;
            acc = acc + prod;
        }
        const uvec3 c = uvec3(clamp(ivec3(roundEven(acc)), ivec3(0), ivec3(255)));
        result.o[y * p.dw + x] = c.r | (c.g << 8) | (c.b << 16);
    }
}
