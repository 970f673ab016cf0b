"""Pure MP4/QuickTime work: a copy of a video with its metadata boxes blanked.

Phones write the place and the device in ``udta`` (QuickTime ``©xyz``, ``©mak``…) and ``meta``
boxes. Each one found is turned, in place, into a ``free`` box of zeros of the same size: no byte
moves, so the chunk offsets of the media data stay right and the video plays as before.
"""

from __future__ import annotations

import struct

# Boxes whose children are boxes (walked); boxes whose content is metadata (blanked).
CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"edts"}
METADATA = {b"udta", b"meta", b"uuid", b"XMP_"}


class InvalidVideo(ValueError):
    """The file is not a well-formed MP4/QuickTime box structure."""


def scrub(data: bytes) -> bytes:
    """The video with every metadata box blanked; :class:`InvalidVideo` if the boxes are broken."""
    out = bytearray(data)
    _walk(out, 0, len(out))
    return bytes(out)


def _walk(buffer: bytearray, start: int, end: int) -> None:
    position = start
    while position < end:
        if end - position < 8:
            raise InvalidVideo("truncated box header")
        size, kind = struct.unpack_from(">I4s", buffer, position)
        header = 8
        if size == 1:
            if end - position < 16:
                raise InvalidVideo("truncated box header")
            size = struct.unpack_from(">Q", buffer, position + 8)[0]
            header = 16
        elif size == 0:
            size = end - position  # the box runs to the end of its parent
        if size < header or position + size > end:
            raise InvalidVideo(f"box {kind!r} overflows its parent")
        if kind in METADATA:
            struct.pack_into(">4s", buffer, position + 4, b"free")
            buffer[position + header : position + size] = bytes(size - header)
        elif kind in CONTAINERS:
            _walk(buffer, position + header, position + size)
        position += size
