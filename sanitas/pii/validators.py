"""Checksums and structural rules used by the pattern recognizers."""

from __future__ import annotations

import re

_NON_ALNUM = re.compile(r"[^0-9A-Za-z]")

# Lengths of IBANs per country (ISO 13616 registry); an unknown country is rejected.
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24,
    "AE": 23,
    "AL": 28,
    "AT": 20,
    "AZ": 28,
    "BA": 20,
    "BE": 16,
    "BG": 22,
    "BH": 22,
    "BR": 29,
    "BY": 28,
    "CH": 21,
    "CR": 22,
    "CY": 28,
    "CZ": 24,
    "DE": 22,
    "DK": 18,
    "DO": 28,
    "EE": 20,
    "EG": 29,
    "ES": 24,
    "FI": 18,
    "FO": 18,
    "FR": 27,
    "GB": 22,
    "GE": 22,
    "GI": 23,
    "GL": 18,
    "GR": 27,
    "GT": 28,
    "HR": 21,
    "HU": 28,
    "IE": 22,
    "IL": 23,
    "IQ": 23,
    "IS": 26,
    "IT": 27,
    "JO": 30,
    "KW": 30,
    "KZ": 20,
    "LB": 28,
    "LC": 32,
    "LI": 21,
    "LT": 20,
    "LU": 20,
    "LV": 21,
    "MC": 27,
    "MD": 24,
    "ME": 22,
    "MK": 19,
    "MR": 27,
    "MT": 31,
    "MU": 30,
    "NL": 18,
    "NO": 15,
    "PK": 24,
    "PL": 28,
    "PS": 29,
    "PT": 25,
    "QA": 29,
    "RO": 24,
    "RS": 22,
    "SA": 24,
    "SC": 31,
    "SE": 24,
    "SI": 19,
    "SK": 24,
    "SM": 27,
    "ST": 25,
    "SV": 28,
    "TL": 23,
    "TN": 24,
    "TR": 26,
    "UA": 29,
    "VA": 22,
    "VG": 24,
    "XK": 20,
}


def digits(value: str) -> str:
    """The digits of ``value`` in order."""
    return "".join(filter(str.isdigit, value))


def luhn(number: str) -> bool:
    """Luhn (mod 10) check over the digits of ``number``."""
    ds = digits(number)
    if len(ds) < 2:
        return False
    total = 0
    for i, ch in enumerate(reversed(ds)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def iban_ok(value: str) -> bool:
    """ISO 13616 IBAN: known country, its length, and mod 97 == 1."""
    s = _NON_ALNUM.sub("", value).upper()
    if len(s) < 15 or not s[:2].isalpha() or not s[2:4].isdigit():
        return False
    if IBAN_LENGTHS.get(s[:2]) != len(s):
        return False
    moved = s[4:] + s[:4]
    num = "".join(str(int(c, 36)) for c in moved)
    return int(num) % 97 == 1


def ssn_ok(value: str) -> bool:
    """US SSN rules: area not 000, 666 or 9xx; group not 00; serial not 0000; not all one digit."""
    ds = digits(value)
    if len(ds) != 9 or len(set(ds)) == 1:
        return False
    area, group, serial = ds[:3], ds[3:5], ds[5:]
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return False
    return ds not in ("123456789", "078051120", "219099999")


def nhs_ok(value: str) -> bool:
    """UK NHS number: 10 digits, weighted mod 11 check digit."""
    ds = digits(value)
    if len(ds) != 10:
        return False
    total = sum(int(d) * w for d, w in zip(ds[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(ds[9])


def npi_ok(value: str) -> bool:
    """US NPI: 10 digits starting with 1 or 2, Luhn over the '80840' prefix."""
    ds = digits(value)
    if len(ds) != 10 or ds[0] not in "12":
        return False
    return luhn("80840" + ds)
