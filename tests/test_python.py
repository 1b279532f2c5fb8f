"""The Python binding (python/gridvid) against the library and the command
line: the ctypes structs against the header, render, progress, cancel
(another thread, Ctrl-C), preview against `gridvid --preview` (identical
pixels), plan against `gridvid --dry-run`, every error class against the
command's exit status, settings precedence (keyword > dict > environment
> .env > default), `python3 -m gridvid`, and the Settings type hints.

Run by meson with the Python that meson found, on the build tree's copy
of the package (build/python). Every file a check writes goes into a
folder of its own from mkdtemp. Ends with "python: N checks, N failed".
"""
import atexit
import ctypes
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import typing
import zlib

BUILD = os.environ["GV_BUILD_DIR"]
SRC = os.environ["GV_SOURCE_DIR"]
GRIDVID = os.path.join(BUILD, "gridvid")
PYDIR = os.path.join(BUILD, "python")


def preload_sanitizer():
    """A library built with AddressSanitizer loads only into a process whose
    first library is the ASan runtime: run this test again with it
    preloaded (leak detection off: the interpreter's own allocations)."""
    if os.environ.get("GV_PY_PRELOADED"):
        return
    try:
        ldd = subprocess.run(["ldd", os.path.join(BUILD, "libgridvid.so")],
                             capture_output=True, text=True).stdout
    except OSError:
        return
    m = re.search(r"(\S*libasan\.so\S*) => (\S+)", ldd)
    if not m:
        return
    env = dict(os.environ, GV_PY_PRELOADED="1", LD_PRELOAD=m.group(2),
               # last, so that it wins over a detect_leaks=1 given before: the
               # interpreter never frees everything it holds at exit, and the
               # library's own leaks are the C tests' to find
               ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":detect_leaks=0")
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


preload_sanitizer()
sys.path.insert(0, PYDIR)
os.environ.pop("GRIDVID_LIBRARY", None)
os.environ.pop("GRIDVID_EXECUTABLE", None)
import gridvid  # noqa: E402  (the build tree's package, found through its _paths.py)
from gridvid import _lib, _png  # noqa: E402

try:
    import numpy as np
except ImportError:
    np = None

checks = 0
fails = 0


def check(what, ok):
    global checks, fails
    checks += 1
    if not ok:
        fails += 1
        print("FAIL: " + what, file=sys.stderr)
    return ok


def equal(what, got, want):
    if not check("%s: got %r, expected %r" % (what, got, want), got == want):
        return False
    return True


def raises(what, cls, fn, *args, **kw):
    """The exception fn raises, checked to be of class cls."""
    try:
        fn(*args, **kw)
    except BaseException as e:  # noqa: B902 (KeyboardInterrupt is a result here)
        check("%s: raised %s (%s), expected %s" % (what, type(e).__name__, e, cls.__name__),
              type(e) is cls)
        return e
    check("%s: raised nothing, expected %s" % (what, cls.__name__), False)
    return None


_folders = []


def folder():
    d = tempfile.mkdtemp(prefix="gv-python-")
    _folders.append(d)
    return d


atexit.register(lambda: [shutil.rmtree(d, ignore_errors=True) for d in _folders])

# Runs of the command and of child Pythons see none of the caller's
# settings keys (as tests/check.sh's unset_setting_keys).
KEYS = [i.key for i in gridvid.settings_info()]
for key in KEYS:
    os.environ.pop(key, None)
CLEAN_ENV = dict(os.environ)


def cli(*args, cwd=None, env=None):
    """gridvid with args, in a folder of its own unless cwd (no ./.env)."""
    return subprocess.run([GRIDVID] + list(args), cwd=cwd or folder(), capture_output=True,
                          env=env or CLEAN_ENV)


def write_png(path, w, h, pixel):
    """An RGB PNG whose pixel (x, y) is pixel(x, y)."""
    raw = b"".join(b"\0" + b"".join(bytes(pixel(x, y)) for x in range(w)) for y in range(h))

    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def photos(n=6):
    """n photos of 48x36 with gradients of their own, as files a script picked."""
    d = folder()
    paths = []
    for i in range(n):
        p = os.path.join(d, "photo%d.png" % (i + 1))
        write_png(p, 48, 36, lambda x, y, i=i: ((x * 5 + i * 40) % 256, (y * 7) % 256,
                                                (i * 60 + x + y) % 256))
        paths.append(p)
    return paths


