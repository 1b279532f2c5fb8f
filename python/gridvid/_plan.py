"""The dry run's plan, from the lines the library gives (src/plan.c writes
them, the same as `gridvid --dry-run` prints), as a dict.

A line that does not have the expected shape keeps its text, under its
name, so a new wording loses nothing; "lines" always has every line as
the library wrote it.
"""
from __future__ import annotations

import re
from typing import Any, Callable, Dict, List, Optional, Tuple

_INT = r"(-?\d+)"
_NUM = r"(-?[\d.]+(?:e[-+]?\d+)?|inf|nan)"


def _inputs(m: "re.Match[str]") -> Dict[str, Any]:
    return {"used": int(m[1]), "skipped": int(m[2]), "demo": bool(m[3])}


def _frame(m: "re.Match[str]") -> Dict[str, Any]:
    return {"width": int(m[1]), "height": int(m[2]), "fps": (int(m[3]), int(m[4])),
            "duration": float(m[5]), "frames": int(m[6]), "motion_blur": int(m[7])}


def _tiles(m: "re.Match[str]") -> Dict[str, Any]:
    return {"width": int(m[1]), "height": int(m[2]), "crop": m[3], "gap": int(m[4])}


def _layout(m: "re.Match[str]") -> Dict[str, Any]:
    return {"kind": m[1], "lanes": int(m[2]), "first": int(m[5]), "easing": m[6],
            "images_shown": int(m[7])}


def _lane(m: "re.Match[str]") -> Dict[str, Any]:
    return {"index": int(m[2]), "position": int(m[4]), "images": int(m[5]),
            "period": int(m[6]), "travel": float(m[7]), "speed": float(m[8]),
            "direction": m[9]}


def _preview(m: "re.Match[str]") -> Dict[str, Any]:
    return {"at": float(m[1]), "path": m[2]}


_Parser = Tuple["re.Pattern[str]", Callable[["re.Match[str]"], Dict[str, Any]]]
_PARSERS: Dict[str, _Parser] = {
    "inputs": (re.compile(_INT + r" images used, " + _INT
                          + r" skipped( \(generated demo images\))?$"), _inputs),
    "frame": (re.compile(_INT + "x" + _INT + ", " + _INT + "/" + _INT + " fps, " + _NUM + " s, "
                         + _INT + " frames, motion blur " + _INT + "$"), _frame),
    "tiles": (re.compile(_INT + "x" + _INT + r", crop (\S+), gap " + _INT + "$"), _tiles),
    "layout": (re.compile(r"(rows|columns), " + _INT + r" (rows|columns) from (x|y) " + _INT
                          + r", easing (\S+), " + _INT + " images shown$"), _layout),
    "preview": (re.compile(r"frame at " + _NUM + r" s -> (.*)$"), _preview),
}
_LANE = re.compile(r"(row|column) " + _INT + ": (x|y) " + _INT + ", " + _INT + " images, period "
                   + _INT + " px, travel " + _NUM + " px, " + _NUM + r" px/s, (\S+)$")


def parse(lines: List[str]) -> Dict[str, Any]:
    """inputs, frame, tiles, layout and preview as dicts of numbers and
    names; lanes as a list of dicts (one per row or column); decoder and
    encoder as text; lines, the plan as written."""
    plan: Dict[str, Any] = {"lanes": [], "lines": list(lines)}
    for line in lines:
        lane = _LANE.match(line)
        if lane:
            plan["lanes"].append(_lane(lane))
            continue
        name, sep, text = line.partition(": ")
        if not sep:
            plan.setdefault("other", []).append(line)
            continue
        parser: Optional[_Parser] = _PARSERS.get(name)
        m = parser[0].match(text) if parser else None
        plan[name] = parser[1](m) if parser and m else text
    return plan
