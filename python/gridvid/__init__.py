"""gridvid: render a folder of images as a video of a sliding photo wall.

The Python face of libgridvid, the library behind the gridvid command:

    import gridvid

    summary = gridvid.render(["photos"], "wall.mp4", size="reel", fps=30)
    frame = gridvid.preview(["photos"], at=2.5)    # numpy array, H x W x 3
    plan = gridvid.plan(["photos"], size="4k")     # the dry run, as a dict

Settings are the keys of gridvid's settings table (`gridvid --help`,
`gridvid.settings_info()`), as lower-case keywords (animation_duration=12,
image_height=400, use_gpu=False), as a dict (keys in either case), from
the environment (environ=os.environ) or from a .env file (env_file=".env").
A keyword wins over the dict, which wins over the environment, which wins
over the .env file, which wins over the default: the command line's order
with keywords in the place of flags. Values are text as on the command
line, or Python values: True/False, numbers, fractions.Fraction(30000,
1001), paths, and tuples for SIZE (1280, 720), ASPECT (4, 5), FPS (30000,
1001) and BACKGROUND (16, 16, 16).

Errors raise gridvid.Error with gridvid's message and the command line's
exit status: UsageError (2: a bad setting or call), BadInputError (3: no
usable image, or a bad one with strict=True), FailureError (1: the run
failed), Cancelled (130: cancel() was called). Ctrl-C (KeyboardInterrupt)
stops a render cleanly: no partial file is left, an earlier file at the
output path is untouched, and the KeyboardInterrupt goes on up.

Renders run on a thread of their own, so the calling thread stays free to
take Ctrl-C, show progress or cancel: start() returns the running Render,
render() waits for it. `python3 -m gridvid` is the gridvid command.
"""
from __future__ import annotations

import collections
import ctypes
import difflib
import logging
import numbers
import os
import shutil
import signal
import tempfile
import threading
from ctypes import byref
from fractions import Fraction
from typing import (TYPE_CHECKING, Any, Callable, Dict, Iterable, Iterator, List, Mapping,
                    NamedTuple, Optional, Tuple, Union)

from . import _lib, _plan, _png
from ._settings import Settings

if TYPE_CHECKING:
    import sys

    import numpy
    if sys.version_info >= (3, 11):
        from typing import Unpack
    else:
        from typing_extensions import Unpack

__all__ = [
    "render", "start", "preview", "plan", "Render", "Progress", "Settings", "SettingInfo",
    "settings_info", "Error", "UsageError", "BadInputError", "FailureError", "Cancelled",
    "version", "library_path",
]

Path = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]
Inputs = Union[Path, Iterable[Path], None]

# Warnings (a skipped file: "path: reason") and, at INFO, what the library
# says with --verbose. Errors are not logged: the exception carries them.
logger = logging.getLogger("gridvid")

_MAX_ENV_FILE = 16 << 20  # as the command line: a .env is a few lines
_ERR_LEN = 512
# Tuples are joined as the command line writes these values.
_SEPARATORS = {"SIZE": "x", "ASPECT": ":", "FPS": "/", "BACKGROUND": ","}


