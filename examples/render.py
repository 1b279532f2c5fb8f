#!/usr/bin/env python3
"""Render a photo wall from Python: the images of a folder (or the built-in
demo images) to a video, with a progress line, stopped cleanly by Ctrl-C.

    python3 render.py FOLDER|--demo OUTPUT [KEY=VALUE]...
    python3 render.py ~/Pictures wall.mp4 SIZE=reel LAYOUT=columns

KEY=VALUE pairs are the settings keys of gridvid(1): FPS, SIZE, USE_GPU...
A .env file in the working directory is read as the gridvid command reads
it, and so is the environment; KEY=VALUE pairs win over both.
"""
import os
import sys

import gridvid


def show(p: gridvid.Progress) -> None:
    sys.stderr.write("\r%-7s %d/%d frames  %.1f s" % (p.phase, p.frames_done, p.frames_total,
                                                      p.elapsed_s))
    sys.stderr.flush()


def main() -> int:
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        return 2
    source, output = sys.argv[1], sys.argv[2]
    settings = dict(arg.split("=", 1) for arg in sys.argv[3:] if "=" in arg)
    try:
        summary = gridvid.render(
            None if source == "--demo" else [source], output, settings,
            demo=source == "--demo",
            env_file=".env" if os.path.exists(".env") else None,
            environ=os.environ,
            progress=show)
    except gridvid.Error as e:
        sys.stderr.write("\nrender: %s\n" % e)
        return e.exit_status
    except KeyboardInterrupt:
        sys.stderr.write("\nrender: interrupted, nothing written\n")
        return 130
    sys.stderr.write("\n")
    print("%s: %d frames from %d images (%d skipped), %.1f MB, encoder %s, in %.1f s"
          % (summary["output"], summary["frames"], summary["images_used"],
             summary["images_skipped"], summary["output_bytes"] / 1e6, summary["encoder"],
             summary["seconds"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
