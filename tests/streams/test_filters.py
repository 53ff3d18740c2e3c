"""The comment filter: every user-property operator, several per key, sources and timestamps."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from sanitas.streams.filters import compile_filter
from sanitas.streams.schemas import CommentFilter

WHEN = datetime(2024, 1, 1, 12, tzinfo=UTC)
CASES: list[tuple[str, dict[str, Any], dict[str, Any], bool]] = [
    ("one_of string hit", {"string:C": {"one_of": ["uk", "de"]}}, {"string:C": "de"}, True),
    ("one_of string miss", {"string:C": {"one_of": ["uk", "de"]}}, {"string:C": "fr"}, False),
    ("one_of string absent", {"string:C": {"one_of": ["uk"]}}, {}, False),
    ("not_one_of hit", {"string:C": {"not_one_of": ["uk"]}}, {"string:C": "fr"}, True),
    ("not_one_of miss", {"string:C": {"not_one_of": ["uk"]}}, {"string:C": "uk"}, False),
    ("not_one_of absent", {"string:C": {"not_one_of": ["uk"]}}, {}, True),
    ("number one_of int vs float", {"number:N": {"one_of": [1]}}, {"number:N": 1.0}, True),
    ("number one_of miss", {"number:N": {"one_of": [1]}}, {"number:N": 2}, False),
    ("number not_one_of", {"number:N": {"not_one_of": [3]}}, {"number:N": 3}, False),
    ("minimum inclusive", {"number:N": {"minimum": 100}}, {"number:N": 100}, True),
    ("minimum below", {"number:N": {"minimum": 100}}, {"number:N": 99.9}, False),
    ("maximum inclusive", {"number:N": {"maximum": 5}}, {"number:N": 5}, True),
    ("maximum above", {"number:N": {"maximum": 5}}, {"number:N": 6}, False),
    ("range absent", {"number:N": {"minimum": 1}}, {}, False),
    (
        "two operators on one key hit",
        {"number:N": {"minimum": 1, "maximum": 9, "not_one_of": [5]}},
        {"number:N": 4},
        True,
    ),
    (
        "two operators on one key miss",
        {"number:N": {"minimum": 1, "maximum": 9, "not_one_of": [5]}},
        {"number:N": 5},
        False,
    ),
    ("string on a number key", {"number:N": {"minimum": 1}}, {"number:N": "7"}, False),
    (
        "several keys all must hold",
        {"string:C": {"one_of": ["uk"]}, "number:N": {"maximum": 3}},
        {"string:C": "uk", "number:N": 4},
        False,
    ),
    (
        "several keys hold",
        {"string:C": {"one_of": ["uk"]}, "number:N": {"maximum": 3}},
        {"string:C": "uk", "number:N": 3},
        True,
    ),
]


@pytest.mark.parametrize(("case", "spec", "props", "expected"), CASES, ids=[c[0] for c in CASES])
def test_user_properties(case: str, spec: dict[str, Any], props: dict[str, Any], expected: bool) -> None:
    parsed = CommentFilter.model_validate({"user_properties": spec}).model_dump(
        mode="json", exclude_none=True
    )
    match = compile_filter(parsed)
    assert match is not None
    assert match("0123456789abcdef", WHEN, props) is expected


@pytest.mark.parametrize(
    ("spec", "source", "expected"),
    [
        ({"sources": ["0123456789abcdef"]}, "0123456789abcdef", True),
        ({"sources": ["0123456789abcdef"]}, "fedcba9876543210", False),
        ({"timestamp": {"minimum": "2024-01-01T12:00:00Z"}}, "0123456789abcdef", True),
        ({"timestamp": {"minimum": "2024-01-01T12:00:01Z"}}, "0123456789abcdef", False),
        ({"timestamp": {"maximum": "2024-01-01T11:59:59Z"}}, "0123456789abcdef", False),
    ],
)
def test_sources_and_timestamp(spec: dict[str, Any], source: str, expected: bool) -> None:
    parsed = CommentFilter.model_validate(spec).model_dump(mode="json", exclude_none=True)
    match = compile_filter(parsed)
    assert match is not None
    assert match(source, WHEN, {}) is expected


@pytest.mark.parametrize("spec", [None, {}, {"user_properties": {}}])
def test_empty_filter_filters_nothing(spec: dict[str, Any] | None) -> None:
    assert compile_filter(spec) is None