def rgb_of(path):
    """The pixels of an image file as rgb24 bytes, decoded by ffmpeg, a
    decoder that owes nothing to the binding's."""
    r = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt",
                        "rgb24", "-"], capture_output=True)
    return r.stdout if r.returncode == 0 else None


def probe(path):
    r = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
                        "-show_entries", "stream=width,height,nb_read_frames", "-of", "csv=p=0",
                        path], capture_output=True, text=True)
    return r.stdout.strip()


HAVE_FFMPEG = shutil.which("ffmpeg") is not None and shutil.which("ffprobe") is not None
SMALL = dict(size=(160, 120), image_height=40, use_gpu=False)

# ---------------------------------------------------------------------------


def test_structs_match_the_header():
    """Every field of every mirrored struct at the C compiler's offset and
    size, the structs' sizes, and the constants' values."""
    lines = ["#include <stddef.h>", "#include <stdio.h>", "#include <gridvid/gridvid.h>",
             "int main(void)", "{"]
    want = []
    for name, cls in _lib.STRUCTS.items():
        lines.append('    printf("%s %%zu\\n", sizeof(%s));' % (name, name))
        want.append("%s %d" % (name, ctypes.sizeof(cls)))
        for field, _ in cls._fields_:
            lines.append('    printf("%s.%s %%zu %%zu\\n", offsetof(%s, %s), '
                         'sizeof(((%s *)0)->%s));' % (name, field, name, field, name, field))
            desc = getattr(cls, field)
            want.append("%s.%s %d %d" % (name, field, desc.offset, desc.size))
    consts = {"GV_LOG_ERROR": _lib.LOG_ERROR, "GV_LOG_WARNING": _lib.LOG_WARNING,
              "GV_LOG_INFO": _lib.LOG_INFO, "GV_LOG_DEBUG": _lib.LOG_DEBUG,
              "GV_VERSION_MAJOR": _lib.VERSION_MAJOR}
    for i, phase in enumerate(_lib.PHASES):
        consts["GV_PHASE_" + phase.upper()] = i
    for name in ("SETTING", "BAD_INPUT", "CANCELLED", "DECODE", "ENCODE", "GPU", "IO"):
        consts["GV_ERR_" + name] = getattr(_lib, "ERR_" + name)
    for name, value in consts.items():
        lines.append('    printf("%s %%d\\n", (int)(%s));' % (name, name))
        want.append("%s %d" % (name, value))
    lines += ["    return 0;", "}"]
    d = folder()
    with open(os.path.join(d, "layout.c"), "w") as f:
        f.write("\n".join(lines) + "\n")
    cc = os.environ.get("CC", "cc")
    r = subprocess.run([cc, "-std=c11", "-I" + os.path.join(SRC, "include"), "layout.c", "-o",
                        "layout"], cwd=d, capture_output=True, text=True)
    if not check("the layout program compiles: " + r.stderr, r.returncode == 0):
        return
    got = subprocess.run([os.path.join(d, "layout")], capture_output=True, text=True,
                         env=dict(os.environ, LD_PRELOAD="")).stdout.split("\n")[:-1]
    equal("lines of the layout program", len(got), len(want))
    for g, w in zip(got, want):
        equal("C layout against ctypes", g, w)
    # Every field of the header, in its order, by its name (a new field
    # would move reserved[] too, but this says which).
    header = open(os.path.join(SRC, "include", "gridvid", "gridvid.h")).read()
    header = re.sub(r"/\*.*?\*/", "", header, flags=re.S)
    for name, cls in _lib.STRUCTS.items():
        m = re.search(r"typedef struct %s \{(.*?)\} %s;" % (name, name), header, re.S)
        if not check("the header defines %s" % name, m is not None):
            continue
        declared = re.findall(r"\b(\w+)(?:\[\w+\])?\s*[;,]", m.group(1))
        equal("%s: the header's fields, in order" % name, declared, [f for f, _ in cls._fields_])


