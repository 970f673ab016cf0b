"""Routing rules, pure: given where a point is, which unit or external body receives the report."""

from __future__ import annotations

import string
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from backend.routing.geometry import IndexedZone, Place, ZoneIndex

# Names a rule's public message may use, each filled with the name of a zone around the point.
MESSAGE_FIELDS = ("commune", "territory", "park", "road", "zone")


@dataclass(frozen=True)
class Rule:
    """One routing rule (see ``backend.routing.models.RoutingRule`` for the meaning of fields)."""

    code: str
    programs: frozenset[str]
    categories: frozenset[str]
    condition: str
    zone_kind: str | None
    target: str
    directorate_code: str | None
    unit_code: str | None
    unit_of: str | None
    message: str

    def in_scope(self, program: str, category: str) -> bool:
        return (not self.programs or program in self.programs) and (not self.categories or category in self.categories)


@dataclass(frozen=True)
class Recipient:
    """A unit of a directorate, or an external body."""

    id: int
    code: str
    name: str
    directorate_id: int | None = None
    directorate_code: str | None = None
    directorate_name: str | None = None
    notify_method: str = "none"


@dataclass
class Directory:
    """Who can receive reports, indexed the ways rules look them up."""

    units: dict[str, Recipient] = field(default_factory=dict)
    unit_by_zone: dict[tuple[str, int], Recipient] = field(default_factory=dict)
    body_by_zone: dict[int, Recipient] = field(default_factory=dict)
    program_directorate: dict[str, tuple[int, str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    """Where a report goes and why. ``unit`` xor ``referred_to`` is set."""

    rule: str
    directorate_id: int
    directorate_code: str
    directorate_name: str
    unit: Recipient | None
    referred_to: Recipient | None
    zones: tuple[dict[str, Any], ...]
    message: str

    @property
    def referred(self) -> bool:
        return self.referred_to is not None

    def record(self, revision: str) -> dict[str, Any]:
        """The decision as stored with the report: names as they were when it was made."""
        return {
            "directorate": {"code": self.directorate_code, "name": self.directorate_name},
            "unit": {"code": self.unit.code, "name": self.unit.name} if self.unit else None,
            "referred_to": {"code": self.referred_to.code, "name": self.referred_to.name} if self.referred_to else None,
            "rule": self.rule,
            "zones": list(self.zones),
            "message": self.message,
            "revision": revision,
        }


def check_message(message: str) -> list[str]:
    """The placeholders of a message that routing cannot fill."""
    names = {name for _, name, _, _ in string.Formatter().parse(message) if name is not None}
    return sorted(names - set(MESSAGE_FIELDS))


def decide(
    place: Place, index: ZoneIndex, program: str, category: str, rules: list[Rule], directory: Directory
) -> Decision | None:
    """The first rule, in order, whose scope and condition match and whose recipient exists."""
    territory = index.by_id.get(place.commune.parent_id) if place.commune and place.commune.parent_id else None
    for rule in rules:
        if not rule.in_scope(program, category):
            continue
        matched = _condition_zone(rule, place)
        if matched is False:
            continue
        target_zone, recipient = _recipient(rule, place, territory, matched, directory)
        if recipient is None:
            continue
        names = {
            "commune": place.commune.name if place.commune else "",
            "territory": territory.name if territory else "",
            "park": (place.first("park") or _EMPTY).name,
            "road": matched.name if matched and matched.kind == "road" else "",
            "zone": target_zone.name if target_zone else "",
        }
        zones = [z for z in (matched or None, target_zone, place.commune) if z]
        if rule.target == "referral":
            directorate_id, directorate_code, directorate_name = directory.program_directorate[program]
            unit, body = None, recipient
        else:
            directorate_id, directorate_code = recipient.directorate_id, recipient.directorate_code
            directorate_name = recipient.directorate_name
            unit, body = recipient, None
        return Decision(
            rule=rule.code,
            directorate_id=directorate_id,
            directorate_code=directorate_code,
            directorate_name=directorate_name,
            unit=unit,
            referred_to=body,
            zones=tuple(_zone_ref(z, place) for z in dict.fromkeys(zones)),
            message=rule.message.format_map(defaultdict(str, names)),
        )
    return None


_EMPTY = IndexedZone(id=0, kind="", code="", name="")


def _condition_zone(rule: Rule, place: Place) -> IndexedZone | bool | None:
    """The zone that satisfies the rule's condition; None for "anywhere"; False if unmet."""
    if rule.condition == "anywhere":
        return None
    if rule.condition == "inside":
        return place.first(rule.zone_kind or "") or False
    if rule.condition == "corridor":
        roads = place.corridors.get(rule.zone_kind or "")
        return roads[0][0] if roads else False
    return False


def _recipient(
    rule: Rule,
    place: Place,
    territory: IndexedZone | None,
    matched: IndexedZone | None,
    directory: Directory,
) -> tuple[IndexedZone | None, Recipient | None]:
    if rule.target == "unit" and rule.unit_code:
        return None, directory.units.get(rule.unit_code)
    zone = _zone_of_kind(rule.unit_of, place, territory, matched)
    if zone is None:
        return None, None
    if rule.target == "referral":
        return zone, directory.body_by_zone.get(zone.id)
    return zone, directory.unit_by_zone.get((rule.directorate_code or "", zone.id))


def _zone_of_kind(
    kind: str | None, place: Place, territory: IndexedZone | None, matched: IndexedZone | None
) -> IndexedZone | None:
    if kind == "commune":
        return place.commune
    if kind == "territory":
        return territory
    if matched is not None and matched.kind == kind:
        return matched
    return place.first(kind or "")


def _zone_ref(zone: IndexedZone, place: Place) -> dict[str, Any]:
    ref: dict[str, Any] = {"kind": zone.kind, "code": zone.code, "name": zone.name}
    if zone is place.commune and place.commune_snapped_m:
        ref["snapped_m"] = round(place.commune_snapped_m, 1)
    return ref
