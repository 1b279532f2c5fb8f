"""python3 -m gridvid: the gridvid command, with the same arguments.

It runs the gridvid program that was installed with the library (or
$GRIDVID_EXECUTABLE), replacing this process, rather than parsing the
command line again in Python: flags, --help, .env and environment
precedence, progress output, signals and exit status are then those of
gridvid itself, and cannot drift from them.
"""
import os
import subprocess
import sys

from . import _lib


def main() -> int:
    candidates = _lib.executable_candidates()
    for exe in candidates:
        if os.path.isfile(exe) and os.access(exe, os.X_OK):
            break
    else:
        looked = ", ".join(candidates) or "it in PATH"
        sys.stderr.write("gridvid: the gridvid program is not installed (looked for %s; set "
                         "GRIDVID_EXECUTABLE to its path)\n" % looked)
        return 127
    argv = [exe] + sys.argv[1:]
    sys.stdout.flush()
    sys.stderr.flush()
    if hasattr(os, "execv"):
        os.execv(exe, argv)
    return subprocess.call(argv)  # pragma: no cover (no exec on this system)


if __name__ == "__main__":
    sys.exit(main())