def test_settings_hints_are_current():
    """_settings.py is what scripts/python_settings.py writes from the
    library's table, and its keywords are the table's keys in lower case."""
    r = subprocess.run([sys.executable, os.path.join(SRC, "scripts", "python_settings.py")],
                       capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=PYDIR))
    with open(os.path.join(SRC, "python", "gridvid", "_settings.py")) as f:
        current = f.read()
    check("python/gridvid/_settings.py is out of date: run scripts/python_settings.py "
          "(see its first lines) " + r.stderr, r.returncode == 0 and r.stdout == current)
    hints = typing.get_type_hints(gridvid.Settings)
    equal("Settings keys", list(hints), [k.lower() for k in KEYS])
    equal("Settings.__total__", gridvid.Settings.__total__, False)


def test_render():
    d = folder()
    out = os.path.join(d, "wall.mp4")
    s = gridvid.render(None, out, demo=True, animation_duration=1, **SMALL)
    equal("render: output", s["output"], out)
    equal("render: frames", s["frames"], 30)
    equal("render: images used", s["images_used"], 30)
    equal("render: images skipped", s["images_skipped"], 0)
    equal("render: output_bytes is the file's size", s["output_bytes"], os.path.getsize(out))
    equal("render: compositor", s["compositor"], "cpu")
    equal("render: encoder", s["encoder"], "libx264")
    equal("render: warnings", s["warnings"], [])
    equal("render: summary keys", sorted(s), sorted([
        "output", "images_used", "images_skipped", "frames", "seconds", "output_bytes",
        "encoder", "compositor", "cpu_s", "encoder_cpu_s", "tiles_gpu_scaled", "tiles_engine",
        "tiles_engine_refused", "clips", "clips_hw", "warnings"]))
    equal("render: no clips", (s["clips"], s["clips_hw"]), (0, 0))
    equal("render: only the video is left", os.listdir(d), ["wall.mp4"])
    if HAVE_FFMPEG:
        equal("render: ffprobe's size and frames", probe(out), "160,120,30")

    # Files a script picked, a bad one among them, with a dict of settings.
    files = photos(3)
    bad = os.path.join(os.path.dirname(files[0]), "notes.jpg")
    with open(bad, "w") as f:
        f.write("not a picture\n")
    out2 = os.path.join(d, "picked.mp4")
    s = gridvid.render(files + [bad], out2, {"FPS": 10, "ANIMATION_DURATION": 2}, **SMALL)
    equal("picked files: frames", s["frames"], 20)
    equal("picked files: images used", s["images_used"], 3)
    equal("picked files: images skipped", s["images_skipped"], 1)
    r = cli(*files, bad, "-o", os.path.join(d, "cli.mp4"), "--fps", "10", "--duration", "2",
            "--size", "160x120", "--tile-height", "40", "--gpu", "false")
    warnings = [ln[len("gridvid: warning: "):] for ln in r.stderr.decode().splitlines()
                if ln.startswith("gridvid: warning: ")]
    equal("picked files: the warnings are the command's", s["warnings"], warnings)
    check("picked files: one warning names the bad file",
          len(s["warnings"]) == 1 and s["warnings"][0].startswith(bad + ": "))
    if HAVE_FFMPEG:
        equal("picked files: ffprobe", probe(out2), "160,120,20")


def test_progress():
    d = folder()
    seen = []
    s = gridvid.render(None, os.path.join(d, "p.mp4"), demo=True, animation_duration=1,
                       progress=seen.append, **SMALL)
    phases = [p.phase for p in seen]
    check("progress: reports arrive (%d)" % len(seen), len(seen) >= 3)
    equal("progress: the first report", seen[0].phase if seen else None, "scan")
    equal("progress: phases in order", sorted(phases, key=["scan", "render", "finish"].index),
          phases)
    check("progress: each phase is reported", {"scan", "render", "finish"} <= set(phases))
    done = [p.frames_done for p in seen]
    equal("progress: frames never go back", sorted(done), done)
    last = seen[-1]
    equal("progress: the last report", (last.phase, last.frames_done, last.frames_total,
                                         last.images_total, last.images_skipped),
          ("finish", 30, 30, 30, 0))
    equal("progress: fraction", last.fraction, 1.0)
    equal("progress: type", type(last), gridvid.Progress)
    equal("progress: summary frames", s["frames"], 30)

    # The same through the iterator, on a render started and left running.
    with gridvid.start(None, os.path.join(d, "q.mp4"), demo=True, animation_duration=1,
                       **SMALL) as job:
        reports = list(job)
        check("iterator: done when the loop ends", job.done())
        equal("iterator: result", job.result()["frames"], 30)
    equal("iterator: the last report", (reports[-1].phase, reports[-1].frames_done),
          ("finish", 30))
    equal("iterator: the first report", reports[0].phase, "scan")

    # A callback that raises cancels the render; its exception goes on up.
    class Stop(Exception):
        pass

    def stop(p):
        if p.phase == "render" and p.frames_done > 0:
            raise Stop()

    out = os.path.join(d, "stopped.mp4")
    raises("progress: the callback's exception", Stop, gridvid.render, None, out, demo=True,
           animation_duration=120, size=(320, 240), image_height=80, use_gpu=False,
           progress=stop)
    equal("progress: a stopped render leaves nothing", sorted(os.listdir(d)), ["p.mp4", "q.mp4"])


