"""libgridvid through ctypes: the structs and functions of <gridvid/gridvid.h>.

The structs mirror the header field for field, in the same order and with
the same names. tests/test_python.py compiles a program that prints every
offset and size as the C compiler lays them out and compares them with
these, so a change to the header that is not made here too fails the tests.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
import threading
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char, c_char_p, c_double, c_int,
                    c_int64, c_size_t, c_uint, c_uint8, c_uint64, c_void_p)
from typing import List, Optional

# Error codes beyond negated errno values (GV_ERR_*).
ERR_SETTING = -10001
ERR_BAD_INPUT = -10002
ERR_CANCELLED = -10003
ERR_DECODE = -10004
ERR_ENCODE = -10005
ERR_GPU = -10006
ERR_IO = -10007

# Enumerations, by their values in the header.
LOG_ERROR, LOG_WARNING, LOG_INFO, LOG_DEBUG = range(4)
PHASES = ("scan", "render", "finish")  # GvPhase

# The library's version this binding was written for: the major version
# must match (the ABI may change between minor versions while it is 0,
# which the layout test guards).
VERSION_MAJOR = 0


class GvProgress(Structure):
    _fields_ = [
        ("phase", c_int),
        ("frames_done", c_int64),
        ("frames_total", c_int64),
        ("images_total", c_int),
        ("images_skipped", c_int),
        ("elapsed_s", c_double),
    ]


LogCallback = CFUNCTYPE(None, c_void_p, c_int, c_char_p)
ProgressCallback = CFUNCTYPE(None, c_void_p, POINTER(GvProgress))
PlanCallback = CFUNCTYPE(None, c_void_p, c_char_p)
EnvCallback = CFUNCTYPE(c_int, c_void_p, c_char_p, c_char_p, c_int)


class GvSettings(Structure):
    _fields_ = [
        ("inputs", POINTER(c_char_p)),
        ("n_inputs", c_int),
        ("demo", c_int),
        ("recursive", c_int),
        ("order", c_int),
        ("shuffle_seed", c_uint64),
        ("strict", c_int),
        ("max_pixels", c_uint64),
        ("output", c_char_p),
        ("preview", c_char_p),
        ("preview_at", c_double),
        ("width", c_int),
        ("height", c_int),
        ("fps_num", c_int),
        ("fps_den", c_int),
        ("duration", c_double),
        ("aspect_w", c_int),
        ("aspect_h", c_int),
        ("tile_height", c_int),
        ("crop", c_int),
        ("layout", c_int),
        ("rows", c_int),
        ("gap", c_int),
        ("background", c_uint8 * 3),
        ("direction", c_int),
        ("easing", c_int),
        ("speed", c_double),
        ("motion_blur", c_int),
        ("threads", c_int),
        ("batch", c_int),
        ("gpu", c_int),
        ("gpu_memory_mib", c_int),
        ("gpu_device", c_char_p),
        ("encoder", c_char_p),
        ("codec", c_char_p),
        ("crf", c_int),
        ("preset", c_char_p),
        ("bitrate", c_int64),
        ("audio", c_char_p),
        ("stream", c_int),
        ("temp_dir", c_char_p),
        ("videotoolbox", c_int),
        ("log", LogCallback),
        ("log_opaque", c_void_p),
        ("log_level", c_int),
        ("progress", ProgressCallback),
        ("progress_opaque", c_void_p),
        ("plan", PlanCallback),
        ("plan_opaque", c_void_p),
        ("dry_run", c_int),
        ("gpu_decode", c_int),
        ("memory_limit_mib", c_int),
        ("clip_loop", c_int),
        ("clip_start", c_int),
        ("live_photos", c_int),
        ("ken_burns", c_double),
        ("camera", c_int),
        ("tilt", c_double),
        ("turn", c_double),
        ("fov", c_double),
        ("distance", c_double),
        ("depth_fade", c_double),
        ("title", c_char_p),
        ("subtitle", c_char_p),
        ("title_duration", c_double),
        ("font", c_char_p),
        ("title_size", c_int),
        ("text_color", c_uint8 * 3),
        ("text_style", c_int),
        ("caption", c_char_p),
        ("caption_size", c_int),
        ("logo", c_char_p),
        ("logo_position", c_int),
        ("logo_size", c_double),
        ("beat_sync", c_int),
        ("transparent", c_int),
        ("reserved", c_uint8 * 40),
    ]


class GvSummary(Structure):
    _fields_ = [
        ("images_used", c_int),
        ("images_skipped", c_int),
        ("frames", c_int64),
        ("seconds", c_double),
        ("output_bytes", c_int64),
        ("encoder", c_char * 64),
        ("compositor", c_char * 64),
        ("cpu_s", c_double),
        ("encoder_cpu_s", c_double),
        ("tiles_gpu_scaled", c_int),
        ("tiles_engine", c_int),
        ("tiles_engine_refused", c_int),
        ("clips", c_int),
        ("clips_hw", c_int),
        ("reserved", c_uint8 * 28),
    ]


class GvSettingInfo(Structure):
    _fields_ = [
        ("key", c_char_p),
        ("flag", c_char_p),
        ("arg", c_char_p),
        ("help", c_char_p),
        ("def", c_char_p),
    ]


# Every struct of the header that the binding mirrors, by its C name.
STRUCTS = {
    "GvProgress": GvProgress,
    "GvSettings": GvSettings,
    "GvSummary": GvSummary,
    "GvSettingInfo": GvSettingInfo,
}

_PROTOTYPES = {
    "gv_version": (c_uint, []),
    "gv_version_string": (c_char_p, []),
    "gv_strerror": (c_char_p, [c_int]),
    "gv_default_settings": (None, [POINTER(GvSettings)]),
    "gv_setting_count": (c_int, []),
    "gv_setting_info": (POINTER(GvSettingInfo), [c_int]),
    "gv_settings_set": (c_int, [POINTER(GvSettings), c_char_p, c_char_p, c_char_p, c_size_t]),
    "gv_env_parse": (c_int, [c_char_p, c_size_t, EnvCallback, c_void_p, c_char_p, c_size_t]),
    "gv_settings_validate": (c_int, [POINTER(GvSettings), c_char_p, c_size_t]),
    "gv_open": (c_int, [POINTER(c_void_p), POINTER(GvSettings)]),
    "gv_run": (c_int, [c_void_p]),
    "gv_cancel": (None, [c_void_p]),
    "gv_get_summary": (None, [c_void_p, POINTER(GvSummary)]),
    "gv_close": (None, [POINTER(c_void_p)]),
}


def _soname() -> str:
    if sys.platform == "darwin":
        return "libgridvid.%d.dylib" % VERSION_MAJOR
    if sys.platform == "win32":
        return "gridvid-%d.dll" % VERSION_MAJOR
    return "libgridvid.so.%d" % VERSION_MAJOR


def _configured(name: str) -> List[str]:
    """Paths that meson wrote into _paths.py (absent when the package is
    used straight from the source tree), relative ones taken from this
    folder so that a staged or moved installation still finds its own."""
    try:
        from . import _paths  # type: ignore[attr-defined]
    except ImportError:
        return []
    here = os.path.dirname(os.path.abspath(__file__))
    return [os.path.normpath(os.path.join(here, p)) for p in getattr(_paths, name, ())]


def library_candidates() -> List[str]:
    """Where the library is looked for, in order: $GRIDVID_LIBRARY, the
    paths meson configured, then the system's search (ldconfig)."""
    paths = []
    env = os.environ.get("GRIDVID_LIBRARY")
    if env:
        return [env]
    paths += _configured("LIBRARY")
    found = ctypes.util.find_library("gridvid")
    paths.append(found or _soname())
    return paths


