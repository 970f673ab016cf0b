"""The workflow table, checked exhaustively: every role, every pair of statuses."""

from __future__ import annotations

import itertools

import pytest

from backend.reports.models import STATUSES
from backend.triage import workflow

EXPECTED_AGENT = {
    ("received", "open"),
    ("open", "acknowledged"),
    ("acknowledged", "in_progress"),
    ("in_progress", "resolved"),
    ("resolved", "open"),
    *{(s, t) for s in workflow.ACTIVE for t in ("rejected", "referred")},
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(STATUSES, STATUSES)))
def test_every_move_of_every_role(current, target):
    agent = workflow.allowed("agent", current, target)
    supervisor = workflow.allowed("supervisor", current, target)
    admin = workflow.allowed("admin", current, target)
    assert agent == ((current, target) in EXPECTED_AGENT)
    assert not agent or supervisor  # a supervisor may do all an agent may
    assert supervisor == admin
    if current == target:
        assert not supervisor
    if current in ("rejected", "duplicate", "referred"):
        assert not supervisor  # final
    if target == "duplicate":
        assert supervisor == (current in workflow.ACTIVE)
        assert not agent
    if target == "received":
        assert not supervisor


def test_unknown_roles_may_do_nothing():
    assert not workflow.allowed("citizen", "received", "open")
    assert workflow.targets("citizen", "received") == []


def test_targets_list_the_moves_offered_to_a_role():
    assert workflow.targets("agent", "open") == ["acknowledged", "referred", "rejected"]
    assert "resolved" in workflow.targets("supervisor", "open")
