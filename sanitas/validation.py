"""Field types for JSON request bodies: one rule for every route family (no silent coercion).

The heal routes validate in pydantic's strict mode; the Re:infer models cannot be strict as a whole,
because FastAPI validates bodies in Python mode, where strict mode also refuses ISO 8601 strings for
date-times. These types give the same answers field by field: ``"8"`` is not an integer, ``1`` is not a
boolean, a number is not a timestamp, and NaN or infinity are not numbers.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, Strict

# JSON numbers are doubles for most clients: integers beyond 2**53 would not survive a round trip.
_EXACT = 2**53

StrictInt = Annotated[int, Strict()]
StrictBool = Annotated[bool, Strict()]
# Strict floats still take integers (JSON has one number type) but never strings or booleans.
StrictFloat = Annotated[float, Strict(), Field(allow_inf_nan=False)]


def _timestamp(value: Any) -> Any:
    if isinstance(value, str | datetime):
        return value
    raise ValueError(f"Input should be an ISO 8601 date-time string, not {_kind(value)}")


def _number(value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"Input should be a number, not {_kind(value)}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("Input should be a finite number")
        # 5 and 5.0 are one JSON number: keep one spelling, so echoes and content hashes agree.
        return int(value) if value.is_integer() and abs(value) <= _EXACT else value
    if abs(value) > _EXACT:
        raise ValueError(f"Input should be an integer between -{_EXACT} and {_EXACT} (or a float)")
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


def number(value: Any) -> int | float:
    """A JSON number as stored and echoed: an integer stays an integer, ``5.0`` becomes ``5``."""
    return _number(value)


Timestamp = Annotated[datetime, BeforeValidator(_timestamp)]
Number = Annotated[int | float, BeforeValidator(_number)]


def nul_path(value: Any, path: str = "") -> str | None:
    """The path (``comments[0].messages[1].body.text``) of the first string holding NUL, if any.

    For the HTTP guard, which sees NUL in the raw body: with this it can name the field in its error.
    Keys are checked too (a NUL in a key is reported at that key's path).
    """
    if isinstance(value, str):
        return (path or "body") if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                return here
            found = nul_path(item, here)
            if found is not None:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = nul_path(item, f"{path}[{i}]")
            if found is not None:
                return found
    return None


def plain_json_error(detail: str) -> str:
    """A JSON decoder's complaint in the client's terms, without Python's internals.

    Python refuses integers of more than 4,300 digits and suggests ``sys.set_int_max_str_digits()``:
    a client needs to hear which rule its body broke, not how to reconfigure our interpreter.
    """
    if "integer string conversion" in detail or "max_str_digits" in detail:
        return "a number has more than 4300 digits"
    return detail
