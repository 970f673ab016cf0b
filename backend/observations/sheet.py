"""The sheet of QR labels to print for a park's posts: A4, six labels a page, each with its zone's
name, its station number, its QR code and the short address it holds (for a phone without a QR
reader)."""

from __future__ import annotations

import io
from collections.abc import Callable

from fpdf import FPDF

from backend.observations import qr

COLUMNS, ROWS = 2, 3
LABEL_W, LABEL_H = 95.0, 90.0  # millimetres
MARGIN_X, MARGIN_Y = 10.0, 8.5
QR_MM = 55.0
# The PDF core fonts write Latin-1: what else a French name may hold, written as close as it goes.
_LATIN1 = str.maketrans({"\u2013": "-", "\u2014": "-", "\u2019": "'", "\u0153": "oe", "\u0152": "OE", "\u2026": "..."})


def _text(value: str) -> str:
    return value.translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")


def qr_sheet(
    park_name: str,
    stations: list[tuple[int, int, str, str]],
    public_base_url: str,
    *,
    progress: Callable[[str], None] | None = None,
) -> bytes:
    """The PDF of the labels of ``stations`` (number, of, slug, zone name)."""
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_title(_text(f"QR codes - {park_name}"))
    pdf.set_author("Signal93")
    for position, (number, of, slug, name) in enumerate(stations):
        if position % (COLUMNS * ROWS) == 0:
            pdf.add_page()
        column, row = position % COLUMNS, (position // COLUMNS) % ROWS
        x, y = MARGIN_X + column * LABEL_W, MARGIN_Y + row * LABEL_H
        url = qr.zone_url(public_base_url, slug)
        pdf.set_draw_color(180, 180, 180)
        pdf.set_line_width(0.2)
        pdf.rect(x, y, LABEL_W - 2, LABEL_H - 2)  # the cutting line
        pdf.set_xy(x + 3, y + 3)
        pdf.set_font("helvetica", "B", 14)
        pdf.cell(LABEL_W - 8, 7, _text(name), align="C")
        pdf.set_xy(x + 3, y + 10)
        pdf.set_font("helvetica", "", 10)
        pdf.cell(LABEL_W - 8, 5, _text(f"Station {number} sur {of} - {park_name}"), align="C")
        image = io.BytesIO(qr.png(url, size=600))
        pdf.image(image, x=x + (LABEL_W - 2 - QR_MM) / 2, y=y + 17, w=QR_MM, h=QR_MM)
        pdf.set_xy(x + 3, y + 17 + QR_MM + 2)
        pdf.set_font("helvetica", "", 9)
        pdf.cell(LABEL_W - 8, 5, _text(url), align="C")
        pdf.set_xy(x + 3, y + 17 + QR_MM + 7)
        pdf.set_font("helvetica", "I", 9)
        pdf.cell(LABEL_W - 8, 5, _text("Flashez : découvrez la zone et partagez vos observations"), align="C")
        if progress:
            progress(slug)
    return bytes(pdf.output())
