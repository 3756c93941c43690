"""Deterministic synthetic images: a seeded two-colour gradient with a simple face drawn on it."""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw, ImageOps

from simulator.content.markers import is_marker_name, write_marker

_PIL_FORMATS = {"png": "PNG", "jpeg": "JPEG", "gif": "GIF", "bmp": "BMP"}

Colour = tuple[int, int, int]


def _colour(rng: random.Random) -> Colour:
    return rng.randrange(256), rng.randrange(256), rng.randrange(256)


def _shift(colour: Colour, by: int) -> Colour:
    return (colour[0] + by) % 256, (colour[1] + 2 * by) % 256, (colour[2] + 3 * by) % 256


def _frame(size: tuple[int, int], top: Colour, bottom: Colour, skin: Colour) -> Image.Image:
    width, height = size
    gradient = Image.linear_gradient("L").resize(size)
    image = ImageOps.colorize(gradient, top, bottom)
    draw = ImageDraw.Draw(image)
    stroke = max(1, min(width, height) // 64)
    draw.ellipse((width * 0.25, height * 0.15, width * 0.75, height * 0.85), fill=skin, outline=(40, 30, 30))
    for left in (0.36, 0.56):
        draw.ellipse((width * left, height * 0.38, width * (left + 0.08), height * 0.46), fill=(30, 30, 30))
    draw.arc(
        (width * 0.38, height * 0.5, width * 0.62, height * 0.72), 20, 160, fill=(150, 40, 40), width=stroke
    )
    return image


#: what ``make_image`` makes at most: a side, pixels over all frames, GIF frames (vendors take far less)
MAX_SIDE = 8192
MAX_PIXELS = 40_000_000
MAX_FRAMES = 100


def make_image(
    scenario: str | None,
    fmt: str = "png",
    size: tuple[int, int] = (256, 256),
    frames: int = 1,
    *,
    seed: int = 0,
) -> bytes:
    """Encoded image bytes carrying the marker for ``scenario`` (none when it is None).

    Same arguments give the same bytes (for a given Pillow build). Multi-frame GIF frames shift every colour
    so no two consecutive frames are equal (Pillow would merge them); frames last 100 ms and loop forever.
    """
    if fmt not in _PIL_FORMATS:
        raise ValueError(f"unknown image format {fmt!r}; expected one of {', '.join(_PIL_FORMATS)}")
    if size[0] <= 0 or size[1] <= 0:
        raise ValueError(f"image size must be positive, got {size[0]}x{size[1]}")
    if frames < 1 or frames > MAX_FRAMES or (frames > 1 and fmt != "gif"):
        raise ValueError(
            f"frames must be 1 (or up to {MAX_FRAMES} for gif: Baidu's limit is 50), got {frames} for {fmt}"
        )
    if max(size) > MAX_SIDE or size[0] * size[1] * frames > MAX_PIXELS:
        raise ValueError(
            f"{size[0]}x{size[1]} x {frames} frame(s) is too large: at most {MAX_SIDE} px a side and "
            f"{MAX_PIXELS:,} pixels in all (no vendor takes a side over 4096 px, Baidu's limit; a "
            f"little more is enough to test its 216202)"
        )
    if scenario is not None and not is_marker_name(scenario):
        raise ValueError(f"invalid scenario name {scenario!r}: must match [A-Za-z0-9_.-]{{1,64}}")
    rng = random.Random(seed)
    top, bottom = _colour(rng), _colour(rng)
    skin = (rng.randrange(170, 256), rng.randrange(120, 200), rng.randrange(90, 160))
    images = [_frame(size, _shift(top, 40 * i), _shift(bottom, 40 * i), skin) for i in range(frames)]
    out = io.BytesIO()
    if frames > 1:
        images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=100, loop=0)
    elif fmt == "jpeg":
        images[0].save(out, "JPEG", quality=85)
    else:
        images[0].save(out, _PIL_FORMATS[fmt])
    data = out.getvalue()
    return data if scenario is None else write_marker(data, scenario)
