"""Page geometry and grey-to-bilevel decisions."""

from __future__ import annotations

import random

import pytest
from PIL import Image, ImageDraw

from faxgate.convert.bilevel import (
    MAX_UPSCALE,
    RegionKind,
    gray_to_ink,
    otsu_threshold,
    photo_mask,
    place_on_fax_width,
    plan_page,
    region_kind,
    split_long_page,
)
from faxgate.convert.options import FaxPageOptions, Resolution

FINE = FaxPageOptions()
NORMAL = FaxPageOptions(resolution=Resolution.NORMAL)
A4 = (8.27, 11.69)
LETTER = (8.5, 11.0)


def test_a4_fills_the_width_keeping_its_aspect() -> None:
    plan = plan_page(*A4, FINE)
    assert not plan.rotate
    assert plan.width_px == 1728
    assert plan.left_px == 0
    # 11.69 in scaled by 8.47/8.27, at 196 lines per inch
    assert plan.height_px == pytest.approx(11.69 * (1728 / 204 / 8.27) * 196, abs=1)


def test_normal_resolution_has_half_the_lines() -> None:
    assert plan_page(*LETTER, NORMAL).height_px * 2 == pytest.approx(
        plan_page(*LETTER, FINE).height_px, abs=1
    )


def test_landscape_page_is_turned_to_portrait() -> None:
    plan = plan_page(A4[1], A4[0], FINE)
    assert plan.rotate
    assert plan.width_px == 1728
    assert plan.height_px == plan_page(*A4, FINE).height_px


def test_a3_is_scaled_down_to_a4_size() -> None:
    a3 = plan_page(11.69, 16.54, FINE)
    assert not a3.rotate
    assert a3.width_px == 1728
    assert a3.height_px == pytest.approx(plan_page(*A4, FINE).height_px, abs=3)


def test_narrow_page_is_enlarged_at_most_twice_and_centred() -> None:
    plan = plan_page(3.0, 20.0, FINE)
    assert plan.width_px == round(3.0 * MAX_UPSCALE * 204)
    assert plan.left_px == (1728 - plan.width_px) // 2
    assert plan.height_px == round(20.0 * MAX_UPSCALE * 196)


def test_small_landscape_card_is_not_rotated() -> None:
    assert not plan_page(5.0, 3.0, FINE).rotate


def test_region_kind_by_midtones() -> None:
    text = [0] * 256
    text[0], text[255], text[128] = 1000, 8000, 200  # ink, paper, a few anti-aliased edges
    photo = [0] * 256
    for level in range(40, 220):
        photo[level] = 50
    assert region_kind(text) is RegionKind.TEXT
    assert region_kind(photo) is RegionKind.PHOTO
    assert region_kind([0] * 256) is RegionKind.TEXT


def test_otsu_splits_ink_from_paper_of_a_scan() -> None:
    histogram = [0] * 256
    histogram[40], histogram[235] = 500, 9000  # dark ink on off-white paper
    level = otsu_threshold(histogram)
    assert 40 < level <= 200
    assert otsu_threshold([0] * 256) == 128


def _text_page() -> Image.Image:
    page = Image.new("L", (960, 960), 240)
    draw = ImageDraw.Draw(page)
    for row in range(10):
        draw.text((40, 40 + row * 80), "Invoice 4711 total 19.90 EUR", fill=30)
    return page


def _photo_page() -> Image.Image:
    rng = random.Random(1)
    page = Image.linear_gradient("L").resize((960, 960))
    noise = Image.frombytes(
        "L", (960, 960), bytes(rng.randrange(60, 190) for _ in range(960 * 960))
    )
    return Image.blend(page, noise, 0.5)


def test_text_page_is_thresholded_not_dithered() -> None:
    page = _text_page()
    assert photo_mask(page) is None
    ink = gray_to_ink(page)
    assert ink.mode == "1"
    # Paper is clean (no dots) and the text is there.
    assert ink.crop((0, 900, 960, 960)).getbbox() is None
    assert ink.getbbox() is not None


def test_photo_page_is_dithered() -> None:
    page = _photo_page()
    assert photo_mask(page) is not None
    ink = gray_to_ink(page)
    # Dithering leaves a mix of ink and paper in a mid-grey area; a threshold would not.
    middle = ink.crop((400, 400, 560, 560)).convert("L").histogram()
    assert middle[0] > 0.15 * 160 * 160
    assert middle[255] > 0.15 * 160 * 160


def test_paper_around_a_photo_stays_white() -> None:
    page = Image.new("L", (960, 960), 245)
    page.paste(_photo_page().resize((400, 400)), (280, 280))
    ink = gray_to_ink(page)
    assert ink.crop((0, 0, 960, 150)).getbbox() is None


def test_long_page_is_split_at_blank_rows() -> None:
    height = 3 * 2292
    ink = Image.new("1", (1728, height), 0)
    draw = ImageDraw.Draw(ink)
    for top in range(0, height, 40):
        draw.rectangle((100, top, 1600, top + 29), fill=1)  # "text lines" with 10-row gaps
    pieces = split_long_page(ink, 196)
    assert len(pieces) == 3
    assert sum(piece.height for piece in pieces) == height
    for piece in pieces[:-1]:
        # Each cut fell into a gap: the piece's last row is blank.
        assert piece.crop((0, piece.height - 1, 1728, piece.height)).getbbox() is None


def test_short_page_is_not_split() -> None:
    assert len(split_long_page(Image.new("1", (1728, 2292), 0), 196)) == 1


def test_place_on_fax_width_centres() -> None:
    ink = Image.new("1", (800, 100), 1)
    placed = place_on_fax_width(ink, 464)
    assert placed.size == (1728, 100)
    assert placed.getbbox() == (464, 0, 1264, 100)
