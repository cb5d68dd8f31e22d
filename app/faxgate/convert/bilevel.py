"""Page geometry and the step from a grey page to a bilevel *ink image*.

The pipeline's internal page is an *ink image*: Pillow mode "1", 1728 px wide, ink = 1, paper =
0, at the fax resolution. Keeping ink as 1 lets `tiffio.encode_page` hand the bits to libtiff
without inverting a single pixel.

Grey to bilevel is decided per region: the page is cut into tiles and each tile's share of
*smooth* mid-tones (mid-grey pixels whose neighbours are mid-grey too) says whether it holds
text/line art (a clean threshold keeps strokes sharp) or a photo (error diffusion keeps its
tones). Only the box around photo tiles pays for dithering.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from PIL import Image, ImageFilter, ImageOps

from faxgate.convert.options import FAX_WIDTH_INCHES, FAX_WIDTH_PX, FAX_X_DPI, FaxPageOptions

#: A page is never enlarged more than this to fill the fax width (a small logo stays small-ish).
MAX_UPSCALE = 2.0
#: Pages longer than this are split (A4 length plus a little, so A4 and Letter stay whole).
MAX_PAGE_INCHES = 11.69 * 1.06
#: The length of the pieces a long page (a receipt, a web page) is cut into: A4.
SPLIT_PAGE_INCHES = 11.69

TILE_PX = 96
#: A tile whose share of mid-tone pixels exceeds this is treated as a photo.
PHOTO_MIDTONE_SHARE = 0.25
_MIDTONE_LOW, _MIDTONE_HIGH = 48, 208


class RegionKind(enum.Enum):
    """How a region of a page is made bilevel."""

    TEXT = "text"  # threshold
    PHOTO = "photo"  # error diffusion (Floyd-Steinberg)


@dataclass(frozen=True)
class PagePlan:
    """Where a source page lands on fax paper: rotation, scaled size in pixels, left offset."""

    rotate: bool
    width_px: int
    height_px: int
    left_px: int


def plan_page(width_in: float, height_in: float, options: FaxPageOptions) -> PagePlan:
    """Fit a page of the given size (inches, as displayed) onto fax paper.

    Landscape pages wider than the paper are turned to portrait; the page is scaled to the fax
    width keeping its aspect ratio (never enlarged more than `MAX_UPSCALE`, centred if narrower).
    """
    if width_in <= 0 or height_in <= 0:
        raise ValueError("page size must be positive")
    rotate = width_in > height_in and width_in > FAX_WIDTH_INCHES
    if rotate:
        width_in, height_in = height_in, width_in
    scale = min(FAX_WIDTH_INCHES / width_in, MAX_UPSCALE)
    width_px = min(FAX_WIDTH_PX, max(1, round(width_in * scale * FAX_X_DPI)))
    height_px = max(1, round(height_in * scale * options.y_dpi))
    return PagePlan(rotate, width_px, height_px, (FAX_WIDTH_PX - width_px) // 2)


def region_kind(histogram: list[int]) -> RegionKind:
    """Text or photo, judged by the share of mid-tone pixels in a grey histogram (256 bins)."""
    total = sum(histogram)
    if total == 0:
        return RegionKind.TEXT
    midtones = sum(histogram[_MIDTONE_LOW:_MIDTONE_HIGH])
    return RegionKind.PHOTO if midtones / total > PHOTO_MIDTONE_SHARE else RegionKind.TEXT


def otsu_threshold(histogram: list[int]) -> int:
    """The grey level that best separates ink from paper (Otsu), kept within sane bounds."""
    total = sum(histogram)
    if total == 0:
        return 128
    sum_all = sum(level * count for level, count in enumerate(histogram))
    weight_dark = 0
    sum_dark = 0.0
    best_level, best_variance = 128, -1.0
    for level in range(256):
        weight_dark += histogram[level]
        if weight_dark == 0:
            continue
        weight_light = total - weight_dark
        if weight_light == 0:
            break
        sum_dark += level * histogram[level]
        mean_dark = sum_dark / weight_dark
        mean_light = (sum_all - sum_dark) / weight_light
        variance = weight_dark * weight_light * (mean_dark - mean_light) ** 2
        if variance > best_variance:
            best_level, best_variance = level, variance
    # A page of nothing but paper (or nothing but ink) has no meaningful split: stay central.
    # Light grey text on white must stay ink, paper shading must not become ink.
    return max(96, min(200, best_level + 1))


def _photo_tone(value: int) -> int:
    # Paper (and near-white) stays white and deep shadows solid, so no stray dots speckle the
    # background; the mid-tones are lifted because fax dots print darker than their size.
    if value >= _PAPER_LEVEL:
        return 255
    if value <= _SHADOW_LEVEL:
        return 0
    share = (value - _SHADOW_LEVEL) / (_PAPER_LEVEL - _SHADOW_LEVEL)
    lifted: float = share**0.85
    return round(255 * lifted)


_PAPER_LEVEL, _SHADOW_LEVEL = 224, 24
_PHOTO_TONE_CURVE = [_photo_tone(value) for value in range(256)]


def _threshold_lut(level: int) -> list[int]:
    return [255 if value < level else 0 for value in range(256)]


def _sample(gray: Image.Image) -> tuple[Image.Image, int]:
    """Every other pixel of every other row (no averaging, which would invent mid-tones)."""
    if min(gray.size) < 2 * TILE_PX:
        return gray, 1
    size = ((gray.width + 1) // 2, (gray.height + 1) // 2)
    return gray.resize(size, Image.Resampling.NEAREST), 2


def photo_tiles(sample: Image.Image, step: int) -> Image.Image | None:
    """The tile map (mode "L", 255 = photo) of a sampled grey page, or None if no photo tile.

    One map pixel per `TILE_PX` square of the page. All in Pillow's C code: mark mid-tone
    pixels, average them per tile (box reduction), keep the tiles above the share.
    """
    midtones = sample.point(
        [255 if _MIDTONE_LOW <= value < _MIDTONE_HIGH else 0 for value in range(256)]
    )
    # Keep only mid-tone pixels whose neighbours are mid-tones too: a photo's smooth areas
    # survive, the grey rims of (scanned, blurred) letters are one or two pixels wide and
    # vanish, so dense text is not taken for a photo.
    # (Erosion as a 3x3 box blur kept only where it stays full: much faster than MinFilter.)
    midtones = midtones.filter(ImageFilter.BoxBlur(1)).point(
        [255 if value >= 250 else 0 for value in range(256)]
    )
    tile = TILE_PX // step
    if min(sample.size) >= tile:
        shares = midtones.reduce(tile)
    else:
        shares = midtones.resize((1, 1), Image.Resampling.BOX)
    cutoff = round(PHOTO_MIDTONE_SHARE * 255)
    tiles = shares.point([255 if value > cutoff else 0 for value in range(256)])
    if tiles.getbbox() is None:
        return None
    # Grow the photo area by one tile: a photo's edge tiles (a disc's corners) hold fewer
    # mid-tones than its middle but belong to it; thresholding them leaves solid black blocks.
    return tiles.filter(ImageFilter.MaxFilter(3)) if min(tiles.size) >= 3 else tiles


def photo_mask(gray: Image.Image) -> Image.Image | None:
    """A page-sized mode "1" mask (1 = photo) of the photo tiles of a grey page, or None."""
    tiles = photo_tiles(*_sample(gray))
    if tiles is None:
        return None
    full = tiles.resize((tiles.width * TILE_PX, tiles.height * TILE_PX), Image.Resampling.NEAREST)
    return full.crop((0, 0, gray.width, gray.height)).convert("1")


def gray_to_ink(gray: Image.Image) -> Image.Image:
    """A grey page (mode "L", 255 = white) as an ink image: text thresholded, photos dithered."""
    if gray.mode != "L":
        gray = gray.convert("L")
    sample, step = _sample(gray)
    level = otsu_threshold(sample.histogram())
    ink = gray.point(_threshold_lut(level), "1")
    tiles = photo_tiles(sample, step)
    if tiles is None:
        return ink
    # Dither only the box around the photo tiles (often a logo or a picture, not the page).
    box = tiles.getbbox()
    assert box is not None
    left, top = box[0] * TILE_PX, box[1] * TILE_PX
    right, bottom = min(box[2] * TILE_PX, gray.width), min(box[3] * TILE_PX, gray.height)
    region = gray.crop((left, top, right, bottom))
    dithered = ImageOps.invert(region.point(_PHOTO_TONE_CURVE)).convert("1")  # Floyd-Steinberg
    tile_box = tiles.crop(box)
    mask = tile_box.resize(
        (tile_box.width * TILE_PX, tile_box.height * TILE_PX), Image.Resampling.NEAREST
    ).crop((0, 0, region.width, region.height))
    ink.paste(dithered, (left, top), mask.convert("1"))
    return ink


def split_long_page(ink: Image.Image, y_dpi: int) -> list[Image.Image]:
    """Cut an ink image longer than `MAX_PAGE_INCHES` into A4-long pieces, at blank rows if any."""
    limit = round(MAX_PAGE_INCHES * y_dpi)
    if ink.height <= limit:
        return [ink]
    piece = round(SPLIT_PAGE_INCHES * y_dpi)
    pieces = []
    top = 0
    while ink.height - top > limit:
        cut = _blank_row_near(ink, top + piece, search=piece // 6)
        pieces.append(ink.crop((0, top, ink.width, cut)))
        top = cut
    pieces.append(ink.crop((0, top, ink.width, ink.height)))
    return pieces


def _blank_row_near(ink: Image.Image, wanted: int, search: int) -> int:
    """The lowest blank row in [wanted - search, wanted], or `wanted` (cut through) if none."""
    band = ink.crop((0, wanted - search, ink.width, wanted))
    for row in range(band.height - 1, -1, -1):
        if band.crop((0, row, band.width, row + 1)).getbbox() is None:
            return wanted - search + row + 1
    return wanted


def place_on_fax_width(ink: Image.Image, left_px: int) -> Image.Image:
    """An ink image exactly `FAX_WIDTH_PX` wide with `ink` placed `left_px` from the left edge."""
    if ink.width == FAX_WIDTH_PX and left_px == 0:
        return ink
    paper = Image.new("1", (FAX_WIDTH_PX, ink.height), 0)
    paper.paste(ink.crop((0, 0, min(ink.width, FAX_WIDTH_PX - left_px), ink.height)), (left_px, 0))
    return paper
