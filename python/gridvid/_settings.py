"""Settings: the keywords of render(), start(), preview() and plan(),
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
    output_filename: Pathish
    """Output video; .mp4, .mov, .mkv, .webm, or an animated .webp or .gif. Key OUTPUT_FILENAME, flag --output FILE, default output.mp4."""
    size: Union[str, Tuple[int, int]]
    """Frame size: WxH, 720p, 1080p, 1440p, 4k, reel (1080x1920) or square. Key SIZE, flag --size WxH|PRESET, default 1080p."""
    width: Union[int, str]
    """Frame width, even. Key WIDTH, flag --width PIXELS, default 1920."""
    height: Union[int, str]
    """Frame height, even. Key HEIGHT, flag --height PIXELS, default 1080."""
    fps: Union[int, float, Fraction, str, Tuple[int, int]]
    """Frames per second: 30, 29.97 or 30000/1001. Key FPS, flag --fps N[/D], default 30."""
    animation_duration: Number
    """Length of the video. Key ANIMATION_DURATION, flag --duration SECONDS, default 10."""
    layout: Literal['rows', 'columns']
    """Rows slide sideways, columns up and down. Key LAYOUT, flag --layout rows|columns, default rows."""
    rows: Union[int, str]
    """Rows (columns) of tiles, 0 = as many as fill the frame. Key ROWS, flag --rows N, default 0."""
    aspect: Union[str, Tuple[int, int]]
    """Tile aspect ratio (sets ASPECT_RATIO_W and _H). Key ASPECT, flag --aspect W:H, default 1:1."""
    aspect_ratio_w: Union[int, str]
    """Tile aspect ratio, width part. Key ASPECT_RATIO_W, flag --aspect-ratio-w N, default 1."""
    aspect_ratio_h: Union[int, str]
    """Tile aspect ratio, height part. Key ASPECT_RATIO_H, flag --aspect-ratio-h N, default 1."""
    image_height: Union[int, str]
    """Tile height. Key IMAGE_HEIGHT, flag --tile-height PIXELS, default 360."""
    crop_position: str
    """Center, top, bottom, left, right, attention or entropy. Key CROP_POSITION, flag --crop POSITION, default center."""
    gap: Union[int, str]
    """Space between tiles. Key GAP, flag --gap PIXELS, default 0."""
    background: Union[str, Tuple[int, int, int]]
    """A colour name, #rrggbb, #rgb or r,g,b; or transparent (alpha: ProRes 4444, VP9 or WebP). Key BACKGROUND, flag --background COLOUR, default black."""
    direction: str
    """Left, right or alternate; up and down for columns. Key DIRECTION, flag --direction DIR, default left."""
    easing: str
    """Linear, ease-in-out, ease-in or ease-out. Key EASING, flag --easing CURVE, default linear."""
    speed: Number
    """Px/s for every row; 0 = each row travels its own length once. Key SPEED, flag --speed PX_PER_S, default 0."""
    motion_blur: Union[int, str]
    """Samples per frame, 1 = off. Key MOTION_BLUR, flag --motion-blur N, default 1."""
    order: str
    """Name, mtime, shuffle (seed 0), shuffle:SEED or given. Key ORDER, flag --order ORDER, default name."""
    recursive: Union[bool, str]
    """Descend into subdirectories. Key RECURSIVE, flag --recursive, default false."""
    strict: Union[bool, str]
    """Stop at the first bad input file (exit 3). Key STRICT, flag --strict, default false."""
    clip_loop: Literal['loop', 'bounce', 'hold']
    """A clip shorter than its tile is shown: from the start again, backwards and forwards, or its last frame stays. Key CLIP_LOOP, flag --clip-loop loop|bounce|hold, default loop."""
    clip_start: Literal['visible', 'zero']
    """A clip starts when its tile first shows, or with the video. Key CLIP_START, flag --clip-start visible|zero, default visible."""
    live_photos: Literal['play', 'still']
    """A still with a movie of the same name beside it plays the movie, or shows the still. Key LIVE_PHOTOS, flag --live-photos play|still, default play."""
    ken_burns: Number
    """Each tile zooms by this much while it crosses the frame, in or out in turn, towards its focus (panoramas and tall images pan instead); 0 = off. Key KEN_BURNS, flag --ken-burns PERCENT, default 0."""
    camera: Literal['none', 'tilted', 'floor', 'side']
    """The wall seen through a perspective camera: none (flat), tilted, floor or side. Key CAMERA, flag --camera none|tilted|floor|side, default none."""
    tilt: Number
    """The wall turned about its horizontal axis, positive: its top leans away; 0 = CAMERA's angle. Key TILT, flag --tilt DEGREES, default 0."""
    turn: Number
    """The wall turned about its vertical axis, positive: its right side goes away; 0 = CAMERA's angle. Key TURN, flag --turn DEGREES, default 0."""
    fov: Number
    """The camera's vertical field of view. Key FOV, flag --fov DEGREES, default 50."""
    distance: Number
    """The camera's distance from the wall, 1 = the wall's centre at its own scale, larger is farther. Key DISTANCE, flag --distance FACTOR, default 1."""
    depth_fade: Number
    """How much the far wall fades into BACKGROUND (100: fully at 4 x the centre's distance). Key DEPTH_FADE, flag --depth-fade PERCENT, default 0."""
    title: str
    """A title card over the wall for its first TITLE_DURATION seconds. Key TITLE, flag --title TEXT, default none."""
    subtitle: str
    """A smaller line under the title. Key SUBTITLE, flag --subtitle TEXT, default none."""
    title_duration: Number
    """How long the title shows, fading in and out. Key TITLE_DURATION, flag --title-duration SECONDS, default 4."""
    font: str
    """The font family of all text, such as Sans, DejaVu Serif or Noto Sans CJK JP. Key FONT, flag --font NAME, default Sans."""
    title_size: Union[int, str]
    """The title's text height, 0 = a twelfth of the frame height. Key TITLE_SIZE, flag --title-size PIXELS, default 0."""
    text_color: str
    """The colour of all text: a colour name, #rrggbb, #rgb or r,g,b. Key TEXT_COLOR, flag --text-color COLOUR, default white."""
    text_style: Literal['plate', 'shadow', 'none']
    """What keeps text readable: a translucent dark plate behind it, a soft shadow, or nothing. Key TEXT_STYLE, flag --text-style plate|shadow|none, default plate."""
    caption: str
    """A caption in every tile: the file's name, the capture date, an EXIF or XMP field such as exif:Model, or the text of the .txt file beside the image. Key CAPTION, flag --caption none|filename|date|exif:FIELD|sidecar, default none."""
    caption_size: Union[int, str]
    """The caption's text height, 0 = a twelfth of the tile height (at least 10). Key CAPTION_SIZE, flag --caption-size PIXELS, default 0."""
    logo: Pathish
    """An image (a PNG with alpha, or any) drawn over the whole video. Key LOGO, flag --logo FILE, default none."""
    logo_position: str
    """Where the logo goes in the frame. Key LOGO_POSITION, flag --logo-position top-left|top-right|bottom-left|bottom-right|center, default bottom-right."""
    logo_size: Number
    """The logo's width as a percentage of the frame's width. Key LOGO_SIZE, flag --logo-size PERCENT, default 15."""
    beat_sync: Literal['off', 'steps', 'pulse']
    """The wall's motion follows the beat of AUDIO: rows move in eased steps that land on the beats (steps), or speed up in pulses on them (pulse); the video still loops seamlessly. Key BEAT_SYNC, flag --beat-sync off|steps|pulse, default off."""
    max_pixels: Union[int, str]
    """Refuse larger images (k, M, G suffixes). Key MAX_PIXELS, flag --max-pixels N, default 200M."""
    codec: str
    """Auto (h264; vp9 for .webm; webp for .webp; gif for .gif), h264, hevc, av1, prores, vp9, webp or gif. Key CODEC, flag --codec CODEC, default auto."""
    encoder: str
    """Auto, or an FFmpeg encoder such as libx264. Key ENCODER, flag --encoder NAME, default auto."""
    crf: Union[int, str]
    """Quality of software encoders, lower is better. Key CRF, flag --crf N, default 23."""
    preset: str
    """Software encoder speed preset. Key PRESET, flag --preset NAME, default faster."""
    bitrate: Union[int, str]
    """Bits per second for hardware encoders (k, M, G). Key BITRATE, flag --bitrate BITS, default 5M."""
    audio: Pathish
    """Audio to mux in, cut to the video's length. Key AUDIO, flag --audio FILE, default none."""
    use_videotoolbox: Union[bool, str]
    """Prefer VideoToolbox on macOS. Key USE_VIDEOTOOLBOX, flag --videotoolbox BOOL, default true."""
    use_gpu: Union[bool, Literal['auto', 'true', 'false', 'require']]
    """GPU when one works (true: warn if not), CPU only, or GPU or fail. Key USE_GPU, flag --gpu auto|true|false|require, default auto."""
    gpu_decode: Union[bool, Literal['auto', 'true', 'false', 'require']]
    """JPEG decoding on the GPU's JPEG engine where there is one (true: warn if not), never, or engine or fail. Key GPU_DECODE, flag --gpu-decode auto|true|false|require, default auto."""
    gpu_device: str
    """Use the Vulkan device whose name contains NAME. Key GPU_DEVICE, flag --gpu-device NAME, default first suitable."""
    gpu_memory_limit: Union[int, str]
    """Memory the GPU path may hold. Key GPU_MEMORY_LIMIT, flag --gpu-memory MIB, default 2048."""
    memory_limit: Union[int, str]
    """Memory the frames may hold, sizing the encoder's threads and look-ahead; auto or 0 = 2048. Key MEMORY_LIMIT, flag --memory-limit MIB|auto, default auto."""
    thread_count: Union[int, str]
    """Worker threads, 0 = one per core. Key THREAD_COUNT, flag --threads N, default 0."""
    memory_batch_size: Union[int, str]
    """Images decoded at once, 0 = 2 x threads. Key MEMORY_BATCH_SIZE, flag --batch N, default 0."""
    stream_processing: Union[bool, str]
    """False: also keep every frame as PNG in TEMP_DIR. Key STREAM_PROCESSING, flag --stream BOOL, default true."""
    temp_dir: Pathish
    """Where temporary files go. Key TEMP_DIR, flag --temp-dir DIR, default system temp."""
    preview: Pathish
    """Write one frame as PNG instead of a video. Key PREVIEW, flag --preview FILE.png, default none."""
    preview_at: Number
    """Time of the preview frame. Key PREVIEW_AT, flag --at SECONDS, default 0."""