def long_render(out, **kw):
    return gridvid.start(None, out, demo=True, animation_duration=120, size=(320, 240),
                         image_height=80, use_gpu=False, **kw)


def test_cancel():
    d = folder()
    out = os.path.join(d, "wall.mp4")
    with open(out, "w") as f:
        f.write("earlier video\n")
    job = long_render(out)
    started = threading.Event()

    def canceller():
        for p in job:
            if p.phase == "render" and p.frames_done > 0:
                break
        started.set()
        job.cancel()

    t = threading.Thread(target=canceller)
    t.start()
    check("cancel: the render started", started.wait(120))
    t0 = time.monotonic()
    e = raises("cancel from another thread", gridvid.Cancelled, job.result)
    took = time.monotonic() - t0
    t.join()
    check("cancel: stops within 10 s (took %.2f s)" % took, took < 10)
    if e:
        equal("cancel: exit status", e.exit_status, 130)
        equal("cancel: code", e.code, _lib.ERR_CANCELLED)
        equal("cancel: message", str(e), "interrupted")
    equal("cancel: no partial file, no temporary", os.listdir(d), ["wall.mp4"])
    with open(out) as f:
        equal("cancel: the earlier file is untouched", f.read(), "earlier video\n")
    job.cancel()  # after the end: nothing happens
    check("cancel: after the end does nothing", job.done())

    # Leaving a with block by an exception cancels the render.
    out2 = os.path.join(d, "block.mp4")

    def leave_early():
        with long_render(out2) as job2:
            for p in job2:
                if p.frames_done > 0:
                    raise RuntimeError("leaving")

    raises("an exception in the with block", RuntimeError, leave_early)
    equal("with block: nothing left", os.listdir(d), ["wall.mp4"])


CHILD = r"""
import os, signal, sys
sys.path.insert(0, sys.argv[1])
import gridvid
# Whatever the parent ignores, this process takes Ctrl-C as Python does.
signal.signal(signal.SIGINT, signal.default_int_handler)
out = sys.argv[2]
told = []
def report(p):
    if p.phase == "render" and p.frames_done > 0 and not told:
        told.append(1)
        print("rendering", flush=True)
try:
    gridvid.render(None, out, demo=True, animation_duration=120, size=(320, 240),
                   image_height=80, use_gpu=False, progress=report)
    print("finished")
except KeyboardInterrupt:
    print("KeyboardInterrupt", sorted(os.listdir(os.path.dirname(out))), flush=True)
    sys.exit(130)
"""


def test_keyboard_interrupt():
    """Ctrl-C (SIGINT) in a program that renders: KeyboardInterrupt goes up
    once the render has stopped, with no partial file."""
    d = folder()
    out = os.path.join(d, "wall.mp4")
    with open(out, "w") as f:
        f.write("earlier video\n")
    child = subprocess.Popen([sys.executable, "-c", CHILD, PYDIR, out], stdout=subprocess.PIPE,
                             text=True, env=CLEAN_ENV)
    line = child.stdout.readline().strip()
    equal("Ctrl-C: the child renders", line, "rendering")
    t0 = time.monotonic()
    child.send_signal(signal.SIGINT)
    try:
        rest, _ = child.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        child.kill()
        rest, _ = child.communicate()
    took = time.monotonic() - t0
    equal("Ctrl-C: exit status", child.returncode, 130)
    equal("Ctrl-C: KeyboardInterrupt after a clean stop", rest.strip(),
          "KeyboardInterrupt ['wall.mp4']")
    check("Ctrl-C: stops within 10 s (took %.2f s)" % took, took < 10)
    with open(out) as f:
        equal("Ctrl-C: the earlier file is untouched", f.read(), "earlier video\n")


