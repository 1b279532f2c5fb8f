#!/usr/bin/env python3
"""The Python binding as a bench/run.sh contender: takes the command line
that run.sh gives gridvid (INPUT -o OUT --flag VALUE ... --progress json),
renders it with gridvid.render() and prints the same JSON progress lines,
so that the binding's overhead is measured against the command line on
the same photos. Only the flags run.sh passes are understood."""
import json
import os
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
# the build tree's copy of the package, next to the gridvid binary
sys.path.insert(0, os.environ.get("GV_PYTHON_DIR", os.path.join(here, "..", "build", "python")))
import gridvid  # noqa: E402


def main(argv):
    flags = {i.flag: i.key for i in gridvid.settings_info() if i.flag}
    inputs, output, settings, progress = [], None, {}, False
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "-o":
            output = argv[i + 1]
            i += 2
        elif a == "--progress":
            progress = argv[i + 1] == "json"
            i += 2
        elif a in flags:
            settings[flags[a].lower()] = argv[i + 1]
            i += 2
        elif a.startswith("-"):
            sys.exit("gridvid_py: unknown flag " + a)
        else:
            inputs.append(a)
            i += 1
    t0 = time.monotonic()

    def show(p):
        if progress:
            print(json.dumps({"phase": p.phase, "frame": p.frames_done, "frames": p.frames_total,
                              "elapsed": round(time.monotonic() - t0, 3)},
                             separators=(",", ":")), flush=True)

    summary = gridvid.render(inputs, output, progress=show, **settings)
    if progress:
        print(json.dumps({"phase": "done", "exit": 0, "frames": summary["frames"],
                          "seconds": summary["seconds"]}, separators=(",", ":")), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