def executable_candidates() -> List[str]:
    """Where the gridvid command is looked for: $GRIDVID_EXECUTABLE, the
    paths meson configured, then PATH."""
    env = os.environ.get("GRIDVID_EXECUTABLE")
    if env:
        return [env]
    import shutil

    paths = _configured("EXECUTABLE")
    found = shutil.which("gridvid")
    if found:
        paths.append(found)
    return paths


_lock = threading.Lock()
_lib: Optional[ctypes.CDLL] = None
_lib_path: Optional[str] = None


def load() -> ctypes.CDLL:
    """The library, loaded on first use, with every prototype declared.
    Raises ImportError naming the paths tried."""
    global _lib, _lib_path
    with _lock:
        if _lib is not None:
            return _lib
        tried = []
        for path in library_candidates():
            # A configured path that is not there is not worth an error of
            # its own: the next candidate may be the right one.
            if os.path.isabs(path) and not os.path.exists(path):
                tried.append("%s: no such file" % path)
                continue
            try:
                lib = ctypes.CDLL(path)
            except OSError as e:
                tried.append(str(e))
                continue
            for name, (restype, argtypes) in _PROTOTYPES.items():
                fn = getattr(lib, name)
                fn.restype = restype
                fn.argtypes = argtypes
            if lib.gv_version() >> 16 != VERSION_MAJOR:
                tried.append("%s: version %s, expected %d.x"
                             % (path, lib.gv_version_string().decode(), VERSION_MAJOR))
                continue
            _lib, _lib_path = lib, path
            return lib
        raise ImportError("gridvid: cannot load libgridvid (set GRIDVID_LIBRARY to its path): "
                          + "; ".join(tried))


def loaded_path() -> str:
    load()
    assert _lib_path is not None
    return _lib_path
