"""The pii_type vocabulary (Dataframer's `pii_types`), Presidio's aliases and detection-method names."""

from __future__ import annotations

from collections.abc import Iterable

PII_TYPES: tuple[str, ...] = (
    "person",
    "first_name",
    "last_name",
    "email",
    "phone_number",
    "street_address",
    "location",
    "zip_code",
    "organization",
    "date_of_birth",
    "date",
    "age",
    "credit_card",
    "iban",
    "bank_account",
    "ssn",
    "passport_number",
    "drivers_license",
    "national_id",
    "ip_address",
    "mac_address",
    "url",
    "username",
    "password",
    "api_key",
    "medical_record_number",
    "npi",
)

# Presidio's entity names (and a few common spellings) accepted as aliases of ours.
TYPE_ALIASES: dict[str, str] = {
    "PERSON": "person",
    "EMAIL_ADDRESS": "email",
    "PHONE_NUMBER": "phone_number",
    "US_SSN": "ssn",
    "CREDIT_CARD": "credit_card",
    "IBAN_CODE": "iban",
    "IP_ADDRESS": "ip_address",
    "MAC_ADDRESS": "mac_address",
    "LOCATION": "location",
    "GPE": "location",
    "DATE_TIME": "date",
    "URL": "url",
    "DOMAIN_NAME": "url",
    "ORGANIZATION": "organization",
    "ORG": "organization",
    "US_BANK_NUMBER": "bank_account",
    "US_DRIVER_LICENSE": "drivers_license",
    "UK_DRIVING_LICENCE": "drivers_license",
    "US_PASSPORT": "passport_number",
    "UK_PASSPORT": "passport_number",
    "UK_NHS": "national_id",
    "UK_NINO": "national_id",
    "US_ITIN": "national_id",
    "US_NPI": "npi",
    "MEDICAL_LICENSE": "medical_record_number",
    "STREET_ADDRESS": "street_address",
    "ZIP_CODE": "zip_code",
    "UK_POSTCODE": "zip_code",
    "AGE": "age",
    "EMAIL": "email",
    "FIRST_NAME": "first_name",
    "LAST_NAME": "last_name",
}

METHODS: tuple[str, ...] = (
    "heuristics",
    "aimon_pii_m1",
    "llm",
    "aimon_pii_m1+heuristics",
    "llm+heuristics",
    "all",
)
METHOD_ALIASES: dict[str, str] = {
    "pii_m1": "aimon_pii_m1",
    "model": "aimon_pii_m1",
    "gliner": "aimon_pii_m1",
    "pii_m1+heuristics": "aimon_pii_m1+heuristics",
    "model+heuristics": "aimon_pii_m1+heuristics",
    "gliner+heuristics": "aimon_pii_m1+heuristics",
}
# Which detector families each canonical method runs.
METHOD_PARTS: dict[str, frozenset[str]] = {
    "heuristics": frozenset({"heuristics"}),
    "aimon_pii_m1": frozenset({"model"}),
    "llm": frozenset({"llm"}),
    "aimon_pii_m1+heuristics": frozenset({"model", "heuristics"}),
    "llm+heuristics": frozenset({"llm", "heuristics"}),
    "all": frozenset({"model", "heuristics", "llm"}),
}


class UnknownPiiTypeError(ValueError):
    """A pii_type that is neither ours nor a known alias; the message lists the valid ones."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.valid = list(PII_TYPES)
        super().__init__(f"unknown pii_type {name!r}; valid types: {', '.join(PII_TYPES)}")


class UnknownMethodError(ValueError):
    """A detection_method that is not one of METHODS or their aliases."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.valid = list(METHODS) + sorted(METHOD_ALIASES)
        super().__init__(f"unknown detection_method {name!r}; valid methods: {', '.join(self.valid)}")


def normalize_type(name: str) -> str:
    """Map a pii_type or a Presidio alias onto our lowercase name, or raise UnknownPiiTypeError."""
    key = str(name).strip()
    if key in PII_TYPES:
        return key
    alias = TYPE_ALIASES.get(key) or TYPE_ALIASES.get(key.upper())
    if alias is not None:
        return alias
    raise UnknownPiiTypeError(key)


def normalize_types(names: Iterable[str] | None) -> list[str]:
    """Normalize a list of types, keeping order and dropping duplicates; None means every type."""
    if names is None:
        return list(PII_TYPES)
    out: list[str] = []
    for n in names:
        t = normalize_type(n)
        if t not in out:
            out.append(t)
    return out


def normalize_method(name: str) -> str:
    """Map a detection_method or its alias onto the canonical name, or raise UnknownMethodError."""
    key = str(name).strip().lower()
    if key in METHODS:
        return key
    if key in METHOD_ALIASES:
        return METHOD_ALIASES[key]
    raise UnknownMethodError(str(name))
