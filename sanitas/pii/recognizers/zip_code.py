"""Postal codes: US ZIP (keyed or after a state), UK and Canadian postcodes by shape."""

from __future__ import annotations

import re

from sanitas.pii.recognizers.keyed import KeyedValueRecognizer
from sanitas.pii.registry import register

# USPS codes of the states, DC, the territories and the armed forces: a ZIP follows one of these, not
# any two capitals ("AH 23848" is a drug's code in a paper).
_STATES = (
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC "
    "ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC PR VI GU AS MP AA AE AP"
).split()
# The 121 UK postcode areas and the Crown dependencies' (Royal Mail): a postcode opens on one of these
# ("CD45RA" is an antigen's name, not "CD4 5RA").
_UK_AREAS = (
    "AB AL B BA BB BD BH BL BN BR BS BT CA CB CF CH CM CO CR CT CV CW DA DD DE DG DH DL DN DT DY E EC EH EN "
    "EX FK FY G GL GU HA HD HG HP HR HS HU HX IG IP IV KA KT KW KY L LA LD LE LL LN LS LU M ME MK ML N NE NG "
    "NN NP NR NW OL OX PA PE PH PL PO PR RG RH RM S SA SE SG SK SL SM SN SO SP SR SS ST SW SY TA TD TF TN TQ "
    "TR TS TW UB W WA WC WD WF WN WR WS WV YO ZE GY JE IM"
).split()


@register
class ZipCodeRecognizer(KeyedValueRecognizer):
    """ "ZIP: 02110", "MA 02110", "SW1A 1AA", "B0J 2H0"."""

    needs_digit = True
    name = "zip_code"
    label = "zip_code"
    labels = frozenset({"zip_code"})
    keys = r"zip(?:\s?code)?|postal\s?code|post\s?code|postcode|plz|cap"
    triggers = ("zip", "postal", "post", "plz", "cap")
    value_pattern = r"[A-Z0-9]{2,5}(?:[ -][A-Z0-9]{2,4})?"
    # A ZIP after a state holds "<capital> <digit>" and four more digits; UK and Canadian postcodes a
    # digit right before a capital.
    bare_hint = re.compile(r"\d(?:[A-Z]|(?<=[A-Z] \d)\d{4})")
    bare_patterns = (
        (re.compile(rf"(?<=\b(?:{'|'.join(_STATES)}) )\d{{5}}(?:-\d{{4}})?\b"), 0.55),
        (re.compile(rf"\b(?:(?:{'|'.join(_UK_AREAS)})\d[A-Z\d]?|GIR) ?\d[ABD-HJLNP-UW-Z]{{2}}\b"), 0.55),
        (re.compile(r"\b[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] ?\d[ABCEGHJ-NPRSTV-Z]\d\b"), 0.5),
    )

    def validate(self, value: str) -> bool:
        """Postal codes carry digits."""
        return any(c.isdigit() for c in value)
