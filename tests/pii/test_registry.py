"""The recognizer registry: built-ins register themselves, a plugin can join, names stay unique."""

from __future__ import annotations

import pytest

from sanitas.pii.entities import Entity
from sanitas.pii.recognizers.base import Recognizer
from sanitas.pii.registry import REGISTRY, build_recognizers, register
from sanitas.pii.types import PII_TYPES


def test_every_pii_type_has_a_recognizer():
    build_recognizers(kinds=frozenset({"heuristics"}), labels=set())  # imports the built-ins
    covered = set().union(*(cls.labels for cls in REGISTRY.values()))
    # first/last names come from person spans; every other type has its own recognizer
    assert set(PII_TYPES) <= covered


@pytest.mark.parametrize(
    ("kinds", "labels", "present", "absent"),
    [
        (frozenset({"heuristics"}), {"email"}, {"email"}, {"name_lexicon", "phone_number"}),
        (frozenset({"heuristics", "model"}), {"person"}, {"person_cue", "name_lexicon"}, {"email"}),
        (frozenset({"heuristics"}), {"person"}, {"person_cue"}, {"name_lexicon"}),
    ],
)
def test_build_selects_by_kind_and_label(kinds, labels, present, absent):
    names = {r.name for r in build_recognizers(kinds=kinds, labels=labels)}
    assert present <= names and not names & absent


def test_plugin_registers_and_duplicates_are_rejected():
    class Shouty(Recognizer):
        name = "test_shouty"
        labels = frozenset({"username"})

        def find(self, text: str) -> list[Entity]:
            return [Entity(0, len(text), "username", 0.9)] if text.isupper() else []

    try:
        register(Shouty)
        assert "test_shouty" in {
            r.name for r in build_recognizers(kinds=frozenset({"heuristics"}), labels={"username"})
        }

        class Impostor(Shouty):
            pass

        with pytest.raises(ValueError, match="registered twice"):
            register(Impostor)
    finally:
        REGISTRY.pop("test_shouty", None)
