#!/usr/bin/env python3
"""Writes python/gridvid/_settings.py, the Settings TypedDict through which
editors show the settings keywords of the Python binding, from the
library's own settings table (gv_setting_info()).

    GRIDVID_LIBRARY=build/libgridvid.so.0 PYTHONPATH=python \\
        python3 scripts/python_settings.py > python/gridvid/_settings.py

tests/test_python.py fails, naming this script, when the file differs
from what it would write: run it after adding a settings key.
"""
import sys

import gridvid

HEADER = '''"""Settings: the keywords of render(), start(), preview() and plan(),
for editors and type checkers. Written by scripts/python_settings.py from
the library's settings table; do not edit.

Each keyword is a settings key in lower case. Values are text as on the
command line, or Python values (bool, int, float, Fraction, a path, and
tuples where shown). At run time the library's table decides what is
valid; this file only describes it.
"""
from __future__ import annotations

import os
from fractions import Fraction
from typing import Tuple, Union

try:
    from typing import Literal, TypedDict
except ImportError:  # Python 3.7
    from typing_extensions import Literal, TypedDict  # type: ignore[assignment]

Number = Union[int, float, str]
Pathish = Union[str, "os.PathLike[str]"]


class Settings(TypedDict, total=False):
'''

# Value types where the argument's name says more than "text".
BY_KEY = {
    "SIZE": "Union[str, Tuple[int, int]]",
    "ASPECT": "Union[str, Tuple[int, int]]",
    "FPS": "Union[int, float, Fraction, str, Tuple[int, int]]",
    "BACKGROUND": "Union[str, Tuple[int, int, int]]",
    "OUTPUT_FILENAME": "Pathish", "AUDIO": "Pathish", "TEMP_DIR": "Pathish",
    "PREVIEW": "Pathish", "LOGO": "Pathish",
}
BY_ARG = {
    "BOOL": "Union[bool, str]",
    "N": "Union[int, str]", "PIXELS": "Union[int, str]", "MIB": "Union[int, str]",
    "MIB|auto": "Union[int, str]", "BITS": "Union[int, str]",
    "SECONDS": "Number", "PX_PER_S": "Number",
    "PERCENT": "Number", "DEGREES": "Number", "FACTOR": "Number",
}


def annotation(info: gridvid.SettingInfo) -> str:
    if info.key in BY_KEY:
        return BY_KEY[info.key]
    if info.arg is None:
        return "Union[bool, str]"
    if info.arg in BY_ARG:
        return BY_ARG[info.arg]
    words = info.arg.split("|")
    if len(words) > 1 and all(w.isalpha() and w.islower() for w in words):
        literal = "Literal[%s]" % ", ".join(repr(w) for w in words)
        return "Union[bool, %s]" % literal if "true" in words else literal
    return "str"


def main() -> int:
    out = [HEADER]
    for info in gridvid.settings_info():
        out.append("    %s: %s\n" % (info.keyword, annotation(info)))
        doc = "%s. Key %s, flag %s%s, default %s." % (
            info.help[:1].upper() + info.help[1:], info.key, info.flag,
            " " + info.arg if info.arg else "", info.default)
        out.append('    """%s"""\n' % doc.replace("\\", "\\\\").replace('"""', '\\"\\"\\"'))
    sys.stdout.write("".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
