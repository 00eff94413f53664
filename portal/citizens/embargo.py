"""Embargo rules (configs/requests.yaml): records younger than N years of some types go only to the person
they are about or their legal representative. The clerk is told which rule holds a record back, and why."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .settings import Policy


@dataclass(frozen=True)
class Embargo:
    document: str
    doc_type: str
    years: int  # the rule's age limit
    record_year: int | None  # None: the record's year is not known
    until: int | None  # the first year a third party may have it
    allowed: tuple[str, ...]  # relations that may have it now


def embargo_on(policy: Policy, record: dict, relation: str, today: dt.date | None = None) -> Embargo | None:
    """The rule that keeps `record` from an applicant of `relation`, or None when it may be delivered."""
    metadata = record.get("metadata", {})
    doc_type = metadata.get("doc_type") or "unknown"
    years = [int(y) for y in metadata.get("years") or [] if str(y).isdigit()]
    record_year = max(years) if years else None
    this_year = (today or dt.date.today()).year
    for rule in policy.embargo:
        if doc_type not in rule.doc_types or relation in rule.allowed:
            continue
        if record_year is None or this_year - record_year < rule.years:
            until = record_year + rule.years if record_year is not None else None
            return Embargo(record["id"], doc_type, rule.years, record_year, until, rule.allowed)
    return None