def test_preview():
    d = folder()
    files = photos(5)
    args = dict(size=(320, 180), image_height=60, gap=6, background=(200, 30, 90),
                direction="alternate", use_gpu=False)
    flags = ["--size", "320x180", "--tile-height", "60", "--gap", "6", "--background",
             "200,30,90", "--direction", "alternate", "--gpu", "false", "--quiet"]
    for at in (0, 1.25):
        cli_png = os.path.join(d, "cli-%s.png" % at)
        r = cli(*files, *flags, "--preview", cli_png, "--at", str(at))
        if not equal("preview: gridvid --preview exits 0 " + r.stderr.decode(), r.returncode, 0):
            continue
        with open(cli_png, "rb") as f:
            cli_bytes = f.read()
        png = gridvid.preview(files, at=at, png=True, **args)
        equal("preview at %s: the PNG is the command's, byte for byte" % at, png, cli_bytes)
        if np is None:
            print("skip: numpy is not installed, preview as an array not checked")
            continue
        frame = gridvid.preview(files, at=at, **args)
        equal("preview: an array", type(frame), np.ndarray)
        equal("preview: shape", frame.shape, (180, 320, 3))
        equal("preview: dtype", frame.dtype, np.dtype(np.uint8))
        if HAVE_FFMPEG:
            check("preview at %s: identical pixels to the command's PNG (ffmpeg)" % at,
                  frame.tobytes() == rgb_of(cli_png))
        # Rows at y -6, 60 and 126: lines 54 to 59 are gap, BACKGROUND
        # (200, 30, 90) as it comes back from limited-range Y'CbCr.
        equal("preview: a gap pixel is BACKGROUND", tuple(int(v) for v in frame[56, 100]),
              (200, 31, 90))
        # A transparent background: RGBA, the gap's line clear, tiles opaque.
        clear = gridvid.preview(files, at=at, **dict(args, background="transparent"))
        equal("preview, transparent: RGBA", clear.shape, (180, 320, 4))
        equal("preview, transparent: the gap's line is clear", int(clear[56, :, 3].max()), 0)
        equal("preview, transparent: the tiles are opaque", int(clear[:, :, 3].max()), 255)

    # The order of files a script picked, kept with order="given".
    picked = [files[3], files[0]]
    a = gridvid.preview(picked, order="given", png=True, **args)
    b = gridvid.preview(picked[::-1], order="given", png=True, **args)
    r = cli("--order", "given", *picked, *flags, "--preview", os.path.join(d, "given.png"))
    with open(os.path.join(d, "given.png"), "rb") as f:
        equal("preview: order=given is the command's", a, f.read())
    check("preview: order=given follows the list", a != b)

    # Without numpy: the PNG's bytes.
    r = subprocess.run([sys.executable, "-c", r"""
import sys
sys.modules["numpy"] = None  # import numpy fails
sys.path.insert(0, sys.argv[1])
import gridvid
data = gridvid.preview(None, demo=True, size=(160, 120), image_height=40, use_gpu=False)
sys.stdout.write("%s %s" % (type(data).__name__, data[:8] == b"\x89PNG\r\n\x1a\n"))
""", PYDIR], capture_output=True, text=True, env=CLEAN_ENV)
    equal("preview without numpy: PNG bytes " + r.stderr, r.stdout, "bytes True")
    equal("preview: no file of its own left", sorted(os.listdir(d)),
          ["cli-0.png", "cli-1.25.png", "given.png"])
    raises("preview with a preview path", gridvid.UsageError, gridvid.preview, files,
           preview=os.path.join(d, "x.png"))


