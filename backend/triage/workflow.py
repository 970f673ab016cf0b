"""The status workflow as one pure table: which role may move a report from which status to which.

received → open → acknowledged → in_progress → resolved; from any open status to rejected,
referred (both with a note) or duplicate (supervisors, with the original); a resolved report
can be reopened. This table is the one place that says so: every move, single or in bulk, is
checked against :func:`allowed`.
"""

from __future__ import annotations

from backend.reports.models import OPEN_STATUSES

NOTE_REQUIRED = ("rejected", "referred")
# Statuses whose change shows on the public timeline. Reporters are e-mailed of some of them
# only: ``backend.notifications.reporters.TOLD``.
PUBLIC_CHANGES = ("acknowledged", "in_progress", "resolved", "rejected", "referred", "duplicate", "open")

_FORWARD = {
    ("received", "open"),
    ("open", "acknowledged"),
    ("acknowledged", "in_progress"),
    ("in_progress", "resolved"),
}
# A supervisor may skip steps forward (a quick fix goes from open to resolved).
_SKIPS = {
    (a, b) for i, a in enumerate(OPEN_STATUSES) for b in (*OPEN_STATUSES[i + 1 :], "resolved") if (a, b) not in _FORWARD
}
_CLOSE = {(a, b) for a in OPEN_STATUSES for b in ("rejected", "referred")}
_DUPLICATE = {(a, "duplicate") for a in OPEN_STATUSES}
_REOPEN = {("resolved", "open")}

MOVES: dict[str, frozenset[tuple[str, str]]] = {
    "agent": frozenset(_FORWARD | _CLOSE | _REOPEN),
    "supervisor": frozenset(_FORWARD | _SKIPS | _CLOSE | _DUPLICATE | _REOPEN),
    "admin": frozenset(_FORWARD | _SKIPS | _CLOSE | _DUPLICATE | _REOPEN),
}


def allowed(role: str, current: str, target: str) -> bool:
    """Whether ``role`` may move a report from ``current`` to ``target``."""
    return (current, target) in MOVES.get(role, frozenset())


def targets(role: str, current: str) -> list[str]:
    """The statuses ``role`` may move a report to from ``current`` (for the agents' interface)."""
    return sorted(b for a, b in MOVES.get(role, frozenset()) if a == current)
