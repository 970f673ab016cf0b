"""The workflow table, pinned whole: for every role, exactly the moves written here (a move added
or removed anywhere fails this test)."""

from __future__ import annotations

import itertools

import pytest

from backend.directory.models import ROLES
from backend.reports.models import STATUSES
from backend.triage import workflow

OPEN = ("received", "open", "acknowledged", "in_progress")
CLOSE = {(s, t) for s in OPEN for t in ("rejected", "referred")}
AGENT = {
    ("received", "open"),
    ("open", "acknowledged"),
    ("acknowledged", "in_progress"),
    ("in_progress", "resolved"),
    ("resolved", "open"),  # a resolved report can be reopened
    *CLOSE,
}
SUPERVISOR = AGENT | {
    # skipping steps forward
    ("received", "acknowledged"),
    ("received", "in_progress"),
    ("received", "resolved"),
    ("open", "in_progress"),
    ("open", "resolved"),
    ("acknowledged", "resolved"),
    # marking a duplicate
    *{(s, "duplicate") for s in OPEN},
}
EXPECTED = {"agent": AGENT, "supervisor": SUPERVISOR, "admin": SUPERVISOR}


def test_every_role_has_its_row():
    assert set(workflow.MOVES) == set(ROLES) == set(EXPECTED)


@pytest.mark.parametrize(("role", "current", "target"), list(itertools.product(ROLES, STATUSES, STATUSES)))
def test_every_move_of_every_role(role, current, target):
    assert workflow.allowed(role, current, target) == ((current, target) in EXPECTED[role])


def test_no_move_leaves_a_final_status_but_the_reopening_of_a_resolved_report():
    for moves in workflow.MOVES.values():
        assert {(a, b) for a, b in moves if a not in OPEN} <= {("resolved", "open")}


def test_unknown_roles_may_do_nothing():
    assert not workflow.allowed("citizen", "received", "open")
    assert workflow.targets("citizen", "received") == []


def test_targets_list_the_moves_offered_to_a_role():
    assert workflow.targets("agent", "open") == ["acknowledged", "referred", "rejected"]
    assert workflow.targets("supervisor", "resolved") == ["open"]
