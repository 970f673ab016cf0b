"""Pure MP4/QuickTime work: a copy of a video with its metadata boxes blanked.

Phones write the place and the device in ``udta`` (QuickTime ``©xyz``, ``©mak``…) and ``meta``
boxes. Each one found is turned, in place, into a ``free`` box of zeros of the same size: no byte
moves, so the chunk offsets of the media data stay right and the video plays as before.

The box structure is walked by its headers only (a seekable file, read a few bytes at a time): a
50 MB video is checked and cleaned without being read into memory.
"""

from __future__ import annotations

import io
import os
import struct
from typing import IO

# Boxes whose children are boxes (walked); boxes whose content is metadata (blanked).
CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"edts"}
METADATA = {b"udta", b"meta", b"uuid", b"XMP_"}
ZEROS = bytes(1 << 16)


class InvalidVideo(ValueError):
    """The file is not a well-formed MP4/QuickTime box structure."""


def metadata_boxes(stream: IO[bytes]) -> list[tuple[int, int]]:
    """The (start, size) of every metadata box of the video; :class:`InvalidVideo` if the boxes
    are broken. Reads box headers only."""
    end = stream.seek(0, os.SEEK_END)
    found: list[tuple[int, int]] = []
    _walk(stream, 0, end, found)
    stream.seek(0)
    return found


def scrub_in_place(stream: IO[bytes]) -> None:
    """Blank every metadata box of the video in ``stream`` (opened for reading and writing)."""
    for start, size in metadata_boxes(stream):
        header = _header_size(stream, start)
        stream.seek(start + 4)
        stream.write(b"free")
        stream.seek(start + header)
        remaining = size - header
        while remaining > 0:
            remaining -= stream.write(ZEROS[: min(len(ZEROS), remaining)])
    stream.seek(0)


def scrub(data: bytes) -> bytes:
    """The video with every metadata box blanked; :class:`InvalidVideo` if the boxes are broken."""
    buffer = io.BytesIO(data)
    scrub_in_place(buffer)
    return buffer.getvalue()


def _header_size(stream: IO[bytes], position: int) -> int:
    stream.seek(position)
    size = struct.unpack(">I", stream.read(4))[0]
    return 16 if size == 1 else 8


def _walk(stream: IO[bytes], start: int, end: int, found: list[tuple[int, int]]) -> None:
    position = start
    while position < end:
        if end - position < 8:
            raise InvalidVideo("truncated box header")
        stream.seek(position)
        size, kind = struct.unpack(">I4s", stream.read(8))
        header = 8
        if size == 1:
            if end - position < 16:
                raise InvalidVideo("truncated box header")
            size = struct.unpack(">Q", stream.read(8))[0]
            header = 16
        elif size == 0:
            size = end - position  # the box runs to the end of its parent
        if size < header or position + size > end:
            raise InvalidVideo(f"box {kind!r} overflows its parent")
        if kind in METADATA:
            found.append((position, size))
        elif kind in CONTAINERS:
            _walk(stream, position + header, position + size, found)
        position += size
