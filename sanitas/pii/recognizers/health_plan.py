"""Health plan beneficiary numbers: member, subscriber, policy and insurance identifiers after their key.

HIPAA's Safe Harbor lists them as an identifier of their own (next to medical record numbers). The
vendor API has no type for them, so they are reported as ``medical_record_number``, the nearest type
(an identifier a health organisation issues to a person). The key words are common English ("member",
"policy", "Medicare"), so each needs its "ID"/"number"/"no."/"#" here: "member 2019", "policy 2024" or
"call Medicare 1-800-..." is no key. A gym's member number or a car's policy number is typed the same
way: masking hides it either way, and nothing in a key says which kind of plan issued it.
"""

from __future__ import annotations

import re

from sanitas.pii.recognizers.keyed import ID_PATTERN, KeyedValueRecognizer, has_digits
from sanitas.pii.registry import register

# "ID", "number", "no.", "#" after the key word, written as in prose or as a field name ("member_id").
_ID = r"[\s_-]?(?:id|identifier|number|num|no\.?|#)"
# Values a key can head that are no one's number: a phone number (a plan's help line), and a number that
# opens with a year ("Policy No. 2019-044", a document's; "2024-2025", a plan year).
_NOT_AN_ID = re.compile(r"(?:1-)?\d{3}-\d{3}-\d{4}|(?:19|20)\d\d-\d{2,4}")


@register
class HealthPlanNumberRecognizer(KeyedValueRecognizer):
    """ "Member ID: 88213-441", "Policy Number: POL-88213441", "Medicare ID 1EG4-TE5-MK73"."""

    needs_digit = True
    name = "health_plan_number"
    label = "medical_record_number"
    labels = frozenset({"medical_record_number"})
    keys = (
        rf"(?:member|subscriber|beneficiary|policy|insurance|insurance\s?policy|health\s?plan){_ID}"
        r"|health\s?plan\s?beneficiary|mbi|(?:medicare|medicaid)" + _ID
    )
    triggers = ("member", "subscriber", "beneficiary", "policy", "insurance", "health", "medica", "mbi")
    value_pattern = ID_PATTERN

    def validate(self, value: str) -> bool:
        """At least four digits (a code of letters alone is a plan's name), and not a phone number or a
        number that opens with a year."""
        return has_digits(value, 4) and _NOT_AN_ID.fullmatch(value) is None
