"""Driver's license numbers."""

from __future__ import annotations

from sanitas.pii.recognizers.keyed import ID_PATTERN, KeyedValueRecognizer, has_digits
from sanitas.pii.registry import register


@register
class DriversLicenseRecognizer(KeyedValueRecognizer):
    """ "driver's license number is F162823540116", "DL: 1234-56-789"."""

    needs_digit = True
    name = "drivers_license"
    label = "drivers_license"
    labels = frozenset({"drivers_license"})
    keys = r"driver'?s?\s?licen[cs]e|driving\s?licen[cs]e|licen[cs]e|\bDL"
    triggers = ("licen", "dl")
    value_pattern = ID_PATTERN

    def validate(self, value: str) -> bool:
        """At least five digits."""
        return has_digits(value, 5)