def test_png_reader_filters():
    """The PNG reader undoes all five row filters (the library writes
    unfiltered rows; other writers do not)."""
    if np is None:
        print("skip: numpy is not installed, PNG filters not checked")
        return
    w, h, bpp = 7, 6, 3
    img = np.array([[[(x * 37 + y * 11 + c * 101) % 256 for c in range(bpp)] for x in range(w)]
                    for y in range(h)], dtype=np.uint8)
    rows = img.reshape(h, w * bpp).astype(int)

    def paeth(a, b, c):
        p = a + b - c
        pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
        return a if pa <= pb and pa <= pc else b if pb <= pc else c

    raw = b""
    for y in range(h):
        kind = y % 5
        prev = rows[y - 1] if y else [0] * (w * bpp)
        line = []
        for i, v in enumerate(rows[y]):
            a = rows[y][i - bpp] if i >= bpp else 0
            c = prev[i - bpp] if i >= bpp else 0
            pred = [0, a, prev[i], (a + prev[i]) >> 1, paeth(a, prev[i], c)][kind]
            line.append((v - pred) % 256)
        raw += bytes([kind] + line)

    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    check("PNG reader: filters 0 to 4", np.array_equal(_png.decode(data, np), img))


EXPECTED_PLAN = {
    "inputs": {"used": 30, "skipped": 0, "demo": True},
    "frame": {"width": 320, "height": 240, "fps": (25, 1), "duration": 2.0, "frames": 50,
              "motion_blur": 1},
    "tiles": {"width": 106, "height": 80, "crop": "center", "gap": 4},
    "layout": {"kind": "rows", "lanes": 3, "first": -4, "easing": "linear", "images_shown": 30},
    "lanes": [{"index": i, "position": -4 + 84 * i, "images": 10, "period": 1100,
               "travel": 1100.0, "speed": 550.0, "direction": "left"} for i in range(3)],
    "decoder": "libvips",
    "encoder": "libx264",
}


def test_plan():
    args = dict(size="320x240", image_height=80, aspect=(4, 3), gap=4, fps=25,
                animation_duration=2, use_gpu=False)
    p = gridvid.plan(demo=True, **args)
    lines = p.pop("lines", None)
    equal("plan", p, EXPECTED_PLAN)
    r = cli("--demo", "--dry-run", "--size", "320x240", "--tile-height", "80", "--aspect", "4:3",
            "--gap", "4", "--fps", "25", "--duration", "2", "--gpu", "false")
    equal("plan: the lines are gridvid --dry-run's", lines, r.stdout.decode().splitlines())
    d = folder()
    p = gridvid.plan(demo=True, preview=os.path.join(d, "f.png"), preview_at=1.5, **args)
    equal("plan of a preview", p.get("preview"), {"at": 1.5, "path": os.path.join(d, "f.png")})
    equal("a plan writes nothing", os.listdir(d), [])


