"""API key format, pure: ``s93_`` + 40 random base62 characters + a 6-character checksum.

The checksum (CRC32 of the random part, in base62) lets secret scanners and this service
recognise a real key offline, before any database look-up.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
import zlib

PREFIX = "s93_"
RANDOM_LENGTH = 40
CHECKSUM_LENGTH = 6
KEY_LENGTH = len(PREFIX) + RANDOM_LENGTH + CHECKSUM_LENGTH
DISPLAY_LENGTH = len(PREFIX) + 8
ALPHABET = string.digits + string.ascii_letters


def _base62(number: int, width: int) -> str:
    out = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        out.append(ALPHABET[digit])
    return "".join(reversed(out))


def checksum(random_part: str) -> str:
    return _base62(zlib.crc32(random_part.encode()), CHECKSUM_LENGTH)


def generate() -> str:
    """A new key (shown once, never stored)."""
    random_part = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    return PREFIX + random_part + checksum(random_part)


def well_formed(key: str) -> bool:
    """Prefix, length, alphabet and checksum are right (no database needed)."""
    if len(key) != KEY_LENGTH or not key.startswith(PREFIX):
        return False
    body = key[len(PREFIX) :]
    if any(c not in ALPHABET for c in body):
        return False
    random_part, check = body[:RANDOM_LENGTH], body[RANDOM_LENGTH:]
    return hmac.compare_digest(checksum(random_part), check)


def digest(secret: bytes, key: str) -> str:
    """What is stored and looked up: HMAC-SHA256 of the key with the server's secret."""
    return hmac.new(secret, key.encode(), hashlib.sha256).hexdigest()


def display_prefix(key: str) -> str:
    return key[:DISPLAY_LENGTH]
