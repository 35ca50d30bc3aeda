"""A synthetic photo of an electricity meter's face, for the photo encoder's tests and the
bench: a textured wall, the meter's case, an LCD window with a seven-segment reading,
the meter number in small print, and camera noise — deterministic for a seed.

``read_digits`` is a tiny template-matching reader: it tells whether the reading and the
meter number can still be read after the device's downscale and encoding (each digit
compared with the ten clean digits drawn at the same place; the closest must be the
right one, by a clear margin)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont, ImageStat

PHOTO_SIZE = (4032, 3024)  # a 12-megapixel phone camera
READING = "041027.69"
METER_NO = "3205 0018 4471"
LCD_BG = (160, 185, 150)
INK = (25, 30, 25)

# Seven segments: a top, b top right, c bottom right, d bottom, e bottom left,
# f top left, g middle.
_SEGMENTS = {"0": "abcdef", "1": "bc", "2": "abged", "3": "abgcd", "4": "fgbc",
             "5": "afgcd", "6": "afgedc", "7": "abc", "8": "abcdefg", "9": "abcdfg"}


@dataclass(frozen=True)
class Cell:
    """Where one character was drawn (in the full-size photo)."""

    char: str
    box: tuple[int, int, int, int]
    kind: str  # "lcd" or "print"


def _segment_boxes(x: int, y: int, w: int, h: int) -> dict[str, tuple[int, int, int, int]]:
    t = max(2, w // 6)  # stroke
    half = h // 2
    return {"a": (x + t, y, x + w - t, y + t), "d": (x + t, y + h - t, x + w - t, y + h),
            "g": (x + t, y + half - t // 2, x + w - t, y + half + t // 2),
            "f": (x, y + t, x + t, y + half), "b": (x + w - t, y + t, x + w, y + half),
            "e": (x, y + half, x + t, y + h - t), "c": (x + w - t, y + half, x + w, y + h - t)}


def draw_segment_digit(d: ImageDraw.ImageDraw, ch: str, box: tuple[int, int, int, int],
                       ink: tuple[int, int, int] = INK) -> None:
    x0, y0, x1, y1 = box
    for seg in _SEGMENTS[ch]:
        d.rectangle(_segment_boxes(x0, y0, x1 - x0, y1 - y0)[seg], fill=ink)


def meter_face(seed: int = 1, size: tuple[int, int] = PHOTO_SIZE
               ) -> tuple[Image.Image, list[Cell]]:
    """The photo and where its digits are."""
    rnd = random.Random(seed)
    w, h = size
    img = Image.new("RGB", size, (128, 118, 104))
    d = ImageDraw.Draw(img)
    for _ in range(900):  # a rough wall
        x, y, r = rnd.randrange(w), rnd.randrange(h), rnd.randrange(8, 90)
        tone = rnd.randrange(90, 170)
        d.ellipse((x - r, y - r, x + r, y + r),
                  fill=(tone, tone - rnd.randrange(0, 20), tone - rnd.randrange(10, 40)))
    img = img.filter(ImageFilter.GaussianBlur(3))
    d = ImageDraw.Draw(img)
    bx0, by0, bx1, by1 = int(w * .25), int(h * .12), int(w * .75), int(h * .88)
    d.rounded_rectangle((bx0, by0, bx1, by1), radius=60, fill=(214, 214, 208),
                        outline=(90, 90, 90), width=12)
    for i in range(14):  # screws, vents, a label frame: detail around the digits
        sx = bx0 + 80 + i * (bx1 - bx0 - 160) // 13
        d.ellipse((sx - 14, by1 - 140, sx + 14, by1 - 112), fill=(120, 120, 118))
    d.rectangle((int(w * .30), int(h * .58), int(w * .70), int(h * .80)), outline=(60, 60, 60),
                width=6)
    lx0, ly0, lx1, ly1 = int(w * .31), int(h * .22), int(w * .69), int(h * .36)
    d.rectangle((lx0, ly0, lx1, ly1), fill=LCD_BG, outline=(40, 40, 40), width=8)
    cells: list[Cell] = []
    dh = int((ly1 - ly0) * 0.62)
    dw = dh // 2
    gap = dw // 3
    x = lx0 + ((lx1 - lx0) - (len(READING) - 1) * (dw + gap)) // 2
    y = ly0 + ((ly1 - ly0) - dh) // 2
    for ch in READING:
        if ch == ".":
            d.rectangle((x, y + dh - gap, x + gap, y + dh), fill=INK)
            x += gap * 2
            continue
        box = (x, y, x + dw, y + dh)
        draw_segment_digit(d, ch, box)
        cells.append(Cell(ch, box, "lcd"))
        x += dw + gap
    font = ImageFont.load_default(int(h * 0.03))
    px, py = int(w * .32), int(h * .42)
    label = "No. "
    d.text((px, py), label, font=font, fill=INK)
    x = px + int(d.textlength(label, font=font))
    for ch in METER_NO:
        adv = int(d.textlength(ch, font=font))
        if ch != " ":
            left, top, right, bottom = d.textbbox((x, py), ch, font=font)
            cells.append(Cell(ch, (int(left) - 2, int(top) - 2, int(right) + 2,
                                   int(bottom) + 2), "print"))
            d.text((x, py), ch, font=font, fill=INK)
        x += adv
    d.text((px, int(h * .48)), "220V 10(60)A  1600imp/kWh  DDZY102", font=font, fill=INK)
    noise = Image.effect_noise(size, 40).convert("RGB")  # a phone sensor's grain
    return Image.blend(img, noise, 0.10), cells


def _glyph(ch: str, cell: Cell, size: tuple[int, int], original: tuple[int, int]
           ) -> Image.Image:
    """The clean character as it would look in the scaled photo, grey, cell-sized."""
    x0, y0, x1, y1 = cell.box
    big = Image.new("RGB", (x1 - x0, y1 - y0), LCD_BG if cell.kind == "lcd" else (214,) * 3)
    d = ImageDraw.Draw(big)
    if cell.kind == "lcd":
        draw_segment_digit(d, ch, (0, 0, x1 - x0, y1 - y0))
    else:
        font = ImageFont.load_default(int(original[1] * 0.03))
        d.text((2 - d.textbbox((0, 0), ch, font=font)[0], 2 - d.textbbox((0, 0), ch,
               font=font)[1]), ch, font=font, fill=INK)
    return big.convert("L").resize(size, Image.Resampling.LANCZOS)


def _normalised(img: Image.Image) -> Image.Image:
    """Stretch to full contrast so a lighter or darker copy compares fairly."""
    lo, hi = (int(v) for v in img.getextrema()[:2])  # type: ignore[arg-type]  # grey: min, max
    if hi <= lo:
        return img
    return img.point(lambda v: (v - lo) * 255 // (hi - lo))


def read_digits(photo: Image.Image, cells: list[Cell], *, original: tuple[int, int] = PHOTO_SIZE,
                margin: float = 1.15) -> list[str | None]:
    """Read each cell of ``photo`` (a scaled copy of the original): the closest clean
    digit, or None when it is not closer than ``margin`` times the runner-up."""
    scale = photo.size[0] / original[0]
    grey = photo.convert("L")
    out: list[str | None] = []
    for cell in cells:
        x0, y0, x1, y1 = (round(v * scale) for v in cell.box)
        size = (max(1, x1 - x0), max(1, y1 - y0))
        seen = _normalised(grey.crop((x0, y0, x1, y1)))
        scores = []
        for ch in "0123456789":
            ref = _normalised(_glyph(ch, cell, size, original))
            diff = ImageStat.Stat(ImageChops.difference(seen, ref)).mean[0]
            scores.append((diff, ch))
        scores.sort()
        best, second = scores[0], scores[1]
        out.append(best[1] if best[0] * margin < second[0] else None)
    return out


def contrast(photo: Image.Image, cells: list[Cell], kind: str,
             original: tuple[int, int] = PHOTO_SIZE) -> float:
    """Standard deviation of the grey levels over the cells of ``kind`` (ink against
    background: how crisp the digits still are)."""
    scale = photo.size[0] / original[0]
    boxes = [c.box for c in cells if c.kind == kind]
    x0 = round(min(b[0] for b in boxes) * scale)
    y0 = round(min(b[1] for b in boxes) * scale)
    x1 = round(max(b[2] for b in boxes) * scale)
    y1 = round(max(b[3] for b in boxes) * scale)
    return float(ImageStat.Stat(photo.convert("L").crop((x0, y0, x1, y1))).stddev[0])