def test_errors():
    """Each error class, with gridvid's message and the exit status the
    command gives for the same call."""
    d = folder()
    files = photos(2)
    bad = os.path.join(d, "broken.jpg")
    with open(bad, "wb") as f:
        f.write(b"\xff\xd8\xff\xe0 not really a JPEG")
    out = os.path.join(d, "wall.mp4")
    cases = [
        # (what, python call, command line arguments, class)
        ("a bad value", lambda: gridvid.render(files, out, fps="fast", **SMALL),
         [*files, "-o", out, "--fps", "fast"], gridvid.UsageError),
        ("an odd width", lambda: gridvid.render(files, out, width=161, **SMALL),
         [*files, "-o", out, "--size", "160x120", "--width", "161"], gridvid.UsageError),
        ("no input", lambda: gridvid.render([], out), ["-o", out], gridvid.UsageError),
        ("a missing input", lambda: gridvid.render([os.path.join(d, "nowhere")], out, **SMALL),
         [os.path.join(d, "nowhere"), "-o", out], gridvid.BadInputError),
        ("no usable image", lambda: gridvid.render([bad], out, **SMALL), [bad, "-o", out],
         gridvid.BadInputError),
        ("a bad file with strict", lambda: gridvid.render(files + [bad], out, strict=True, **SMALL),
         [*files, bad, "-o", out, "--strict"], gridvid.BadInputError),
        ("a missing output folder",
         lambda: gridvid.render(files, os.path.join(d, "no", "wall.mp4"), **SMALL),
         [*files, "-o", os.path.join(d, "no", "wall.mp4")], gridvid.FailureError),
    ]
    for what, call, args, cls in cases:
        e = raises(what, cls, call)
        r = cli(*args)
        if e is None:
            continue
        equal(what + ": exit status as the command's", e.exit_status, r.returncode)
        lines = [ln for ln in r.stderr.decode().splitlines()
                 if not ln.startswith("gridvid: warning: ")]
        first = re.sub(r"^gridvid: (error: )?", "", lines[0] if lines else "")
        first = first.replace("use --demo", "use demo=True")
        # The command names where a value came from ("from --fps"), the
        # binding the keyword ("from keyword fps").
        first = re.sub(r" \(from [^)]*\)$", "", first)
        check("%s: the message (%s) says what the command says (%s)" % (what, e, first),
              str(e).startswith(first) and first != "")
        check(what + ": nothing written", not os.path.exists(out))
        check(what + ": an Error", isinstance(e, gridvid.Error))
    e = raises("an unknown keyword", gridvid.UsageError, gridvid.render, files, out, fsp=30)
    if e:
        equal("an unknown keyword: the message", str(e),
              "unknown setting 'fsp' (did you mean fps?)")
    e = raises("a flag's name as a keyword", gridvid.UsageError, gridvid.render, files, out,
               tile_height=30)
    if e:
        equal("a flag's name: the message", str(e),
              "unknown setting 'tile_height' (the flag --tile-height is the key IMAGE_HEIGHT: "
              "image_height=...)")
    e = raises("a bad value", gridvid.UsageError, gridvid.render, files, out, fps="fast")
    if e:
        check("a bad value: the key, the value, where from (%s)" % e,
              str(e).startswith("FPS: 'fast' is not valid: ") and
              str(e).endswith(" (from keyword fps)"))
        equal("a bad value: code", e.code, _lib.ERR_SETTING)
        check("UsageError is a ValueError", isinstance(e, ValueError))
    e = raises("a value of no usable type", gridvid.UsageError, gridvid.render, files, out,
               gap=object())
    e = raises("a missing .env file", gridvid.UsageError, gridvid.render, files, out,
               env_file=os.path.join(d, "missing.env"))
    if e:
        equal("a missing .env file: the message", str(e),
              "%s: No such file or directory" % os.path.join(d, "missing.env"))
    env = os.path.join(d, "broken.env")
    with open(env, "w") as f:
        f.write("FPS=30\nthis is not a setting\n")
    e = raises("a malformed .env", gridvid.UsageError, gridvid.render, files, out, env_file=env)
    r = cli(*files, "-o", out, "--env-file", env)
    if e:
        equal("a malformed .env: the command's message", "gridvid: %s" % e,
              r.stderr.decode().splitlines()[0])
    equal("errors: nothing written in the folder", sorted(os.listdir(d)),
          ["broken.env", "broken.jpg"])


def test_precedence():
    """keyword > settings dict > environment > .env > default, and a value
    a higher layer replaces is never parsed."""
    d = folder()
    env_file = os.path.join(d, "settings.env")
    with open(env_file, "w") as f:
        f.write("# the replaced tool's .env\nFPS=24\nIMAGE_HEIGHT=100\nANIMATION_DURATION=2\n"
                "GAP=3\nROWS=abc\nCROP_POSITION=\n")
    environ = {"FPS": "25", "IMAGE_HEIGHT": "120", "GAP": "", "ROWS": "2", "PATH": "/x"}

    def frame(settings=None, **kw):
        p = gridvid.plan(demo=True, settings=settings, size="320x240", use_gpu=False, **kw)
        return (p["frame"]["fps"], p["tiles"]["height"], p["frame"]["duration"],
                p["tiles"]["gap"], p["layout"]["lanes"], p["tiles"]["crop"])

    equal("defaults", frame(), ((30, 1), 360, 10.0, 0, 1, "center"))
    equal(".env over the default (empty values ignored)", frame(env_file=env_file, rows=2),
          ((24, 1), 100, 2.0, 3, 2, "center"))
    equal("environment over .env", frame(env_file=env_file, environ=environ),
          ((25, 1), 120, 2.0, 3, 2, "center"))
    equal("keyword over environment", frame(env_file=env_file, environ=environ, fps=26),
          ((26, 1), 120, 2.0, 3, 2, "center"))
    equal("dict over environment, keyword over dict",
          frame({"FPS": 27, "image_height": 90}, env_file=env_file, environ=environ, fps=28),
          ((28, 1), 90, 2.0, 3, 2, "center"))
    equal("keyword None leaves the key to the layers below",
          frame(env_file=env_file, environ=environ, fps=None), ((25, 1), 120, 2.0, 3, 2, "center"))
    e = raises("a bad .env value nobody overrides", gridvid.UsageError, gridvid.plan, demo=True,
               env_file=env_file)
    if e:
        check("a bad .env value: names the file and line (%s)" % e,
              str(e).startswith("ROWS: 'abc' is not valid") and
              str(e).endswith("(from %s line 6)" % env_file))
    # The command line agrees: flag > environment > --env-file.
    env = dict(CLEAN_ENV, FPS="25", IMAGE_HEIGHT="120", ROWS="2")
    r = cli("--demo", "--dry-run", "--size", "320x240", "--gpu", "false", "--env-file", env_file,
            "--fps", "26", env=env)
    p = gridvid.plan(demo=True, size="320x240", use_gpu=False, env_file=env_file,
                     environ=env, fps=26)
    equal("precedence: the plan is the command's", p["lines"], r.stdout.decode().splitlines())
    # Python values as the command line writes them.
    from fractions import Fraction
    p = gridvid.plan(demo=True, size=(320, 240), fps=Fraction(30000, 1001), aspect=(4, 3),
                     background=(1, 2, 3), strict=False, use_gpu=False, image_height=60.0)
    equal("Python values", (p["frame"]["fps"], p["tiles"]["width"], p["tiles"]["height"]),
          ((30000, 1001), 80, 60))


