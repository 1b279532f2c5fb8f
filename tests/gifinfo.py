#!/usr/bin/env python3
"""Reads a GIF's block structure and prints what the tests check:
the global colour table's size, the loop count, each frame's delay
(hundredths of a second) and how many frames carry a colour table of
their own.
Usage: gifinfo.py FILE  (exit 1 on a malformed file)."""
import sys


def skip_subblocks(d, i):
    while True:
        n = d[i]
        i += 1
        if n == 0:
            return i
        i += n


def main(path):
    d = open(path, 'rb').read()
    if d[:6] not in (b'GIF87a', b'GIF89a'):
        sys.exit('not a GIF')
    w, h = int.from_bytes(d[6:8], 'little'), int.from_bytes(d[8:10], 'little')
    flags = d[10]
    gct = 2 << (flags & 7) if flags & 0x80 else 0
    i = 13 + 3 * gct
    loop = None
    delay = None
    frames = []
    while i < len(d):
        b = d[i]
        if b == 0x3B:
            break
        if b == 0x21:
            label = d[i + 1]
            if label == 0xF9:
                delay = int.from_bytes(d[i + 4:i + 6], 'little')
                i = skip_subblocks(d, i + 2)
            elif label == 0xFF and d[i + 3:i + 14] == b'NETSCAPE2.0':
                loop = int.from_bytes(d[i + 16:i + 18], 'little')
                i = skip_subblocks(d, i + 2)
            else:
                i = skip_subblocks(d, i + 2)
        elif b == 0x2C:
            lflags = d[i + 9]
            lct = 2 << (lflags & 7) if lflags & 0x80 else 0
            frames.append((delay, lct))
            delay = None
            i += 10 + 3 * lct + 1  # descriptor, table, LZW minimum code size
            i = skip_subblocks(d, i)
        else:
            sys.exit('bad block 0x%02x at %d' % (b, i))
    print('size %dx%d' % (w, h))
    print('global_colours %d' % gct)
    print('loop %s' % ('none' if loop is None else loop))
    print('frames %d' % len(frames))
    print('local_tables %d' % sum(1 for f in frames if f[1]))
    print('delays %s' % ' '.join(str(f[0]) for f in frames))


main(sys.argv[1])
