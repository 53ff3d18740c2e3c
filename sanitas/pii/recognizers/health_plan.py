"""Health plan beneficiary numbers: member, subscriber, policy and insurance identifiers after their key.

HIPAA's Safe Harbor lists them as an identifier of their own (next to medical record numbers). The
vendor API has no type for them, so they are reported as ``medical_record_number``, the nearest type
(an identifier a health organisation issues to a person). The key words are common English ("member",
"policy"), so each needs its "ID"/"number"/"no."/"#" here: "member 2019" or "policy 2024" is no key.
"""

from __future__ import annotations

from sanitas.pii.recognizers.keyed import ID_PATTERN, KeyedValueRecognizer, has_digits
from sanitas.pii.registry import register

_ID = r"\s?(?:id|identifier|number|num|no\.?|#)"


@register
class HealthPlanNumberRecognizer(KeyedValueRecognizer):
    """ "Member ID: 88213-441", "Policy Number: POL-88213441", "Medicare ID 1EG4-TE5-MK73"."""

    needs_digit = True
    name = "health_plan_number"
    label = "medical_record_number"
    labels = frozenset({"medical_record_number"})
    keys = (
        rf"(?:member|subscriber|beneficiary|policy|insurance|insurance\s?policy|health\s?plan){_ID}"
        r"|health\s?plan\s?beneficiary|medicare|medicaid"
    )
    triggers = ("member", "subscriber", "beneficiary", "policy", "insurance", "health", "medica")
    value_pattern = ID_PATTERN

    def validate(self, value: str) -> bool:
        """At least four digits: a code of letters alone is a plan's name, not a person's number."""
        return has_digits(value, 4)
