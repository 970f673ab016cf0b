"""Real image files made with Pillow: what phones send, and what they should never send."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

# Saint-Denis, as a phone writes it in EXIF (degrees, minutes, seconds).
GPS_LAT, GPS_LON = 48.9362, 2.3574


def _dms(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60, 4)
    return float(degrees), float(minutes), seconds


def phone_exif(orientation: int = 6) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "Fairphone"  # Make
    exif[0x0110] = "FP5"  # Model
    exif[0x0112] = orientation  # Orientation: 6 = rotate 90° clockwise to display
    exif[0x9003] = "2026:11:27 18:42:10"  # DateTimeOriginal (in the Exif IFD on real phones)
    gps = {1: "N", 2: _dms(GPS_LAT), 3: "E", 4: _dms(GPS_LON)}
    exif[0x8825] = gps
    return exif


def jpeg_from_phone(width: int = 400, height: int = 200) -> bytes:
    """A landscape sensor image with orientation 6: it displays as portrait."""
    image = Image.new("RGB", (width, height), (200, 60, 40))
    image.paste((20, 90, 200), (0, 0, width // 4, height))  # a blue band on the left edge
    buffer = io.BytesIO()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'
    image.save(buffer, "JPEG", exif=phone_exif(), xmp=xmp, quality=90)
    return buffer.getvalue()


def heic_from_phone() -> bytes:
    image = Image.new("RGB", (300, 200), (30, 140, 70))
    buffer = io.BytesIO()
    image.save(buffer, "HEIF", exif=phone_exif(orientation=1).tobytes())
    return buffer.getvalue()


def png_with_transparency() -> bytes:
    image = Image.new("RGBA", (500, 500), (0, 0, 0, 0))
    image.paste((255, 200, 0, 255), (100, 100, 400, 400))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def webp() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (2000, 1000), (90, 90, 200)).save(buffer, "WEBP", exif=phone_exif(1))
    return buffer.getvalue()


def cmyk_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("CMYK", (640, 480), (0, 100, 200, 20)).save(buffer, "JPEG")
    return buffer.getvalue()


def truncated_jpeg() -> bytes:
    data = jpeg_from_phone(1200, 900)
    return data[: len(data) // 2]


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A PNG whose header claims 10 gigapixels; only a few bytes of data follow."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def text_named_jpg() -> bytes:
    return b"Ceci n'est pas une photo.\n" * 4


def mp4_header_only() -> bytes:
    return struct.pack(">I", 24) + b"ftypisom" + struct.pack(">I", 512) + b"isomiso2"