class Error(Exception):
    """A render, preview or plan that did not succeed.

    str(error) and .message are gridvid's message (what the command line
    prints after "gridvid: "); .code is the library's code (a GV_ERR_*
    value or a negated errno value) and .exit_status the gridvid command's
    exit status for it.
    """

    exit_status = 1

    def __init__(self, message: str, code: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class UsageError(Error, ValueError):
    """A bad setting or call: unknown key, bad value, no input (exit 2)."""

    exit_status = 2


class BadInputError(Error):
    """No usable image, a missing input, or a bad file with strict (exit 3)."""

    exit_status = 3


class FailureError(Error):
    """The run failed: encoder, disk, GPU required but absent... (exit 1)."""

    exit_status = 1


class Cancelled(Error):
    """Render.cancel() stopped the run; nothing was written (exit 130)."""

    exit_status = 130


class Progress(NamedTuple):
    """One progress report: as each phase starts, and about four times a
    second while rendering."""

    phase: str            # "scan", "render" or "finish"
    frames_done: int
    frames_total: int
    images_total: int     # usable images
    images_skipped: int   # inputs skipped as bad
    elapsed_s: float

    @property
    def fraction(self) -> float:
        """frames_done / frames_total, 0 before the frame count is known."""
        return self.frames_done / self.frames_total if self.frames_total > 0 else 0.0


class SettingInfo(NamedTuple):
    """One key of the settings table."""

    key: str               # e.g. "ANIMATION_DURATION", as in .env and the environment
    keyword: str           # e.g. "animation_duration", as a Python keyword
    flag: str              # e.g. "--duration", on the command line
    arg: Optional[str]     # e.g. "SECONDS"; None for switches (booleans)
    help: str
    default: str


def version() -> str:
    """The version of the loaded library, e.g. "0.1.0"."""
    return _lib.load().gv_version_string().decode()


def library_path() -> str:
    """The libgridvid the package loaded: $GRIDVID_LIBRARY, the one meson
    installed beside the package, or the system's."""
    return _lib.loaded_path()


_infos: Optional[List[SettingInfo]] = None


def settings_info() -> List[SettingInfo]:
    """Every settings key, in the order `gridvid --help` lists them."""
    global _infos
    if _infos is None:
        lib = _lib.load()
        infos = []
        for i in range(lib.gv_setting_count()):
            c = lib.gv_setting_info(i).contents
            key = c.key.decode()
            infos.append(SettingInfo(key, key.lower(), c.flag.decode(),
                                     c.arg.decode() if c.arg else None, c.help.decode(),
                                     getattr(c, "def").decode()))
        _infos = infos
    return list(_infos)


# ---------------------------------------------------------------------------
# Settings: layers to (key, value, origin)


def _value_text(key: str, value: Any) -> bytes:
    if isinstance(value, bool):
        return b"true" if value else b"false"
    if isinstance(value, (numbers.Integral, Fraction)):  # numpy's integers too
        return str(value if isinstance(value, Fraction) else int(value)).encode()
    if isinstance(value, numbers.Real):
        f = float(value)
        return (str(int(f)) if f.is_integer() else repr(f)).encode()
    if isinstance(value, (tuple, list)) and key in _SEPARATORS:
        return _SEPARATORS[key].join(str(v) for v in value).encode()
    if isinstance(value, (str, bytes, os.PathLike)):
        return os.fsencode(value)
    raise UsageError("%s: %r is not valid: expected text, a number or a bool%s"
                     % (key, value, " or a tuple" if key in _SEPARATORS else ""),
                     _lib.ERR_SETTING)


def _unknown(name: str, infos: List[SettingInfo]) -> UsageError:
    hint = ""
    keywords = [i.keyword for i in infos]
    flags = {i.flag[2:].replace("-", "_"): i for i in infos}
    if name.lower() in flags:
        i = flags[name.lower()]
        hint = " (the flag %s is the key %s: %s=...)" % (i.flag, i.key, i.keyword)
    else:
        close = difflib.get_close_matches(name.lower(), keywords, n=1, cutoff=0.6)
        if close:
            hint = " (did you mean %s?)" % close[0]
    return UsageError("unknown setting '%s'%s" % (name, hint), -2)  # -ENOENT, as gv_settings_set


def _read_env_file(path: Path, infos: List[SettingInfo]) -> Dict[str, Tuple[bytes, str]]:
    """The settings of a .env file: key -> (value, "PATH line N"); the last
    line of a key counts. Unknown keys are ignored, since the file may
    serve other programs; one that looks like a misspelt key is a warning."""
    lib = _lib.load()
    name = os.fsdecode(path)
    try:
        with open(path, "rb") as f:
            text = f.read(_MAX_ENV_FILE + 1)
    except OSError as e:
        raise UsageError("%s: %s" % (name, e.strerror), -(e.errno or 5)) from None
    if len(text) > _MAX_ENV_FILE:
        raise UsageError("%s: too large for a settings file" % name, -27)  # -EFBIG
    known = {i.key for i in infos}
    found: Dict[str, Tuple[bytes, str]] = {}

    def pair(opaque: Any, key: bytes, value: bytes, line: int) -> int:
        k = key.decode("utf-8", "replace")
        if k in known:
            found[k] = (bytes(value), "%s line %d" % (name, line))
        else:
            close = difflib.get_close_matches(k.upper(), sorted(known), n=1, cutoff=0.85)
            if close:
                logger.warning("%s line %d: unknown key %s ignored (did you mean %s?)",
                               name, line, k, close[0])
        return 0

    err = ctypes.create_string_buffer(_ERR_LEN)
    cb = _lib.EnvCallback(pair)
    ret = lib.gv_env_parse(text, len(text), cb, None, err, _ERR_LEN)
    if ret < 0:
        msg = err.value.decode("utf-8", "replace")
        if msg.startswith(".env "):
            msg = "%s %s" % (name, msg[5:])  # name the file actually read
        raise UsageError(msg or "%s: %s" % (name, lib.gv_strerror(ret).decode()), ret)
    return found


def _layers(settings: Optional[Mapping[str, Any]], keywords: Mapping[str, Any],
            env_file: Optional[Path], environ: Optional[Mapping[str, str]]
            ) -> List[Tuple[str, bytes, str]]:
    """(key, value, origin) for every key some layer sets, in the order of
    the settings table (SIZE before WIDTH, ASPECT before ASPECT_RATIO_W),
    taken from the highest layer that has it. A value a higher layer
    replaces is never parsed, as on the command line: a stale bad value in
    .env does not stop a call that overrides it."""
    infos = settings_info()
    keys = {i.key for i in infos}
    chosen: Dict[str, Tuple[bytes, str]] = {}
    if env_file is not None:
        for key, (value, origin) in _read_env_file(env_file, infos).items():
            if value:  # an empty value leaves the default, as on the command line
                chosen[key] = (value, origin)
    if environ is not None:
        for key in keys:
            v = environ.get(key)
            if v:
                chosen[key] = (os.fsencode(v), "the environment")
    for where, layer in (("settings", settings or {}), ("keyword", keywords)):
        for name, value in layer.items():
            key = name.upper()
            if key not in keys:
                raise _unknown(name, infos)
            if value is None:  # not given: the layers below decide
                continue
            origin = "settings[%r]" % name if where == "settings" else "keyword %s" % name
            chosen[key] = (_value_text(key, value), origin)
    return [(i.key, chosen[i.key][0], chosen[i.key][1]) for i in infos if i.key in chosen]


def _inputs(inputs: Inputs) -> List[bytes]:
    if inputs is None:
        return []
    if isinstance(inputs, (str, bytes, os.PathLike)):
        return [os.fsencode(inputs)]
    return [os.fsencode(p) for p in inputs]


def _error(code: int, messages: List[str]) -> Error:
    text = "; ".join(messages) if messages else _lib.load().gv_strerror(code).decode()
    cls = {_lib.ERR_SETTING: UsageError, _lib.ERR_BAD_INPUT: BadInputError,
           _lib.ERR_CANCELLED: Cancelled}.get(code, FailureError)
    return cls(text, code)


# ---------------------------------------------------------------------------
# A running render

_LOG_LEVELS = {_lib.LOG_ERROR: logging.ERROR, _lib.LOG_WARNING: logging.WARNING,
               _lib.LOG_INFO: logging.INFO, _lib.LOG_DEBUG: logging.DEBUG}


class Render:
    """A render running on a thread of its own, made by start().

    Iterate over it for Progress reports (the loop ends when the run
    does), call result() for the summary (or the exception), cancel() from
    any thread to stop it. As a context manager it waits for the run when
    the block ends, and cancels it first when the block ends with an
    exception (KeyboardInterrupt included), so no partial file is left.
    """

    def __init__(self, inputs: Inputs, output: Optional[Path],
                 settings: Optional[Mapping[str, Any]], keywords: Dict[str, Any], *,
                 demo: bool = False, env_file: Optional[Path] = None,
                 environ: Optional[Mapping[str, str]] = None, dry_run: bool = False) -> None:
        lib = _lib.load()
        self._lib = lib
        self._lock = threading.Lock()      # guards _ctx against cancel() while closing
        self._cond = threading.Condition()  # guards the reports and _finished
        self._reports: "collections.deque[Progress]" = collections.deque(maxlen=1024)
        self._finished = False
        self._ret: Optional[int] = None
        self._summary: Dict[str, Any] = {}
        self._errors: List[str] = []
        self._warnings: List[str] = []
        self.plan_lines: List[str] = []
        self._ctx = ctypes.c_void_p()
        # Everything the C side borrows: strings, the inputs array, the
        # callbacks. They live as long as this object.
        self._keep: List[Any] = []

        if output is not None:
            keywords = dict(keywords, output_filename=output)
        s = _lib.GvSettings()
        lib.gv_default_settings(byref(s))
        err = ctypes.create_string_buffer(_ERR_LEN)
        for key, value, origin in _layers(settings, keywords, env_file, environ):
            self._keep.append(value)
            ret = lib.gv_settings_set(byref(s), key.encode(), value, err, _ERR_LEN)
            if ret < 0:
                raise UsageError("%s (from %s)" % (err.value.decode("utf-8", "replace"), origin),
                                 ret)
        paths = _inputs(inputs)
        if not demo and not paths:
            raise UsageError("no input: name directories or image files, or use demo=True",
                             _lib.ERR_SETTING)
        if demo and paths:
            logger.warning("demo renders generated images; inputs ignored")
        array = (ctypes.c_char_p * (len(paths) + 1))(*paths)
        self._keep += [paths, array]
        s.inputs, s.n_inputs, s.demo = array, len(paths), int(demo)
        self.output = os.fsdecode(s.preview if s.preview else s.output)
        self._dry_run = dry_run
        s.dry_run = int(dry_run)

        s.log = self._callback(_lib.LogCallback, self._on_log)
        s.log_level = _lib.LOG_INFO if logger.isEnabledFor(logging.INFO) else _lib.LOG_WARNING
        s.progress = self._callback(_lib.ProgressCallback, self._on_progress)
        if dry_run:
            s.plan = self._callback(_lib.PlanCallback, self._on_plan)
        if lib.gv_settings_validate(byref(s), err, _ERR_LEN) < 0:
            raise UsageError(err.value.decode("utf-8", "replace"), _lib.ERR_SETTING)
        ret = lib.gv_open(byref(self._ctx), byref(s))
        if ret < 0:
            raise _error(ret, self._errors)
        self._thread = threading.Thread(target=self._main, name="gridvid")
        try:
            self._thread.start()
        except BaseException:
            lib.gv_close(byref(self._ctx))
            raise

    def _callback(self, kind: Any, fn: Callable[..., None]) -> Any:
        def guarded(*args: Any) -> None:
            try:
                fn(*args)
            except BaseException:  # never unwind through the library's frames
                try:
                    logger.exception("in a callback of the library")
                except BaseException:
                    pass
        c = kind(guarded)
        self._keep.append(c)
        return c

    def _on_log(self, opaque: Any, level: int, msg: bytes) -> None:
        text = msg.decode("utf-8", "replace")
        if level == _lib.LOG_ERROR:
            self._errors.append(text)
            return
        if level == _lib.LOG_WARNING:
            self._warnings.append(text)
        logger.log(_LOG_LEVELS.get(level, logging.DEBUG), "%s", text)

    def _on_progress(self, opaque: Any, p: Any) -> None:
        c = p.contents
        report = Progress(_lib.PHASES[c.phase] if 0 <= c.phase < len(_lib.PHASES) else str(c.phase),
                          c.frames_done, c.frames_total, c.images_total, c.images_skipped,
                          c.elapsed_s)
        with self._cond:
            self._reports.append(report)
            self._cond.notify_all()

    def _on_plan(self, opaque: Any, line: bytes) -> None:
        self.plan_lines.append(line.decode("utf-8", "replace"))

    def _main(self) -> None:
        # The library's threads inherit this thread's mask: with Ctrl-C
        # blocked here, the main thread takes it and raises
        # KeyboardInterrupt there, which cancels the run.
        if hasattr(signal, "pthread_sigmask"):
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        lib = self._lib
        ret = _lib.ERR_IO
        summary = _lib.GvSummary()
        try:
            ret = lib.gv_run(self._ctx)
            lib.gv_get_summary(self._ctx, byref(summary))
        finally:
            with self._lock:
                lib.gv_close(byref(self._ctx))
            self._ret = ret
            self._summary = self._summary_dict(summary)
            with self._cond:
                self._finished = True
                self._cond.notify_all()

    def _summary_dict(self, c: Any) -> Dict[str, Any]:
        return {
            "output": None if self._dry_run else self.output,
            "images_used": c.images_used,
            "images_skipped": c.images_skipped,
            "frames": c.frames,
            "seconds": c.seconds,
            "output_bytes": c.output_bytes,
            "encoder": c.encoder.decode("utf-8", "replace"),
            "compositor": c.compositor.decode("utf-8", "replace"),
            "cpu_s": c.cpu_s,
            "encoder_cpu_s": None if c.encoder_cpu_s < 0 else c.encoder_cpu_s,
            "tiles_gpu_scaled": c.tiles_gpu_scaled,
            "tiles_engine": c.tiles_engine,
            "tiles_engine_refused": c.tiles_engine_refused,
            "clips": c.clips,
            "clips_hw": c.clips_hw,
            "warnings": list(self._warnings),
        }

    def cancel(self) -> None:
        """Stop the run: result() then raises Cancelled, within about a
        tenth of a second plus the time to finish the images being
        decoded, with the temporary files removed. Any thread may call it,
        any number of times, also after the run has ended."""
        with self._lock:
            if self._ctx.value:
                self._lib.gv_cancel(self._ctx)

    def done(self) -> bool:
        """Whether the run has ended (result() will not wait)."""
        return not self._thread.is_alive()

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Wait up to timeout seconds (None: until the end); whether the
        run has ended. An exception while waiting (Ctrl-C) cancels the
        run and waits for it to stop before it goes on up."""
        try:
            if timeout is None:
                while self._thread.is_alive():
                    self._thread.join(0.1)  # short waits: Ctrl-C is seen at once
            else:
                self._thread.join(timeout)
        except BaseException:
            self.cancel()
            self._thread.join()
            raise
        return not self._thread.is_alive()

    def result(self) -> Dict[str, Any]:
        """Wait for the end of the run and return its summary, or raise
        the Error it ended with.

        The summary: output (the path written; None for a plan),
        images_used, images_skipped, frames, seconds, output_bytes,
        encoder, compositor ("cpu" or the GPU's name), cpu_s,
        encoder_cpu_s (None where unknown), tiles_gpu_scaled, tiles_engine,
        tiles_engine_refused, clips (the clips played), clips_hw (of which
        a hardware decoder decoded), and warnings (the library's warnings, such
        as "path: reason" for each skipped file)."""
        self.wait()
        if self._ret != 0:
            raise _error(self._ret if self._ret is not None else _lib.ERR_IO, self._errors)
        return dict(self._summary)

    def __iter__(self) -> Iterator[Progress]:
        while True:
            with self._cond:
                while not self._reports and not self._finished:
                    self._cond.wait(0.1)
                if not self._reports:
                    return
                report = self._reports.popleft()
            yield report

    def __enter__(self) -> "Render":
        return self

    def __exit__(self, kind: Any, value: Any, tb: Any) -> None:
        if kind is not None:
            self.cancel()
        self.wait()


# ---------------------------------------------------------------------------
# Entry points


def start(inputs: Inputs = None, output: Optional[Path] = None,
          settings: Optional[Mapping[str, Any]] = None, *, demo: bool = False,
          env_file: Optional[Path] = None, environ: Optional[Mapping[str, str]] = None,
          **keywords: "Unpack[Settings]") -> Render:
    """Start rendering inputs (folders or image files) to output, and
    return the running Render at once.

        with gridvid.start(files, "wall.mp4", size="reel") as job:
            for p in job:
                print(f"{p.phase} {p.frames_done}/{p.frames_total}")
            summary = job.result()

    Takes the arguments of render() but progress. Raises UsageError at
    once for a bad setting, before anything runs.
    """
    return Render(inputs, output, settings, keywords, demo=demo, env_file=env_file,
                  environ=environ)


def render(inputs: Inputs = None, output: Optional[Path] = None,
           settings: Optional[Mapping[str, Any]] = None, *, demo: bool = False,
           env_file: Optional[Path] = None, environ: Optional[Mapping[str, str]] = None,
           progress: Optional[Callable[[Progress], Any]] = None,
           **keywords: "Unpack[Settings]") -> Dict[str, Any]:
    """Render inputs to a video at output, and return the summary.

    inputs: a folder or image file, or a list of them (their order is the
        ORDER setting's: natural sort of the path unless order="given").
    output: the video's path; None takes OUTPUT_FILENAME (default
        output.mp4). The video is written to a temporary file beside it
        and renamed into place only when complete.
    settings: a dict of settings keys ("FPS" or "fps") to values.
    demo: render gridvid's generated demo images instead of inputs.
    env_file: a .env file (KEY=value lines) to read settings from.
    environ: a mapping to read settings keys from, such as os.environ.
    progress: called with a Progress in this thread as each phase starts
        and about four times a second; an exception it raises cancels the
        render and goes on up.
    keywords: settings keys in lower case: fps=25, image_height=400,
        size="reel", use_gpu=False... (see Settings); None leaves a key
        to the layers below.

    Returns the summary dict (see Render.result). Raises UsageError,
    BadInputError, FailureError; KeyboardInterrupt cancels the render
    cleanly and goes on up.
    """
    with start(inputs, output, settings, demo=demo, env_file=env_file, environ=environ,
               **keywords) as job:
        if progress is not None:
            for report in job:
                progress(report)
        return job.result()


def preview(inputs: Inputs = None, at: Optional[float] = None,
            settings: Optional[Mapping[str, Any]] = None, *, png: bool = False,
            demo: bool = False, env_file: Optional[Path] = None,
            environ: Optional[Mapping[str, str]] = None,
            **keywords: "Unpack[Settings]") -> Union["numpy.ndarray", bytes]:
    """The frame at `at` seconds (PREVIEW_AT, default 0) of the video that
    render() would make with the same arguments, rendered quickly (no
    encoder, only the images that frame shows).

    Returns a numpy array of height x width x 3 uint8 (RGB), when numpy
    can be imported and png is False; else the bytes of a PNG file. Its
    pixels are those of `gridvid --preview FRAME.png --at SECONDS`.
    """
    if "preview" in keywords or any(k.upper() == "PREVIEW" for k in (settings or {})):
        raise UsageError("preview() writes no file: use render(preview=PATH) for one",
                         _lib.ERR_SETTING)
    folder = tempfile.mkdtemp(prefix="gridvid-preview-")
    try:
        path = os.path.join(folder, "frame.png")
        keywords = dict(keywords, preview=path)
        if at is not None:
            keywords["preview_at"] = at
        with start(inputs, None, settings, demo=demo, env_file=env_file, environ=environ,
                   **keywords) as job:
            job.result()
        with open(path, "rb") as f:
            data = f.read()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if png:
        return data
    try:
        import numpy as np
    except ImportError:
        return data
    return _png.decode(data, np)


def plan(inputs: Inputs = None, output: Optional[Path] = None,
         settings: Optional[Mapping[str, Any]] = None, *, demo: bool = False,
         env_file: Optional[Path] = None, environ: Optional[Mapping[str, str]] = None,
         **keywords: "Unpack[Settings]") -> Dict[str, Any]:
    """What render() would do with the same arguments, without decoding a
    pixel or writing anything: the dry run (`gridvid --dry-run`) as a dict.

        {"inputs": {"used": 30, "skipped": 0, "demo": True},
         "frame": {"width": 1920, "height": 1080, "fps": (30, 1),
                   "duration": 10.0, "frames": 300, "motion_blur": 1},
         "tiles": {"width": 360, "height": 360, "crop": "center", "gap": 0},
         "layout": {"kind": "rows", "lanes": 3, "first": 0,
                    "easing": "linear", "images_shown": 30},
         "lanes": [{"index": 0, "position": 0, "images": 10, "period": 3600,
                    "travel": 3600.0, "speed": 360.0, "direction": "left"}, ...],
         "decoder": "libvips", "encoder": "libx264",
         "lines": [...]}                     # the plan as gridvid prints it

    With preview set, "preview": {"at": seconds, "path": ...} replaces
    decoder and encoder.
    """
    job = Render(inputs, output, settings, keywords, demo=demo, env_file=env_file,
                 environ=environ, dry_run=True)
    with job:
        job.result()
    return _plan.parse(job.plan_lines)
