"""Synthetic training documents for the NER core: Faker values in many genres, each value labelled.

Genres: chat, e-mail with a signature block, HTML and "Key: value" forms (with fields that name no one:
gender, eye colour, status), upper-case clinical shorthand, legal prose, support tickets, biography
prose, card brands beside people (MISC), and capitalized text with no entity at all.
"""

from __future__ import annotations

import random
from typing import Any

from faker import Faker

LOCALES = [
    "en_US",
    "en_GB",
    "en_IE",
    "en_AU",
    "en_IN",
    "de_DE",
    "fr_FR",
    "es_ES",
    "it_IT",
    "nl_NL",
    "pl_PL",
    "pt_BR",
    "sv_SE",
    "tr_TR",
    "fi_FI",
    "cs_CZ",
]
NAMED_INSTITUTIONS = [
    "Hospital",
    "Medical Center",
    "Clinic",
    "University",
    "Bank",
    "Foundation",
    "Labs",
    "Group",
]
PLACE_INSTITUTIONS = [
    "General Hospital",
    "City Council",
    "Public Library",
    "Police Department",
    "High School",
    "FC",
]
Span = tuple[int, int, str]
Doc = tuple[str, list[Span]]


class Builder:
    """Concatenates literal text and labelled values, keeping character offsets."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.spans: list[Span] = []
        self.size = 0

    def add(self, text: str, label: str | None = None) -> Builder:
        """Append ``text``; with ``label`` it is an entity."""
        if label and text:
            self.spans.append((self.size, self.size + len(text), label))
        self.parts.append(text)
        self.size += len(text)
        return self

    def doc(self) -> Doc:
        """The built (text, spans)."""
        return "".join(self.parts), list(self.spans)


class Synth:
    """Faker-driven documents of many genres; every value a genre inserts is labelled where it goes."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.fakers = [Faker(loc) for loc in LOCALES]
        for i, f in enumerate(self.fakers):
            f.seed_instance(seed * 100 + i)
        self.en = Faker("en_US")
        self.en.seed_instance(seed)

    def f(self) -> Any:
        # English locales twice as likely: most text the service sees is English with names from anywhere.
        return self.fakers[0] if self.rng.random() < 0.3 else self.rng.choice(self.fakers)

    def name(self) -> str:
        f = self.f()
        r = self.rng.random()
        if r < 0.35:
            return f.first_name()
        if r < 0.45:
            return f.last_name()
        return f"{f.first_name()} {f.last_name()}"

    def city(self) -> str:
        return self.f().city()

    def place(self) -> str:
        r = self.rng.random()
        if r < 0.5:
            return self.city()
        if r < 0.75:
            return self.en.state()
        return self.en.country()

    def org(self) -> str:
        r = self.rng.random()
        if r < 0.6:
            return self.f().company()
        if r < 0.8:
            return f"{self.en.last_name()} {self.rng.choice(NAMED_INSTITUTIONS)}"
        return f"{self.city()} {self.rng.choice(PLACE_INSTITUTIONS)}"

    def chat(self) -> Doc:
        b = Builder()
        pick = self.rng.randrange(6)
        if pick == 0:
            b.add("hey ").add(self.name(), "PERSON").add(
                self.rng.choice([" are u coming to ", " r we still on for ", " see you in "])
            )
            b.add(self.place(), "LOC").add(self.rng.choice([" tmrw?", " tonight", " next week lol", "?"]))
        elif pick == 1:
            b.add(self.rng.choice(["just got hired at ", "cant believe ", "ugh ", "so proud of "]))
            b.add(self.org(), "ORG").add(self.rng.choice([" !!", " today", " is hiring again", " :)"]))
        elif pick == 2:
            b.add("@").add(self.en.user_name()).add(" ").add(self.name(), "PERSON")
            b.add(self.rng.choice([" and i just landed in ", " flew out of ", " moved back to "])).add(
                self.city(), "LOC"
            )
        elif pick == 3:
            b.add(self.rng.choice(["ok", "sure", "thanks", "np"])).add(" - ").add(self.name(), "PERSON")
            b.add(" said the meeting moved to ").add(self.en.day_of_week()).add(" at ").add(self.org(), "ORG")
        elif pick == 4:
            b.add(self.rng.choice(["Does anyone know if ", "Has anybody tried ", "My cousin works at "]))
            b.add(self.org(), "ORG").add(self.rng.choice([" in ", " near ", " out of "])).add(
                self.place(), "LOC"
            ).add("?")
        else:
            b.add(self.rng.choice(["Update: ", "FYI ", "", "Reminder - "])).add(self.name(), "PERSON")
            b.add(self.rng.choice([" will cover for ", " is out, ask ", " replaces "])).add(
                self.name(), "PERSON"
            ).add(".")
        return b.doc()

    def email(self) -> Doc:
        b = Builder()
        first = self.f().first_name()
        b.add(self.rng.choice(["Hi ", "Dear ", "Hello ", "Good morning "])).add(first, "PERSON").add(",\n\n")
        b.add(
            self.rng.choice(
                [
                    "Following up on our call about the renewal. ",
                    "Please find the invoice attached. ",
                    "Thanks for the quick reply. ",
                    self.en.sentence() + " ",
                ]
            )
        )
        b.add(self.rng.choice(["Our team in ", "The office in ", "Shipping from "])).add(self.city(), "LOC")
        b.add(" will handle it.\n\n").add(
            self.rng.choice(["Best regards,", "Thanks,", "Cheers,", "Kind regards,", "--"])
        )
        b.add("\n").add(self.name(), "PERSON").add("\n").add(self.en.job()).add("\n").add(self.org(), "ORG")
        b.add("\n").add(self.rng.choice(["Tel: ", "Phone ", "M: "])).add(self.en.phone_number()).add("\n")
        b.add(self.en.email())
        return b.doc()

    def form(self) -> Doc:
        b = Builder()
        html = self.rng.random() < 0.3
        fields: list[tuple[str, str, str | None]] = [
            (self.rng.choice(["Name", "Full name", "Patient", "Customer", "Contact"]), self.name(), "PERSON"),
            (self.rng.choice(["Company", "Employer", "Organization"]), self.org(), "ORG"),
            (self.rng.choice(["City", "Location", "Birthplace", "Town"]), self.city(), "LOC"),
            ("Gender", self.rng.choice(["Male", "Female", "Non-binary", "M", "F"]), None),
            (
                self.rng.choice(["Eye color", "Eye Colour", "Hair"]),
                self.rng.choice(["Brown", "Blue", "Green", "Hazel", "Black"]),
                None,
            ),
            (
                self.rng.choice(["Status", "Plan", "Tier"]),
                self.rng.choice(["Active", "Gold", "Premium", "Pending Review"]),
                None,
            ),
            (self.rng.choice(["Occupation", "Title", "Role"]), self.en.job(), None),
            ("Phone", self.en.phone_number(), None),
            (self.rng.choice(["Member ID", "Account", "MRN"]), str(self.rng.randrange(10**6, 10**9)), None),
            (self.rng.choice(["Emergency contact", "Manager", "Referred by"]), self.name(), "PERSON"),
        ]
        self.rng.shuffle(fields)
        for key, value, label in fields[: self.rng.randrange(3, len(fields))]:
            if html:
                b.add(f"<tr><td>{key}</td><td>").add(value, label).add("</td></tr>\n")
            else:
                b.add(key + self.rng.choice([": ", ": ", " - ", " = ", ":\t"])).add(value, label)
                b.add(self.rng.choice(["\n", "\n", "; ", " | "]))
        return b.doc()

    def clinical(self) -> Doc:
        b = Builder()
        last = self.f().last_name()
        b.add(self.rng.choice(["PT ", "PATIENT ", "MR. ", "MS. ", "", "Pt "])).add(self.name(), "PERSON")
        b.add(f" {self.rng.randrange(18, 95)}{self.rng.choice(['YO', ' Y/O', 'M', 'F'])} ")
        b.add(self.rng.choice(["ADMITTED TO ", "SEEN AT ", "TRANSFERRED FROM ", "D/C FROM "])).add(
            self.org(), "ORG"
        )
        b.add(f" ON {self.rng.randrange(1, 13)}/{self.rng.randrange(1, 29)}. ")
        b.add(self.rng.choice(["HX OF HTN, DM2. ", "C/O SOB X 3D. ", "NKDA. ", "S/P CABG. "]))
        b.add(self.rng.choice(["F/U W DR ", "CALLED DR. ", "REFERRED TO DR ", "PCP DR "])).add(last, "PERSON")
        b.add(self.rng.choice([" IN ", " AT "])).add(self.city(), "LOC").add(
            self.rng.choice([" IN 2 WKS.", ".", " PRN."])
        )
        text, spans = b.doc()
        return (text.upper(), spans) if self.rng.random() < 0.7 else (text, spans)

    def legal(self) -> Doc:
        b = Builder()
        b.add("This Agreement is made between ").add(self.org(), "ORG")
        b.add(self.rng.choice([", a company registered in ", ", organized under the laws of "])).add(
            self.place(), "LOC"
        )
        b.add(", and ").add(self.name(), "PERSON").add(", residing in ").add(self.city(), "LOC").add(". ")
        b.add(
            self.rng.choice(
                ["The Parties agree that ", "Notwithstanding Section 4, ", "Pursuant to the Terms, "]
            )
        )
        b.add(
            self.rng.choice(
                [
                    "the Licensee shall pay the Fees.",
                    "Confidential Information remains confidential.",
                    "this Agreement is governed by the laws of ",
                ]
            )
        )
        if b.parts[-1].endswith("of "):
            b.add(self.place(), "LOC").add(".")
        return b.doc()

    def ticket(self) -> Doc:
        b = Builder()
        b.add(self.rng.choice(["Customer ", "User ", "Caller ", ""])).add(self.name(), "PERSON")
        b.add(self.rng.choice([" reports that ", " says ", " asked why "]))
        b.add(
            self.rng.choice(
                [
                    "the Export Button",
                    "Dark Mode",
                    "the Settings Page",
                    "Two-Factor Authentication",
                    "the Premium Plan",
                    "Auto Renew",
                ]
            )
        )
        b.add(self.rng.choice([" stopped working", " is missing", " charged twice"]))
        b.add(self.rng.choice([" since the move to ", " after switching to ", " at the branch in "]))
        if self.rng.random() < 0.5:
            b.add(self.city(), "LOC")
        else:
            b.add(self.org(), "ORG")
        return b.doc()

    def prose(self) -> Doc:
        """A sentence or two of biography or news: who, where, for whom."""
        b = Builder()
        b.add(self.name(), "PERSON").add(
            self.rng.choice([" grew up in ", " was born in ", " moved to ", " now lives in "])
        )
        b.add(self.place(), "LOC").add(
            self.rng.choice([" and works for ", " and joined ", ". Since 2019 she has led "])
        )
        b.add(self.org(), "ORG").add(self.rng.choice([" as a ", " as its "])).add(self.en.job().lower()).add(
            ". "
        )
        b.add(self.rng.choice(["Her colleague ", "His manager ", "Their friend ", "Reporter "]))
        b.add(self.name(), "PERSON").add(
            self.rng.choice([" said the move was expected.", " declined to comment.", " will visit "])
        )
        if b.parts[-1].endswith("visit "):
            b.add(self.city(), "LOC").add(" in " + self.en.month_name() + ".")
        return b.doc()

    def brand(self) -> Doc:
        """Card networks and products beside people: a brand is neither a person nor a place (MISC)."""
        b = Builder()
        b.add(self.rng.choice(["my ", "why was my ", "can I use a ", "the "]))
        b.add(self.en.credit_card_provider().split(" ")[0], "MISC")
        b.add(self.rng.choice([" card was declined", " payment failed", " top up", " charge"]))
        b.add(self.rng.choice(["", " in " + self.city(), " for " + self.f().first_name()]))
        text, spans = b.doc()
        tail = b.parts[-1]
        if tail.startswith(" in "):
            spans.append((len(text) - len(tail) + 4, len(text), "LOC"))
        elif tail.startswith(" for "):
            spans.append((len(text) - len(tail) + 5, len(text), "PERSON"))
        return text, spans

    def negative(self) -> Doc:
        """Capitalized text with no entity: headings, product features, sentence openers."""
        words = [
            w.capitalize() if self.rng.random() < 0.5 else w for w in self.en.words(self.rng.randrange(4, 12))
        ]
        return " ".join(words) + self.rng.choice([".", "!", "", "?"]), []

    def docs(self, n: int) -> list[Doc]:
        """``n`` documents over all genres."""
        genres = [
            self.chat,
            self.chat,
            self.email,
            self.form,
            self.clinical,
            self.legal,
            self.ticket,
            self.brand,
            self.prose,
            self.negative,
        ]
        return [self.rng.choice(genres)() for _ in range(n)]