def test_module_is_the_command():
    """python3 -m gridvid runs the gridvid command with the same arguments."""
    def both(*args, cwd=None):
        a = cli(*args, cwd=cwd)
        b = subprocess.run([sys.executable, "-m", "gridvid"] + list(args), cwd=cwd,
                           capture_output=True, env=dict(CLEAN_ENV, PYTHONPATH=PYDIR))
        return a, b

    for args in (["--version"], ["--help"], ["--demo", "--dry-run", "--size", "320x240"],
                 ["--fsp", "30"], ["--demo", "--fps", "0"]):
        a, b = both(*args, cwd=folder())
        equal("python3 -m gridvid %s: exit status" % " ".join(args), b.returncode, a.returncode)
        equal("python3 -m gridvid %s: stdout" % " ".join(args), b.stdout, a.stdout)
        equal("python3 -m gridvid %s: stderr" % " ".join(args), b.stderr, a.stderr)
    d = folder()
    b = subprocess.run([sys.executable, "-m", "gridvid", "--demo", "-o", "m.mp4", "--size",
                        "160x120", "--duration", "1", "--gpu", "false", "--quiet"], cwd=d,
                       capture_output=True, env=dict(CLEAN_ENV, PYTHONPATH=PYDIR))
    equal("python3 -m gridvid renders: exit status " + b.stderr.decode(), b.returncode, 0)
    equal("python3 -m gridvid renders: the video", os.listdir(d), ["m.mp4"])
    b = subprocess.run([sys.executable, "-m", "gridvid", "--version"], capture_output=True,
                       env=dict(CLEAN_ENV, PYTHONPATH=PYDIR,
                                GRIDVID_EXECUTABLE=os.path.join(d, "nothing")))
    equal("python3 -m gridvid without the command: exit status", b.returncode, 127)


def test_library_info():
    equal("version", gridvid.version(), cli("--version").stdout.decode().split()[1])
    equal("library_path is the build's", os.path.realpath(gridvid.library_path()),
          os.path.realpath(os.path.join(BUILD, "libgridvid.so.0")))
    infos = gridvid.settings_info()
    help_text = cli("--help").stdout.decode()
    listed = re.findall(r"^ {20,}([A-Z][A-Z0-9_]*), default (.*)$", help_text, re.M)
    equal("settings_info: keys and defaults as --help lists them",
          [(i.key, i.default) for i in infos], listed)
    equal("settings_info: keyword", infos[0].keyword, infos[0].key.lower())


def main():
    tests = [v for k, v in globals().items() if k.startswith("test_") and callable(v)]
    only = sys.argv[1:]
    for t in tests:
        if only and t.__name__ not in only:
            continue
        t0 = time.monotonic()
        before = fails
        try:
            t()
        except Exception as e:  # a test that breaks counts as one failure
            check("%s raised %s: %s" % (t.__name__, type(e).__name__, e), False)
            import traceback
            traceback.print_exc()
        print("%s %s (%.1f s)" % ("ok:" if fails == before else "FAIL:", t.__name__,
                                 time.monotonic() - t0))
    print("python: %d checks, %d failed" % (checks, fails))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
