"""Structure rules: postal blocks by line, spans never over a line break, places by context, lists of
people. Each row says whether a value must (or must not) be found with one of the labels given."""

from __future__ import annotations

import pytest

from sanitas.pii.engine import PiiEngine
from sanitas.pii.entities import Entity
from sanitas.pii.recognizers.address_block import split_blocks, starts_block

ADDRESS = {"street_address", "zip_code", "location"}


@pytest.fixture(scope="module")
def model():
    engine = PiiEngine(method="aimon_pii_m1")
    engine.setup()
    return engine


@pytest.fixture(scope="module")
def heuristics():
    engine = PiiEngine(method="heuristics")
    engine.setup()
    return engine


BLOCK = "Marisa Bisliev\n\n583 Magrethevej 298\n Apt. 123\n Qasigiannguit\n Greenlander 07609"
QUOTED = "> Jones\n> Topcoder\n> 53772 Holmatun 45\n> Suite 757\n> Bessastaðahreppur\n> Iceland 28766"
ESCAPED = "Riku M. Andou\\n\\n931 Via Acrone 69\\n Suite 260\\n Valmacca\\n Italy 69124"
INLINE_BLOCK = "Name: Ava Abbott\nAddress: 28171 ul. Siostrzana 48\n Apt. 023\n Kraków\n Poland"

HEURISTIC_ROWS = [
    # (text, value, expected): a block opening its own line is reported field by field ...
    (BLOCK, "Magrethevej 298", True),
    (BLOCK, "Apt. 123", True),
    (BLOCK, "Qasigiannguit", True),
    (BLOCK, "Greenlander", True),
    (BLOCK, "07609", True),
    (BLOCK, "583 Magrethevej 298\n Apt. 123\n Qasigiannguit\n Greenlander 07609", False),
    (QUOTED, "Bessastaðahreppur", True),  # quote markers before each line
    (QUOTED, "28766", True),
    (ESCAPED, "Via Acrone 69", True),  # line breaks escaped as in a CSV or JSON export
    (ESCAPED, "Italy", True),
    # ... an address written inline, or after a label on the same line, stays whole.
    (INLINE_BLOCK, "28171 ul. Siostrzana 48\n Apt. 023\n Kraków\n Poland", True),
    (INLINE_BLOCK, "Kraków", False),
    ("I live at 870 Monica Drive Apt. 948, Francisport.", "870 Monica Drive Apt. 948, Francisport", True),
    ("I live at 870 Monica Drive Apt. 948, Francisport.", "Francisport", False),
    # A blank line inside a block does not end it.
    ("Ana Lind\n\n23680 Parijsstraat 8\n Apt. 026\n Zoetermeer\n\n Netherlands 91196", "91196", True),
]


@pytest.mark.parametrize(("text", "value", "expected"), HEURISTIC_ROWS)
def test_address_blocks(heuristics, text, value, expected):
    found = {text[e.start : e.end] for e in heuristics.analyze(text) if e.label in ADDRESS}
    assert (value in found) is expected, found


@pytest.mark.parametrize(
    ("text", "start", "end", "expected"),
    [
        ("Ann\n12 Main St\nSpringfield", 4, 26, True),
        ("Ann\\n12 Main St\\nSpringfield", 5, 28, True),
        ("at 12 Main St\nSpringfield", 3, 25, False),  # inline: text before it on its line
        ("Ann\n12 Main St, Springfield", 4, 26, False),  # one line only
    ],
)
def test_starts_block(text, start, end, expected):
    assert starts_block(text, start, end) is expected


def test_split_blocks_replaces_overlapping_candidates():
    text = "Ann\n974 Via Roma 131\n Montafia\n Italy 39767"
    whole = Entity(4, len(text), "street_address", 0.85)
    inner = Entity(8, len(text), "street_address", 0.7)  # another pattern's match inside the block
    parts = {(text[e.start : e.end], e.label) for e in split_blocks(text, [whole, inner])}
    assert parts == {
        ("974", "street_address"),
        ("Via Roma 131", "street_address"),
        ("Montafia", "street_address"),
        ("Italy", "street_address"),
        ("39767", "zip_code"),
    }


MODEL_ROWS = [
    # (text, value, labels, expected)
    # Phone numbers and model spans never run over a line break.
    ("Ann Lee\n Italy 34796\n(37) 788-063-Office", "34796\n(37) 788-063", {"phone_number"}, False),
    ("Ann Lee\n Italy 34796\n(37) 788-063-Office", "(37) 788-063", {"phone_number"}, True),
    (
        "Idris Ibragimov\nOnvia\n1317 Kimberly Way",
        "Idris Ibragimov\nOnvia",
        {"person", "organization"},
        False,
    ),
    ("Idris Ibragimov\nOnvia\n1317 Kimberly Way", "Idris Ibragimov", {"person"}, True),
    # A country is a place wherever it stands (the heal's sensitive check counts no place).
    ("I will be travelling to France next week.", "France", {"location"}, True),
    ("Who's coming to Hungary with me?", "Hungary", {"location"}, True),
    ("Belgium was super fun to visit!", "Belgium", {"location"}, True),
    ("How long does a transfer from France take?", "France", {"location"}, True),
    ("I'm in China and need a new card.", "China", {"location"}, True),
    ("Can I get my money back to Work Account?", "Work Account", {"location"}, False),
    # A firm named after its partners is a firm, not a person.
    ("She spent a year at Lopez, Santos and Coleman Inc. as an intern", "Lopez", {"person"}, False),
]


@pytest.mark.parametrize(("text", "value", "labels", "expected"), MODEL_ROWS)
def test_model_structure(model, text, value, labels, expected):
    found = {text[e.start : e.end] for e in model.analyze(text) if e.label in labels}
    assert (value in found) is expected, found
