"""Published videos carry no metadata: udta/meta boxes blanked in place, nothing moved."""

from __future__ import annotations

import io
import struct

import pytest

from backend.media.videos import InvalidVideo, scrub, scrub_in_place


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def phone_video() -> bytes:
    ftyp = box(b"ftyp", b"qt  \x00\x00\x02\x00qt  ")
    gps = box(b"\xa9xyz", b"\x00\x11\x15\xc7+48.9362+002.3574/")
    make = box(b"\xa9mak", b"\x00\x05\x15\xc7Apple")
    udta = box(b"udta", gps + make)
    track = box(b"trak", box(b"tkhd", b"\x00" * 84) + box(b"meta", b"\x00" * 12 + b"com.apple.quicktime.location"))
    moov = box(b"moov", box(b"mvhd", b"\x00" * 100) + track + udta)
    mdat = box(b"mdat", b"\x00\x00\x00\x01frames" * 100)
    return ftyp + moov + mdat


def test_metadata_boxes_are_blanked_and_nothing_moves():
    video = phone_video()
    clean = scrub(video)
    assert len(clean) == len(video)
    assert b"48.9362" not in clean
    assert b"Apple" not in clean
    assert b"location" not in clean
    assert clean.index(b"mdat") == video.index(b"mdat")  # chunk offsets stay right
    assert clean.endswith(video[video.index(b"mdat") - 4 :])
    assert b"free" in clean


@pytest.mark.parametrize("damage", [lambda v: v[:-5], lambda v: v[:20] + b"\xff\xff\xff\xff" + v[24:]])
def test_broken_box_structures_are_refused(damage):
    with pytest.raises(InvalidVideo):
        scrub(damage(phone_video()))


def test_a_video_on_disk_is_cleaned_in_place_reading_only_box_headers(tmp_path):
    """Publication cleans a copy in a temporary file: the same result as in memory, and the media
    data (here 20 MB) is skipped by its header, never read."""
    video = phone_video() + box(b"mdat", b"\x00" * (20 << 20))
    path = tmp_path / "video.mov"
    path.write_bytes(video)

    class Counting(io.FileIO):
        read_bytes = 0

        def read(self, size=-1):
            data = super().read(size)
            Counting.read_bytes += len(data)
            return data

    with Counting(path, "r+") as handle:
        scrub_in_place(handle)
    assert path.read_bytes() == scrub(video)
    assert Counting.read_bytes < 1000
