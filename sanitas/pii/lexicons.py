"""Gazetteers built once per process from the locale data that ships with ``faker`` (no download).

First and last names across every Faker locale help tell a person from a brand that NER tagged PERSON;
street suffixes find addresses; countries and US states mark locations too coarse to identify anyone.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from dataclasses import dataclass
from typing import Any

_lock = threading.Lock()
_cache: Lexicons | None = None

# Abbreviations Faker's suffix lists leave out.
_EXTRA_SUFFIXES = {
    "St",
    "Rd",
    "Ave",
    "Av",
    "Blvd",
    "Dr",
    "Ln",
    "Ct",
    "Pl",
    "Sq",
    "Hwy",
    "Pkwy",
    "Ter",
    "Cres",
    "Cir",
    "Trl",
    "Way",
    "Str",
}
# English words that are also first names somewhere; alone they are far more often the word.
_NAME_STOPWORDS = {
    "Will",
    "May",
    "Max",
    "Mark",
    "Grace",
    "Hope",
    "Faith",
    "Joy",
    "Bill",
    "Art",
    "Sunny",
    "Rich",
    "Page",
    "Young",
    "Long",
    "King",
    "Love",
    "Bank",
    "Card",
    "Visa",
    "Cash",
    "Top",
    "Pay",
    "Fee",
    "Hi",
    "Hey",
    "Hello",
    "Dear",
    "Thanks",
    "Please",
    "Can",
    "The",
    "And",
    "But",
    "Why",
    "How",
    "What",
    "When",
    "Where",
    "Who",
    "Is",
    "Are",
    "My",
    "I",
    "A",
    "An",
    "In",
    "On",
    "At",
    "To",
    "It",
    "Me",
    "Do",
    "Did",
    "Has",
    "Have",
    "App",
    "Money",
    "Transfer",
    "Account",
    "Help",
    "Sir",
    "Madam",
    "Best",
    "Regards",
    "Call",
    "Get",
    "New",
    "Old",
    "Day",
    "Week",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "Al",
    "Ok",
    "Okay",
    "Yes",
    "No",
    "Not",
    "So",
    "Via",
    "Rue",
    "Street",
    "Road",
    "Apt",
    "Suite",
    "Unit",
    "Box",
    "Lane",
    "Avenue",
    "Drive",
    "Court",
}


@dataclass(frozen=True)
class Lexicons:
    """Sets of capitalized words (names, suffixes) and lowercase place names."""

    first_names: frozenset[str]
    last_names: frozenset[str]
    street_suffixes: frozenset[str]
    coarse_places: frozenset[str]

    def is_name_token(self, token: str) -> bool:
        """Whether ``token`` (as written, capitalized or not) is a known first or last name."""
        t = token.strip(".,'’")
        if t.isupper() and len(t) <= 4:
            # "DAN", "STAN", "SSN": acronyms, not names.
            return False
        t = t.capitalize()
        if t in _NAME_STOPWORDS or len(t) < 2:
            return False
        return t in self.first_names or t in self.last_names


def _values(v: Any) -> list[str]:
    if isinstance(v, dict):
        v = list(v.keys())
    if isinstance(v, list | tuple | set | frozenset):
        return [x for x in v if isinstance(x, str)]
    return []


def _provider_attr(package: Any, attrs: tuple[str, ...]) -> set[str]:
    out: set[str] = set()
    for info in pkgutil.iter_modules(package.__path__):
        try:
            mod = importlib.import_module(f"{package.__name__}.{info.name}")
        except Exception:  # noqa: BLE001  (a broken locale module must not stop detection)
            continue
        for attr in attrs:
            out.update(_values(getattr(mod.Provider, attr, None)))
    return out


def _build() -> Lexicons:
    import faker.providers.address as address
    import faker.providers.person as person

    firsts = _provider_attr(person, ("first_names", "first_names_male", "first_names_female"))
    lasts = _provider_attr(person, ("last_names",))
    suffixes = {s.strip() for s in _provider_attr(address, ("street_suffixes",)) if s.strip().isalpha()}
    suffixes = {s for s in suffixes if len(s) > 1 and s[0].isupper()} | _EXTRA_SUFFIXES
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
    return Lexicons(
        first_names=frozenset(n for n in firsts if n[:1].isupper() and " " not in n),
        last_names=frozenset(n for n in lasts if n[:1].isupper() and " " not in n),
        street_suffixes=frozenset(suffixes),
        coarse_places=frozenset(p.lower() for p in places),
    )


def lexicons() -> Lexicons:
    """The process-wide gazetteers (built on first use, ~0.5 s)."""
    global _cache
    with _lock:
        if _cache is None:
            _cache = _build()
    return _cache
