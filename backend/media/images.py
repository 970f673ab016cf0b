"""Pure Pillow work on uploads: what a file really is, and derivatives with no metadata at all.

Nothing here trusts a file name or a declared Content-Type: the kind comes from the content.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from fractions import Fraction
from typing import IO

import pillow_heif
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

pillow_heif.register_heif_opener()
# Our own limit (``max_pixels``) is checked from the header before decoding; Pillow's global one
# would only warn between 89 and 178 megapixels, whatever the configuration says.
Image.MAX_IMAGE_PIXELS = None

PHOTO_TYPES = {"image/jpeg", "image/png", "image/webp", "image/heic"}
VIDEO_TYPES = {"video/mp4", "video/quicktime"}
# Longest side of each public derivative.
DERIVATIVES = {"thumb": 320, "display": 1600}
DEFAULT_MAX_PIXELS = 40_000_000


class MediaError(ValueError):
    """An upload that cannot be used; ``code`` says which 4xx to answer."""

    code = "invalid_media"


class UnsupportedMedia(MediaError):
    code = "unsupported_media_type"


class ImageTooLarge(MediaError):
    code = "image_too_large"


def sniff(head: bytes) -> str | None:
    """The media type of a file from its first bytes (at least 32), or None if not accepted."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"):
            return "image/heic"
        if brand == b"qt  ":
            return "video/quicktime"
        if brand in (b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ", b"dash"):
            return "video/mp4"
    return None


@dataclass(frozen=True)
class Derivative:
    name: str
    content_type: str
    data: bytes
    width: int
    height: int


def open_checked(data: bytes | IO[bytes], max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Open an image (bytes, or a seekable file read as needed), refusing more than
    ``max_pixels`` (decompression bombs included) from its header, before any pixel is decoded;
    unreadable data is a :class:`MediaError`."""
    try:
        image = Image.open(_source(data))
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge(str(exc)) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise MediaError(f"not a readable image: {exc}") from exc
    if image.width * image.height > max_pixels:
        raise ImageTooLarge(f"{image.width}x{image.height} is more than {max_pixels} pixels")
    return image


def check_decodable(data: bytes | IO[bytes], max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
    """Refuse, at intake, a photo that is too large or cannot be decoded to its end (truncated,
    corrupt). JPEGs are decoded at 1/8 scale: the whole file is read, at little cost."""
    image = open_checked(data, max_pixels)
    try:
        if image.format == "JPEG":
            image.draft("RGB", (max(1, image.width // 8), max(1, image.height // 8)))
        image.load()
    except (OSError, SyntaxError, ValueError) as exc:
        raise MediaError(f"not a readable image: {exc}") from exc


def derivatives(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> list[Derivative]:
    """The public derivatives of a photo: oriented, resized, re-encoded as JPEG, with no EXIF,
    XMP, GPS or any other metadata. Raises :class:`MediaError` for an unusable file."""
    out = []
    for name, side in sorted(DERIVATIVES.items(), key=lambda item: -item[1]):
        image = open_checked(data, max_pixels)
        try:
            if image.format == "JPEG":
                image.draft("RGB", (side, side))  # decode at a reduced scale: faster, less memory
            image.thumbnail((side, side), Image.Resampling.LANCZOS)
            image = ImageOps.exif_transpose(image)  # after thumbnail: orientation on fewer pixels
            clean = _without_metadata(image)
        except (OSError, SyntaxError, ValueError) as exc:  # truncated or corrupt data shows up here
            raise MediaError(f"not a readable image: {exc}") from exc
        buffer = io.BytesIO()
        clean.save(buffer, "JPEG", quality=85, optimize=True, progressive=True)
        out.append(Derivative(name, "image/jpeg", buffer.getvalue(), clean.width, clean.height))
    return out


def _without_metadata(image: Image.Image) -> Image.Image:
    """A copy holding pixels only: RGB, no info dict (EXIF, XMP, ICC, comments…)."""
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.getchannel("A"))
        image = background
    elif image.mode != "RGB":
        image = image.convert("RGB")
    clean = Image.new("RGB", image.size)
    clean.paste(image)
    return clean


def _source(data: bytes | IO[bytes]) -> IO[bytes]:
    if isinstance(data, bytes):
        return io.BytesIO(data)
    data.seek(0)
    return data


def gps_location(data: bytes | IO[bytes]) -> tuple[float, float] | None:
    """``(lon, lat)`` from a photo's EXIF GPS tags (bytes, or a seekable file), or None."""
    try:
        image = Image.open(_source(data))
        gps = image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None
    try:
        lat = _degrees(gps[ExifTags.GPS.GPSLatitude], gps.get(ExifTags.GPS.GPSLatitudeRef, "N"))
        lon = _degrees(gps[ExifTags.GPS.GPSLongitude], gps.get(ExifTags.GPS.GPSLongitudeRef, "E"))
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return lon, lat


def _degrees(value, ref: str) -> float:
    degrees, minutes, seconds = (float(Fraction(str(part))) if not isinstance(part, float) else part for part in value)
    result = degrees + minutes / 60 + seconds / 3600
    return -result if ref in ("S", "W") else result
