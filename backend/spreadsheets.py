"""CSV that spreadsheets open safely: OWASP's rule against formula injection, in one place for
every CSV the service writes (the agents' export, the sandbox's CSV exports, the open-data
snapshots' data.csv). A text cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is written behind a single quote, so a spreadsheet shows it as text and never evaluates
it; numbers stay numbers. The rule as Python (:func:`safe_cell`, :class:`SafeWriter`) and as SQL
(:func:`safe_cell_sql`, for CSV files a query engine writes), from the same list."""

from __future__ import annotations

import csv
from typing import Any

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(DANGEROUS):
        return "'" + value
    return value


def safe_cell_sql(column: str) -> str:
    """:func:`safe_cell` as a SQL expression over ``column`` (an already quoted text column; NULL
    stays NULL), for DuckDB and PostgreSQL alike."""
    starts = ", ".join(f"chr({ord(prefix)})" for prefix in DANGEROUS)
    return f"CASE WHEN left({column}, 1) IN ({starts}) THEN chr(39) || {column} ELSE {column} END"


class SafeWriter:
    """A ``csv.writer`` whose every text cell goes through :func:`safe_cell`."""

    def __init__(self, stream: Any, **options: Any) -> None:
        self._writer = csv.writer(stream, **options)

    def writerow(self, row: list[Any]) -> Any:
        return self._writer.writerow([safe_cell(value) for value in row])
