#!/usr/bin/env python3
"""Writes a file as a C string: embed.py NAME INPUT OUTPUT (for the PTX
of src/gpu/*.cu, loaded by the CUDA driver at run time)."""
import sys

name, src, dst = sys.argv[1:4]
data = open(src, "rb").read()
with open(dst, "w") as out:
    out.write("/* generated from %s by scripts/embed.py */\n" % src.split("/")[-1])
    out.write("static const char %s[] = {\n" % name)
    for i in range(0, len(data), 16):
        out.write("    " + ", ".join("0x%02x" % b for b in data[i:i + 16]) + ",\n")
    out.write("    0x00\n};\n")
