"""Compile a stream's ``comment_filter`` into a predicate over a comment's stored fields."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sanitas.timeutil import as_utc

Predicate = Callable[[str, datetime, dict[str, Any]], bool]


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _property_test(key: str, spec: dict[str, Any]) -> Callable[[dict[str, Any]], bool]:
    is_number = key.startswith("number:")
    one_of = spec.get("one_of")
    not_one_of = spec.get("not_one_of")
    lo, hi = spec.get("minimum"), spec.get("maximum")
    if is_number:
        one = {float(v) for v in one_of} if one_of is not None else None
        none = {float(v) for v in not_one_of} if not_one_of is not None else set()
    else:
        one = set(one_of) if one_of is not None else None
        none = set(not_one_of or ())

    def test(props: dict[str, Any]) -> bool:
        raw = props.get(key)
        value: Any = _num(raw) if is_number else raw
        if value is None:
            # A missing property matches only filters that merely exclude values.
            return one is None and lo is None and hi is None
        if one is not None and value not in one:
            return False
        if value in none:
            return False
        if lo is not None and value < lo:
            return False
        return not (hi is not None and value > hi)

    return test


def compile_filter(spec: dict[str, Any] | None) -> Predicate | None:
    """A predicate ``(source_id, timestamp, user_properties) -> bool``; None when nothing filters."""
    if not spec:
        return None
    tests = [_property_test(k, v) for k, v in (spec.get("user_properties") or {}).items()]
    sources = set(spec["sources"]) if spec.get("sources") else None
    ts = spec.get("timestamp") or {}
    t_lo = as_utc(datetime.fromisoformat(ts["minimum"])) if ts.get("minimum") else None
    t_hi = as_utc(datetime.fromisoformat(ts["maximum"])) if ts.get("maximum") else None
    if not tests and sources is None and t_lo is None and t_hi is None:
        return None

    def match(source_id: str, timestamp: datetime, props: dict[str, Any]) -> bool:
        if sources is not None and source_id not in sources:
            return False
        if t_lo is not None or t_hi is not None:
            when = as_utc(timestamp)
            if (t_lo is not None and when < t_lo) or (t_hi is not None and when > t_hi):
                return False
        return all(t(props) for t in tests)

    return match
