"""Medical record numbers."""

from __future__ import annotations

from sanitas.pii.recognizers.keyed import ID_PATTERN, KeyedValueRecognizer, has_digits
from sanitas.pii.registry import register


@register
class MedicalRecordRecognizer(KeyedValueRecognizer):
    """ "MRN: 00123456", "medical record number 55-1234"."""

    needs_digit = True
    name = "medical_record_number"
    label = "medical_record_number"
    labels = frozenset({"medical_record_number"})
    keys = r"mrn|medical\s?record|patient\s?(?:id|number|no)|chart\s?(?:number|no)"
    triggers = ("mrn", "medical", "patient", "chart")
    value_pattern = ID_PATTERN

    def validate(self, value: str) -> bool:
        """At least four digits."""
        return has_digits(value, 4)
