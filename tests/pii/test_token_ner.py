"""The transformer entity core of aimon_pii_m1 (sanitas/pii/model/token_ner): shipped in the package,
uncased by construction, windowed over long texts, scored by its development-split calibration. Every
text here is invented for these tests, none comes from a benchmark generator's templates."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path

import pytest

import sanitas.pii
from sanitas.pii import token_ner
from sanitas.pii.engine import PiiEngine


@pytest.fixture(scope="module")
def engine():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SANITAS_PII_NER_CORE", "token")
        eng = PiiEngine(method="aimon_pii_m1", processes=1)
    eng.setup()
    return eng


def _found(engine: PiiEngine, text: str) -> set[tuple[str, str]]:
    return {(text[e.start : e.end], e.label) for e in engine.analyze(text)}


def test_model_ships_in_the_package():
    package = Path(sanitas.pii.__file__).resolve().parent
    folder = token_ner.MODEL_DIR
    assert folder.is_relative_to(package)
    assert (folder / token_ner.ONNX_FILE).is_file()
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    assert size < 100 * 2**20
    assert json.loads((folder / token_ner.LABELS_FILE).read_text()) == list(token_ner.LABELS)
    table = json.loads((folder / token_ner.CALIBRATION_FILE).read_text())
    assert {"PERSON", "LOC", "ORG"} <= set(table)
    assert all(0.0 < v <= 1.0 for v in table.values())


def test_the_core_is_chosen_by_the_setting(engine, monkeypatch):
    assert not engine._spacy_core
    monkeypatch.delenv("SANITAS_PII_NER_CORE", raising=False)
    assert not PiiEngine(method="aimon_pii_m1", processes=1)._spacy_core  # the token core is the default
    monkeypatch.setenv("SANITAS_PII_NER_CORE", "spacy")
    assert PiiEngine(method="aimon_pii_m1", processes=1)._spacy_core
    monkeypatch.setenv("SANITAS_PII_NER_CORE", "bert")
    with pytest.raises(ValueError, match="SANITAS_PII_NER_CORE must be one of token, spacy"):
        PiiEngine(method="aimon_pii_m1", processes=1)


def test_case_cannot_change_what_the_model_reads():
    # The wordpieces are uncased: the same text in any case gives the same spans and confidences.
    text = "Had lunch with Priya Raman in Grand Rapids, then met Tobias Hendricks of Halvorsen Shipping."
    written, lower, upper = token_ner.token_spans([text, text.lower(), text.upper()])
    assert written and written == lower == upper


@pytest.mark.parametrize(
    ("text", "value", "label"),
    [
        ("had lunch with priya raman in grand rapids", "priya raman", "person"),
        ("RAN INTO TOBIAS HENDRICKS AT THE GYM", "TOBIAS HENDRICKS", "person"),
        ("my sister lives in rotterdam now", "rotterdam", "location"),
        ("just landed in reykjavik, text me when you get here", "reykjavik", "location"),
    ],
)
def test_engine_finds_entities_whatever_the_case(engine, text, value, label):
    assert (value, label) in _found(engine, text)


def test_one_line_form_names_end_before_the_next_key(engine):
    # The name gazetteer read "Brennan Email" (a known name, then a capitalized word nobody lists).
    text = "First Name: Olivia Last Name: Brennan Email: ob@example.com Phone: 555-201-7788"
    assert {v for v, label in _found(engine, text) if label == "person"} == {"Olivia", "Brennan"}


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Name: Grace Okafor DOB: 3/4/1990", "Grace Okafor"),  # an abbreviated key after a cased name
        ("NAME: JOHN DOE: SEEN TODAY", "JOHN DOE"),  # in capitals case tells nothing: the name stays
    ],
)
def test_model_names_end_before_an_abbreviated_key(engine, text, name):
    assert name in {v for v, label in _found(engine, text) if label == "person"}


def test_windows_cover_every_wordpiece_with_overlap():
    body = token_ner.WINDOW - 2
    assert token_ner._windows(10) == [(0, 10)]
    for n in (body + 1, 3 * body + 7, 1000):
        wins = token_ner._windows(n)
        assert wins[0][0] == 0 and wins[-1][1] == n
        assert all(b - a == body for a, b in wins)
        assert all(nxt[0] < cur[1] for cur, nxt in pairwise(wins))  # consecutive windows overlap


def test_long_text_is_read_past_the_first_window():
    filler = "The committee reviewed the quarterly budget and approved the plan. " * 60
    text = filler + "Afterwards Ingrid Solberg flew home to Trondheim."
    spans = token_ner.token_spans([text])[0]
    found = {text[a:b] for a, b, _, _ in spans}
    assert "Ingrid Solberg" in found
    assert all(0 <= a < b <= len(text) for a, b, _, _ in spans)


def test_spans_end_on_word_boundaries():
    text = "Thanks to Anneliese Vandermeerschen for the report"
    for a, b, _, _ in token_ner.token_spans([text])[0]:
        assert (a == 0 or not text[a - 1].isalnum()) and (b == len(text) or not text[b].isalnum())


def test_calibration_buckets_fall_back_to_coarser_ones():
    keys = token_ner.calibration_keys("PERSON", "maria lopez", 0.97)
    assert keys == ["PERSON|lower|multi|hi", "PERSON|hi", "PERSON|lower|multi", "PERSON"]
    assert token_ner.calibration_keys("LOC", "Oslo", 0.5)[0] == "LOC|cased|single|lo"


def test_scores_are_calibrated_precisions():
    table = json.loads((token_ner.MODEL_DIR / token_ner.CALIBRATION_FILE).read_text())
    ents = token_ner.token_entities(["met priya raman in grand rapids yesterday"])[0]
    assert ents
    assert all(0.0 < e.score <= max(table.values()) for e in ents)


def test_names_have_no_digits():
    # The post-filters of the spaCy core apply: a span with digits or markup is no name.
    text = "ticket 4471-B assigned to user_4471 by jdoe99, cc Maren Holt"
    people = [text[e.start : e.end] for e in token_ner.token_entities([text])[0] if e.label == "person"]
    assert not any(ch.isdigit() for name in people for ch in name)


def test_a_name_across_a_window_edge_is_read_whole():
    # Placed so that its wordpieces straddle the end of the first window: each piece takes the reading
    # of the window where it sits furthest from an edge, and the span comes out whole.
    tok = token_ner._load()["tok"]
    filler = "the committee reviewed the quarterly budget and approved the plan . "
    per = len(tok.encode(filler, add_special_tokens=False).ids)
    lead = filler * ((token_ner.WINDOW - 5) // per)
    pad = token_ner.WINDOW - 5 - len(tok.encode(lead, add_special_tokens=False).ids)
    text = lead + "so " * pad + "afterwards Ingrid Solberg flew home. " + filler * 3
    before = len(tok.encode(text[: text.index("Ingrid")], add_special_tokens=False).ids)
    assert before < token_ner.WINDOW - 2 < before + 3  # the name runs past the first window's edge
    found = {(text[a:b], label) for a, b, label, _ in token_ner.token_spans([text])[0]}
    assert ("Ingrid Solberg", "PERSON") in found


def test_a_text_without_entities_has_no_spans():
    assert token_ner.token_spans(["the plan was approved after a short review", ""]) == [[], []]


def test_a_texts_spans_do_not_depend_on_the_texts_read_with_it():
    # The int8 model quantizes activations per forward pass: batched with other windows (and their
    # padding), a text's confidences used to move with its neighbours.
    texts = [
        "Maria Gonzalez flew from Lisbon to Toronto with Air Canada last spring.",
        "ok",
        "call me when u get back from the mall w/ jake",
        "The meeting with Dr. Okafor at Northwind Traders is moved to Friday. " * 12,
        "ship it",
    ]
    together = token_ner.token_spans(texts)
    assert any(together)
    for text, spans in zip(texts, together, strict=True):
        assert token_ner.token_spans([text])[0] == spans
        assert token_ner.token_spans(["a much longer neighbour " * 30, text, "x"])[1] == spans
