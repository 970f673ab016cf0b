"""Derivatives are clean (no metadata of any kind), oriented and resized; bad files are refused."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from backend.media import images
from tests.media import files

METADATA_MARKERS = (b"Exif", b"GPS", b"Fairphone", b"FP5", b"xmpmeta", b"adobe:ns:meta", b"2026:11:27")


def assert_clean(derivative: images.Derivative) -> Image.Image:
    for marker in METADATA_MARKERS:
        assert marker not in derivative.data, marker
    image = Image.open(io.BytesIO(derivative.data))
    assert image.format == "JPEG"
    assert not image.getexif()
    assert not {"exif", "xmp", "XML:com.adobe.xmp", "icc_profile", "comment"} & set(image.info)
    return image


@pytest.mark.parametrize(
    ("maker", "kind"),
    [
        (files.jpeg_from_phone, "image/jpeg"),
        (files.heic_from_phone, "image/heic"),
        (files.png_with_transparency, "image/png"),
        (files.webp, "image/webp"),
        (files.cmyk_jpeg, "image/jpeg"),
    ],
)
def test_every_accepted_photo_gets_clean_derivatives(maker, kind):
    data = maker()
    assert images.sniff(data[:32]) == kind
    made = {d.name: d for d in images.derivatives(data)}
    assert set(made) == {"thumb", "display"}
    for derivative in made.values():
        image = assert_clean(derivative)
        assert image.mode == "RGB"
        assert max(image.size) <= images.DERIVATIVES[derivative.name]


def test_orientation_is_applied_and_sizes_follow_the_longest_side():
    made = {d.name: d for d in images.derivatives(files.jpeg_from_phone(2400, 1200))}
    thumb = Image.open(io.BytesIO(made["thumb"].data))
    display = Image.open(io.BytesIO(made["display"].data))
    assert thumb.size == (160, 320)  # landscape sensor, orientation 6: portrait on screen
    assert display.size == (800, 1600)
    # The blue band on the sensor's left edge is at the top once rotated.
    r, _g, b = thumb.getpixel((80, 10))
    assert b > r


def test_a_small_photo_is_not_enlarged():
    made = {d.name: d for d in images.derivatives(files.jpeg_from_phone(300, 150))}
    assert Image.open(io.BytesIO(made["display"].data)).size == (150, 300)


def test_gps_is_read_from_the_original_for_a_report_without_location():
    lon, lat = images.gps_location(files.jpeg_from_phone())
    assert abs(lat - files.GPS_LAT) < 1e-4
    assert abs(lon - files.GPS_LON) < 1e-4
    assert images.gps_location(files.png_with_transparency()) is None
    assert images.gps_location(files.text_named_jpg()) is None


def test_a_decompression_bomb_is_refused_before_decoding():
    with pytest.raises(images.ImageTooLarge):
        images.derivatives(files.png_bomb())
    with pytest.raises(images.ImageTooLarge):
        images.derivatives(files.jpeg_from_phone(800, 600), max_pixels=100_000)


def test_truncated_and_fake_files_are_refused():
    with pytest.raises(images.MediaError) as truncated:
        images.derivatives(files.truncated_jpeg())
    assert truncated.value.code == "invalid_media"
    assert images.sniff(files.text_named_jpg()[:32]) is None
    with pytest.raises(images.MediaError):
        images.derivatives(files.text_named_jpg())


def test_videos_are_recognised_from_their_content():
    assert images.sniff(files.mp4_header_only()[:32]) == "video/mp4"
    quicktime = files.mp4_header_only().replace(b"isom", b"qt  ", 1)
    assert images.sniff(quicktime[:32]) == "video/quicktime"
