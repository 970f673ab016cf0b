"""The QR codes of the nature zones' posts: each holds the short address of its zone's page."""

from __future__ import annotations

import io

import segno

# Q: a quarter of the code may be scratched, faded or hidden by a sticker and still read.
ERROR_LEVEL = "q"
BORDER = 4  # modules of quiet zone around the code, as the standard asks
MIN_SIZE, MAX_SIZE, DEFAULT_SIZE = 64, 2048, 512


def zone_url(public_base_url: str, slug: str) -> str:
    """The address a zone's QR code holds: short, for a small post."""
    return f"{public_base_url}/z/{slug}"


def svg(url: str, *, title: str) -> bytes:
    code = segno.make(url, error=ERROR_LEVEL, micro=False, boost_error=False)
    out = io.BytesIO()
    code.save(out, kind="svg", scale=10, border=BORDER, xmldecl=False, title=title, svgclass=None, lineclass=None)
    return out.getvalue()


def png(url: str, *, size: int = DEFAULT_SIZE) -> bytes:
    """A PNG at least ``size`` pixels wide (whole modules: the nearest scale that reaches it)."""
    code = segno.make(url, error=ERROR_LEVEL, micro=False, boost_error=False)
    modules, _ = code.symbol_size(scale=1, border=BORDER)
    out = io.BytesIO()
    code.save(out, kind="png", scale=max(1, -(-size // modules)), border=BORDER)
    return out.getvalue()
