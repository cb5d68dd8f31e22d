"""Raster images (TIFF, PNG, JPEG, GIF) to fax pages.

Resolution tags of images are often wrong (72 dpi on a 300 dpi scan, none at all). The rules:
an image exactly 1728 px wide is taken as a fax page (204 dpi across, its own vertical
resolution if that is 98 or 196, else judged by its shape); otherwise the stated resolution is
believed only if it gives a plausible physical size, and an image without one is taken to be
a page as wide as the paper.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

from PIL import Image, ImageSequence

from faxgate.convert.bilevel import gray_to_ink, place_on_fax_width, plan_page, split_long_page
from faxgate.convert.errors import ConversionLimitError
from faxgate.convert.options import FAX_WIDTH_INCHES, FAX_WIDTH_PX, FaxPageOptions
from faxgate.errors import ConversionError

_INVERT_BYTES = bytes(255 - value for value in range(256))

#: Physical widths (inches) a stated resolution must give to be believed.
PLAUSIBLE_WIDTH_INCHES = (1.0, 24.0)


def physical_size(
    width_px: int, height_px: int, dpi: tuple[float, float] | None
) -> tuple[float, float]:
    """The size in inches an image is meant to have on paper (see the module rules)."""
    if width_px == FAX_WIDTH_PX:
        y_dpi = dpi[1] if dpi and round(dpi[1]) in (98, 196) else None
        if y_dpi is None:
            # A fax page's length in lines: fine pages run ~2200 lines, normal ones ~1100.
            y_dpi = 196.0 if height_px >= 1600 else 98.0
        return FAX_WIDTH_INCHES, height_px / y_dpi
    if dpi and dpi[0] > 0 and dpi[1] > 0:
        width_in = width_px / dpi[0]
        if PLAUSIBLE_WIDTH_INCHES[0] <= width_in <= PLAUSIBLE_WIDTH_INCHES[1]:
            return width_in, height_px / dpi[1]
    return FAX_WIDTH_INCHES, FAX_WIDTH_INCHES * height_px / width_px


def _frame_to_gray(frame: Image.Image) -> Image.Image:
    if frame.mode in ("RGBA", "LA", "PA") or (frame.mode == "P" and "transparency" in frame.info):
        rgba = frame.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(paper, rgba).convert("L")
    if frame.mode == "I;16" or frame.mode.startswith("I") or frame.mode == "F":
        return frame.point(lambda value: value / 256).convert("L")
    return frame.convert("L")


def frame_to_ink(frame: Image.Image, options: FaxPageOptions) -> list[Image.Image]:
    """One image frame as fax-width ink images (more than one if it is a long page)."""
    dpi_info = frame.info.get("dpi")
    dpi = (float(dpi_info[0]), float(dpi_info[1])) if dpi_info else None
    width_in, height_in = physical_size(frame.width, frame.height, dpi)
    plan = plan_page(width_in, height_in, options)
    native = frame.mode == "1" and frame.width == FAX_WIDTH_PX and not plan.rotate
    if native and frame.height == plan.height_px:
        # Already a fax page at this resolution: keep every pixel.
        ink = Image.frombytes("1", frame.size, frame.tobytes().translate(_INVERT_BYTES))
        return split_long_page(ink, options.y_dpi)
    gray = _frame_to_gray(frame)
    if plan.rotate:
        gray = gray.transpose(Image.Transpose.ROTATE_270)  # clockwise, as PDF viewers turn pages
    gray = gray.resize((plan.width_px, plan.height_px), Image.Resampling.BOX, reducing_gap=3.0)
    pieces = split_long_page(gray_to_ink(gray), options.y_dpi)
    return [place_on_fax_width(piece, plan.left_px) for piece in pieces]


def image_page_images(path: Path, options: FaxPageOptions) -> Iterator[Image.Image]:
    """The ink images of every frame of a raster image file, limits checked as we go."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(path)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ConversionLimitError(
            "the image is too large (more pixels than a fax page could ever use)"
        ) from exc
    except (OSError, SyntaxError) as exc:
        raise ConversionError(
            "the image file is damaged or in a format that cannot be read"
        ) from exc
    produced = 0
    with image:
        try:
            for frame in ImageSequence.Iterator(image):
                frame.load()
                for page in frame_to_ink(frame, options):
                    produced += 1
                    if produced > options.page_limit:
                        raise ConversionLimitError(
                            f"the document makes more than {options.page_limit} fax pages"
                        )
                    yield page
        except (OSError, SyntaxError, ValueError) as exc:
            raise ConversionError(f"the image file is damaged: {exc}") from exc
    if produced == 0:
        raise ConversionError("the image has no pages")
