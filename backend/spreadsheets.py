"""CSV that spreadsheets open safely: OWASP's rule against formula injection, in one place for
every CSV the service writes for people (the agents' export, the sandbox's CSV exports). A text
cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written behind a
single quote, so a spreadsheet shows it as text and never evaluates it; numbers stay numbers."""

from __future__ import annotations

import csv
from typing import Any

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(DANGEROUS):
        return "'" + value
    return value


class SafeWriter:
    """A ``csv.writer`` whose every text cell goes through :func:`safe_cell`."""

    def __init__(self, stream: Any, **options: Any) -> None:
        self._writer = csv.writer(stream, **options)

    def writerow(self, row: list[Any]) -> Any:
        return self._writer.writerow([safe_cell(value) for value in row])
