"""The learned entity core of ``aimon_pii_m1``: the project's own spaCy NER (``sanitas/pii/model/ner``).

The model is trained by ``scripts/train_ner.py`` on human-annotated social text (WNUT-17, the Broad
Twitter Corpus) and on synthetic documents of many genres in mixed, lower and upper case; it ships in the
package, so nothing is downloaded. Scores are not the model's (a transition-based parser has none) but
the precision each kind of span reached on the development split (``calibration.json``, written by the
training script): a span's label, its case shape and whether it has one token or several. So ``threshold``
keeps its meaning, an estimated precision, whatever the case or genre of the text.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sanitas.pii.entities import Entity
from sanitas.pii.field_keys import field_kind
from sanitas.pii.lexicons import DEGREES, lexicons
from sanitas.pii.recognizers.base import drop_trailing_words, without_next_key
from sanitas.pii.spacy_data import import_spacy

MODEL_DIR = Path(__file__).resolve().parent / "model" / "ner"
CALIBRATION_FILE = "calibration.json"

# Model label -> our pii_type; MISC (products, creative works) is learned only so that it is not ORG.
NER_LABELS: dict[str, str] = {"PERSON": "person", "LOC": "location", "ORG": "organization"}
# The score of a kind of span the development split had too few of: the label's own precision, else this.
DEFAULT_SCORE = 0.5
# A title ahead of a name, or a title alone (the core's "Dr" beside a "Chen" it read apart: no name).
_TITLES = r"Mr|Mrs|Ms|Miss|Mx|Dr|Drs|Prof|Profs|Messrs|Sir|Dame|Rev|Fr"
_TITLE = re.compile(rf"(?:(?:{_TITLES})\.?(?:\s+|$))+", re.IGNORECASE)
# A title (or a calling) right before a name: the name is a person's ("Dr. Parkinson", "Nurse Kelly").
_TITLE_BEFORE = re.compile(rf"\b(?:{_TITLES}|Professor|Nurse)\.?\s+\Z", re.IGNORECASE)
# Degrees after a name ("SMITH, ROBERT MD", "Ana Ruiz, MD, PhD"), one or several; "M.D" has lost its last
# stop to the trim already. Not "DO" here: in a span in capitals it is also a surname ("NGUYEN THI LAN DO").
_DEGREE_TAIL = re.compile(rf"(?:(?:,[ \t]?|[ \t])(?:{DEGREES}))+\Z")
# A name right before the name of a disease or a syndrome, or heading that of a scale, criteria or a law
# of nature ("Hodgkin lymphoma", "Glasgow Coma Scale", "Framingham criteria", "Doppler effect"), names
# that thing, not a person or a place; with a title before it ("Dr. Parkinson") it is the person.
# Possessives are left alone ("Maria's disease" is hers), and so are nouns that are also verbs: in
# social text "Dempsey scores", "Arsenal sign" and "Sierra Leone tests positive" are people, teams and
# places doing something (measured on the WNUT-17 and BTC training splits).
_EPONYM_HEAD = re.compile(
    r"[ \t]+(?i:disease|syndrome|palsy|lymphoma|sarcoma|phenomenon|reflex)(?![\w-])"
    r"|(?:[ \t]+[A-Z][a-z]+){0,2}[ \t]+(?i:scale|criteria|criterion|classification|equation|theorem|effect)"
    r"(?![\w-])"
)
# (a match opens only at a run of spaces' first: linear in a long run)
_UNIT_TAIL = re.compile(r"(?<!\s)\s+(?:Apt|Apartment|Suite|Ste|Unit|Flat|Room|Rm)\.?$", re.IGNORECASE)
# A name has no digits or markup; a span with them is the model reading a handle, a code or a field.
_BAD_PERSON = re.compile(r"[\d@/#:_=<>|\\]")
_LETTER = re.compile(r"[^\W\d_]")
_LOWER = re.compile(r"[^\W\d_A-Z]")
# Three digits in a row are a number, a code or an address: the patterns' domain, not a name's.
_DIGITS = re.compile(r"\d{3}")
_HANDLE = re.compile(r"[@#]\w{2,}")
# An e-mail address or a web address inside a span: the model read a contact line as a name, a firm or a
# place ("olivia.chen@brightwatercap.com" as an organization); the patterns own those values.
_WEB_ADDRESS = re.compile(r"[\w.+-]@[\w-]+\.\w|://|\bwww\.")
# A line break (real or escaped), a tab or a run of three spaces or more: the gap between two fields of
# a form or two columns of a table ("Homeroom: Mrs. Alvarez   Phone: ..."), which no name spans (two
# spaces are also a typing slip inside one name: "Lara  Fiorentino").
_BREAK = re.compile(r"\r?\n|\\n|\t|   +")
# A line break, or a stop after a word of three letters or more and then a space: a sentence end, not an
# initial's or a short title's stop ("J. Smith", "Dr. Chen"); or "and" between words: one person's name
# never holds it ("KIM AND LI" are two people; a firm's name may: "Procter and Gamble").
_BREAK_OR_END = re.compile(rf"{_BREAK.pattern}|(?<=[^\W\d_]{{3}})[.!?]\s+|\s+(?i:and|&)\s+")

# The calibrated score from which the token classifier's capitalized dictionary word is a name: its top
# confidence tier (the development precision of such spans, .97; the tier below is .79).
DICTIONARY_NAME_MIN = 0.9
# Calibrated precision under which an organization of one given name is read as a person (see _entity).
UNSURE_ORG = 0.8
# A country, state or continent is scored as any other place, by the development precision of the span:
# a score says how likely the span is a location, not whether it singles someone out. (Capping them
# under the threshold hid real places on every human-annotated corpus: wnut17, btc, presidio-synth.)
# Whether a place identifies a person is the consumer's call: the heal's sensitive check counts none.

# Sentence openings, all capitalized, that show a writer who uses case. Two were too little evidence: a
# tweet of two sentences that both open on a capital still names people in lower case or by a word no
# name list holds ("So Shima still isn't back. Please Shima come back"). On wnut17/dev the adjustment
# below cost .019 typed F1 and bought no precision with two; with three it costs .005, and the heal's
# sensitive precision on medical abstracts (8-15 sentences, where it was built) is unchanged. Chosen
# among 2-5 on those two development sets (five cost the medical sets .02-.03).
CASED_OPENINGS = 3
# Score factor of a lower-case span in a text whose writer capitalizes (see ``_writes_capitals``).
LOWER_IN_CASED = 0.3
_CASED_LABELS = frozenset({"person"})
# A sentence opening: after the text's start, a line break, or an end mark that does not close a word
# of one or two letters (an initial or an abbreviation: "J. Smith", "H. pylori", "high vs. low",
# "Klebsiella sp. or", "et al. in" open no sentence).
_OPENING = re.compile(r"(?:^|(?<![^\W\d_])[.!?]\s+|(?<=[^\W\d_]{3})[.!?]\s+|\n\s*)([^\W\d_][\w-]*)")
# Lower-case words a personal name may hold (nobiliary and patronymic particles, in the languages whose
# names Faker's locales and the corpora carry): any other lower-case word in a capitalizing writer's
# "name" makes it a term ("Giardia lamblia", "Shiley pericardial").
_NAME_PARTICLES = frozenset(
    "von van der den de del della di da das dos du la le les ter ten zu af av bin ibn bint al el y e".split()
)

_lock = threading.Lock()
_nlp: Any = None
_table: dict[str, float] = {}

# Characters per spaCy batch: the model's activations grow with the tokens in a batch, so long chunks
# go in smaller batches and peak memory stays flat whatever the input size.
BATCH_CHARS = 100_000


def load_nlp() -> Any:
    """Load the shipped NER pipeline and its calibration once per process (thread-safe) and return it."""
    global _nlp, _table
    with _lock:
        if _nlp is None:
            nlp = import_spacy().load(MODEL_DIR)
            # Chunking keeps each text far below this; the limit only guards memory.
            nlp.max_length = 2_000_000
            path = MODEL_DIR / CALIBRATION_FILE
            _table = json.loads(path.read_text()) if path.exists() else {}
            _nlp = nlp
    return _nlp


def shape_key(label: str, value: str) -> str:
    """The calibration bucket of a span: label, case shape (lower, upper, cased) and token count."""
    if value.islower():
        shape = "lower"
    elif value.isupper() and len(value) > 1:
        shape = "upper"
    else:
        shape = "cased"
    size = "multi" if len(value.split()) > 1 else "single"
    return f"{label}|{shape}|{size}"


def span_score(label: str, value: str, table: dict[str, float] | None = None) -> float:
    """The development-split precision of spans like this one (finest bucket with enough support)."""
    table = _table if table is None else table
    key = shape_key(label, value)
    if key in table:
        return table[key]
    return table.get(label, DEFAULT_SCORE)


def ner_batch(texts: list[str], *, batch_size: int = 256) -> list[list[tuple[int, int, str, str]]]:
    """Run NER over ``texts``; per text the spans as (start, end, model_label, text)."""
    nlp = load_nlp()
    out: list[list[tuple[int, int, str, str]]] = []
    longest = max((len(t) for t in texts), default=1)
    size = max(1, min(batch_size, BATCH_CHARS // max(1, longest)))
    for doc in nlp.pipe(texts, batch_size=size):
        out.append([(e.start_char, e.end_char, e.label_, e.text) for e in doc.ents])
    return out


# What joins two names, never part of one: coordinating conjunctions and a dash standing alone.
# (A preposition is different: "Maronite College of" is a name cut short, so it stays.)
_JOINERS = frozenset(("and", "or", "nor", "but", "&", "-", "–", "—", "/"))
# English's closed classes (articles, pronouns, prepositions, conjunctions, auxiliaries): a span made of
# them alone names nothing. The model marks "the" before a place it then drops ("in the EU": "EU" is
# an abbreviation, so "the" was left as a place scored .94).
_FUNCTION_WORDS = frozenset(
    """a an the this that these those my your his her its our their me you him us them i we they he she it
    of in on at to from by for with into onto over under about after before between through during without
    and or nor but so yet if as than then is are was were be been am do does did has have had will would
    can could shall should may might must""".split()
)


def trim_span(text: str, start: int, end: int, label: str) -> tuple[int, int] | None:
    """A model span without what is not the entity: a person's title, a possessive, trailing punctuation,
    an address unit run into a name; None when nothing name-like is left."""
    while end > start and text[end - 1] in " .,;:'’\"!?)-–—":
        end -= 1
    if 0 < start < end and text[start] in ".-" and text[start - 1].isalnum():
        # The core's span opened inside a word, on its stop or hyphen ("Dr. Chen", "Faina D. Yefremova",
        # "rosales-mcguire"): it opens where that word does (a title is cut off below).
        while start > 0 and not text[start - 1].isspace():
            start -= 1
    while start < end and text[start] in " '\"(“‘,;:":
        start += 1
    if _HANDLE.fullmatch(text, start, end):
        # "@jane_doe": the model read the account as a person or a firm; the handle is kept whole.
        return start, end
    if text[end - 2 : end] in ("'s", "’s"):
        end -= 2
    # "Grace O'Neill or", "Rotorua -": a name, place or firm never ends on a joiner.
    end = drop_trailing_words(text, start, end, _JOINERS.__contains__)
    if label == "person":
        m = _TITLE.match(text, start, end)
        if m:
            start = m.end()
        unit = _UNIT_TAIL.search(text, start, end)
        if unit is not None:
            # "Vera Lind Apt. 4": a name run into the address unit that follows it.
            end = unit.start()
        degree = _DEGREE_TAIL.search(text, start, end)
        if degree is not None:
            end = degree.start()
        if _BAD_PERSON.search(text, start, end):
            return None
        # "Name: Grace Okafor DOB: 3/4/1990": the model ran the name into the next field's key.
        end = without_next_key(text, start, end, dictionary=False)
    # A name, place or firm has two letters at least: one alone is an initial, a side or a grade ("L ARM").
    if end <= start or len(_LETTER.findall(text, start, end)) < 2 or _DIGITS.search(text, start, end):
        return None
    if _in_code(text, start, end) or _WEB_ADDRESS.search(text, start, end):
        return None
    if _EPONYM_HEAD.match(text, end) and not _TITLE_BEFORE.search(text, max(0, start - 12), start):
        return None
    if all(w.lower() in _FUNCTION_WORDS for w in text[start:end].split()):
        return None
    return start, end


def _in_code(text: str, start: int, end: int) -> bool:
    """Whether the span is a piece of a longer unbroken token with a digit in it: the prefix of a code
    or a reference ("POL" of "POL-88213441", "AB" of "AB12-X"), not a name."""
    a = start
    while a > 0 and not text[a - 1].isspace():
        a -= 1
    b = end
    while b < len(text) and not text[b].isspace():
        b += 1
    if (a, b) == (start, end):
        return False
    outside = text[a:start] + text[end:b]
    return any(c.isdigit() for c in outside.rstrip(".,;:!?)'\"’”"))


def _line_pieces(text: str, start: int, end: int, *, sentences: bool = False) -> list[tuple[int, int]]:
    """A span cut at line breaks (real or escaped): a name never runs over one, and the model's spans
    that do ("Idris Ibragimov\\nOnvia") join two fields of a block. With ``sentences`` (a person's span)
    it is cut at sentence ends and at "and" too ("DAN. DAN stands for"; "Sen. Warren" gives "Sen" and
    "Warren"; "KIM AND LI" two people); a firm's or a place's name may hold an abbreviation's stop ("Mass.
    General")."""
    cuts = _BREAK_OR_END if sentences else _BREAK
    if cuts.search(text, start, end) is None:
        return [(start, end)]
    out = []
    pos = start
    for m in [*cuts.finditer(text, start, end), None]:
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


def _acronym(value: str, text: str, *, person: bool = False) -> bool:
    """Short all-caps tokens in a text that has lower case elsewhere: an abbreviation ("UK", "ATM",
    "GBP"), or several side by side that are no known names ("HIA FUDR", but not "MARY JONES" on a
    form), not a name. In an all-caps text case says nothing, but a ``person`` of one word of four
    letters or fewer that no name list holds is still an abbreviation ("VNA", "AFIB" in a note)."""
    tokens = value.split()
    if not tokens or not all(len(t) <= 5 and t.isupper() for t in tokens):
        return False
    if _LOWER.search(text) is None:
        return person and len(tokens) == 1 and len(tokens[0]) <= 4 and not _known_name(tokens[0])
    return len(tokens) == 1 or not any(_known_name(t) for t in tokens)


def _known_name(token: str) -> bool:
    """A known given or family name, as written or, in capitals, as a name is written ("JOHN DOE"):
    ``is_name_token`` reads a short word in capitals as an abbreviation, which alone it mostly is, but in
    a core's span of several words, or among dictionary words, it is a name written on a form or in a
    note ("JOHN" of "JOHN DOE")."""
    lex = lexicons()
    return lex.is_name_token(token) or (token.isupper() and lex.is_name_token(token.capitalize()))


def _dictionary_word(value: str, mapped: str, *, sure_case_blind: bool = False) -> bool:
    """Words of the English dictionary, none a known name, called a person ("Cancel", "Balance",
    "ventricular fibrillation", "electron microscopy"): they open a sentence, label a button or name a
    condition far more often than a person. (Places keep such words: on social text the same filter
    cost more true places than it removed false ones.)

    A case-blind core (the token classifier reads uncased wordpieces) that calls a capitalized word a
    person did so from its context alone, so the writer's capital is a second, independent sign of a
    name ("Trump", "Bill", "Hitler"): when that core is sure of it (``sure_case_blind``: its top
    confidence tier, ``DICTIONARY_NAME_MIN``) the span is kept. On wnut17/dev the filter dropped 17 right and
    2 wrong capitalized spans of that core; of lower-case ones ("god", "chicken") 9 wrong and 8 right.
    spaCy's model reads the capital itself, so for it the capital is no second sign.
    """
    if mapped != "person":
        return False
    tokens = value.split()
    if sure_case_blind and any(t[:1].isupper() and not t.isupper() for t in tokens):
        return False
    lex = lexicons()
    return all(lex.is_english_word(t) for t in tokens) and not any(_known_name(t) for t in tokens)


_WORDS_BEFORE = re.compile(r"(?:[\w'’.-]+ ){1,3}\Z")
_ORDINAL = re.compile(r"\d+(?:st|nd|rd|th)")


def _street_word_alone(value: str) -> bool:
    """Whether ``value`` is a street-type word and nothing else ("St", "Ave.", "Road"), not a town's."""
    lex = lexicons()
    t = value.rstrip(".").lower()
    return " " not in value and t in lex.street_words and t not in lex.cities and t not in lex.coarse_places


def _capitalized_words_before(text: str, start: int) -> int:
    """Where the run of up to three capitalized or ordinal words right before ``start`` (one space
    apart, same line) begins; ``start`` when there is none ("Main St", "5th Ave", "Notting Hill")."""
    m = _WORDS_BEFORE.search(text, max(0, start - 60), start)
    if m is None:
        return start
    pos = start
    for w in reversed(m.group(0).split(" ")[:-1]):
        if not (w[:1].isupper() or _ORDINAL.fullmatch(w)) or w.lower() in _FUNCTION_WORDS:
            break
        pos -= len(w) + 1
    return pos


def _given_name_alone(value: str) -> bool:
    """One word, a known given name that is no English word ("Luis", not "Victoria" or "Apple") nor
    written in capitals ("AUD", "OTT": abbreviations that are also names somewhere)."""
    lex = lexicons()
    return (
        " " not in value
        and not value.isupper()
        and lex.is_first_name(value)
        and not lex.is_english_word(value)
    )


def _opens_lower(word: str) -> bool:
    """Whether the first letter of ``word`` is lower case ("(carmustine" as much as "carmustine")."""
    m = _LETTER.search(word)
    return m is not None and m.group(0).islower()


def _writes_capitals(text: str) -> bool:
    """Whether every sentence of ``text`` opens with a capital (and there are at least
    ``CASED_OPENINGS``): a writer who uses case, so case means something there."""
    if _LOWER.search(text) is None:
        return False  # all capitals: case carries nothing
    # A word with a capital after its first letter ("cAMP", "rhGM-CSF", "iPhone") is written in a fixed
    # case: opening a sentence it says nothing of how the writer uses case.
    openings = [
        w for w in (m.group(1) for m in _OPENING.finditer(text)) if not any(c.isupper() for c in w[1:])
    ]
    return len(openings) >= CASED_OPENINGS and all(w[0].isupper() for w in openings)


Scorer = Callable[[str, str, int, int], float]


def _entity(
    text: str,
    a: int,
    b: int,
    label: str,
    mapped: str,
    scorer: Scorer | None,
    *,
    adjust: bool = True,
) -> Entity | None:
    cut = trim_span(text, a, b, mapped)
    if cut is None:
        return None
    kind = field_kind(text, cut[0])
    if kind is not None and kind != mapped:
        # A form's key says which kind of name its value is ("Last name: de luca"); see field_keys.
        mapped = kind
        cut = trim_span(text, a, b, mapped)
        if cut is None:
            return None
    start, end = cut
    if mapped == "location" and _street_word_alone(text[start:end]):
        # "Main St.": the core read the street's type word alone; the street's name is the capitalized
        # words before it on the line. With none there ("to the Park") nothing names a place.
        start = _capitalized_words_before(text, start)
        if start == cut[0] or lexicons().is_first_name(text[start:end].split()[0]):
            # no name before it, or a person's ("Fletcher Hill"): the core's type word alone is no place
            return None
    value = text[start:end]
    score = span_score(label, value) if scorer is None else scorer(label, value, a, b)
    if mapped == "organization" and score < UNSURE_ORG and _given_name_alone(value):
        # "love from Luis, Marta and the kids": a firm the core is unsure of (its kind of span is right
        # less than UNSURE_ORG of the time on the development split) whose one word is a known given
        # name and no English word is a person the core mistyped.
        mapped, label = "person", "PERSON"
        score = span_score(label, value) if scorer is None else scorer(label, value, a, b)
    # Another core's scorer is the token classifier's, which reads uncased wordpieces; its word of the
    # dictionary stays a name only in its top confidence tier (on wnut17/dev, 15 right and 1 wrong there,
    # 2 right and 3 wrong below it).
    sure_case_blind = scorer is not None and score >= DICTIONARY_NAME_MIN
    if mapped != "organization" and (
        _acronym(value, text, person=mapped == "person")
        or _dictionary_word(value, mapped, sure_case_blind=sure_case_blind)
    ):
        return None
    if not adjust:
        return Entity(start, end, mapped, score)
    if mapped in _CASED_LABELS and value[0] not in "@#" and _writes_capitals(text):
        # The writer capitalizes sentence openings, so a name they leave in lower case is far more
        # often a term ("pylori", "fibrin thrombi"), and one capitalized word that is no known name
        # more often an eponym or a product ("Doppler", "Vimentin"), and a capitalized word followed by
        # a lower-case one a genus and species or an eponym and its noun; uncased texts (chat) and
        # handles keep the model's score.
        if (
            value.islower()
            or (" " not in value and not lexicons().is_name_token(value))
            or any(_opens_lower(w) and w not in _NAME_PARTICLES for w in value.split())
        ):
            score *= LOWER_IN_CASED
    return Entity(start, end, mapped, score)


def spans_to_entities(
    text: str,
    spans: list[tuple[int, int, str, str]],
    *,
    scorer: Scorer | None = None,
    adjust: bool = True,
) -> list[Entity]:
    """Model spans of one text as entities of our pii_types, trimmed and scored (MISC dropped).

    ``scorer(label, value, start, end)`` (the model span's offsets) replaces the calibration table of this
    module (another core's); ``adjust=False`` skips the context adjustments (raw scores, for calibration).
    """
    ents: list[Entity] = []
    for start, end, label, _ in spans:
        mapped = NER_LABELS.get(label)
        if mapped is None:
            continue
        for a, b in _line_pieces(text, start, end, sentences=mapped == "person"):
            span_scorer = None if scorer is None else _at(scorer, start, end)
            ent = _entity(text, a, b, label, mapped, span_scorer, adjust=adjust)
            if ent is not None:
                ents.append(ent)
    return ents


def _at(scorer: Scorer, start: int, end: int) -> Scorer:
    """``scorer`` told the offsets of the model's span, not of the piece of it being scored."""
    return lambda label, value, _a, _b: scorer(label, value, start, end)


def ner_entities(texts: list[str], *, min_score: float = 0.0) -> list[list[Entity]]:
    """NER spans mapped onto our pii_types with calibrated scores; those under ``min_score`` are dropped.

    Every text with a letter goes through the model, whatever its case: lower-case and all-caps text
    were part of its training, so case does not decide what it reads.
    """
    todo = [i for i, t in enumerate(texts) if _LETTER.search(t)]
    result: list[list[Entity]] = [[] for _ in texts]
    for i, spans in zip(todo, ner_batch([texts[i] for i in todo]), strict=True):
        result[i] = [e for e in spans_to_entities(texts[i], spans) if e.score >= min_score]
    return result
