"""The heal request as the registered checks declare it: its fields, their defaults, their validation,
and ``HealOptions``, the pipeline's view of one request.

Nothing here names a check: the request schema (``heal.schemas``), the CLI (``cli.heal``), the
pipeline's decisions and the report all read the registry through these functions, so a check's
flags and options exist in exactly one place, its detector.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sanitas.heal.detectors.base import Detector, RequestFlag, RequestOption, registered


def request_flags() -> list[tuple[type[Detector], RequestFlag]]:
    """Every check's action flags, in listing order."""
    return [(cls, flag) for cls in registered() for flag in cls.flags]


def request_options() -> list[tuple[type[Detector], RequestOption]]:
    """Every check's numeric options, in listing order."""
    return [(cls, opt) for cls in registered() for opt in cls.options]


def request_defaults() -> dict[str, Any]:
    """The request's check fields with their defaults: the flags first, then the options."""
    out: dict[str, Any] = {flag.name: flag.default for _, flag in request_flags()}
    out.update({opt.name: opt.default for _, opt in request_options()})
    return out


def validate_options(values: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` unless every option is an integer in its range and each check accepts how
    its options relate (the one place a check's constraints are enforced)."""
    for _, opt in request_options():
        value = values.get(opt.name, opt.default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{opt.name} must be an integer, got {value!r}")
        if not opt.ge <= value <= opt.le:
            raise ValueError(f"{opt.name} must be between {opt.ge} and {opt.le}, got {value}")
    for cls in registered():
        cls.validate_options(values)


class HealOptions:
    """One heal request's check fields (every registered check's flags and options, by name, e.g.
    ``options.remove_outliers``) plus ``scan_only`` (score only, change nothing).

    Unknown names raise ``TypeError``; values out of range or that do not fit together raise
    ``ValueError``.
    """

    def __init__(self, *, scan_only: bool = False, **values: Any) -> None:
        defaults = request_defaults()
        unknown = sorted(set(values) - set(defaults))
        if unknown:
            raise TypeError(f"unknown heal option(s): {', '.join(unknown)}; known: {', '.join(defaults)}")
        merged = {name: values.get(name, default) for name, default in defaults.items()}
        for _, flag in request_flags():
            merged[flag.name] = bool(merged[flag.name])
        validate_options(merged)
        self.__dict__["values"] = merged
        self.__dict__["scan_only"] = bool(scan_only)

    def __getattr__(self, name: str) -> Any:
        values = self.__dict__.get("values", {})
        if name in values:
            return values[name]
        raise AttributeError(f"no heal option {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("heal options are immutable")

    def enabled(self, flag: RequestFlag) -> bool:
        """Whether the request turns ``flag`` on."""
        return bool(self.values.get(flag.name, False))

    def as_dict(self) -> dict[str, Any]:
        """The fields and ``scan_only``, as the manifest records them."""
        return {**self.values, "scan_only": self.scan_only}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HealOptions) and self.as_dict() == other.as_dict()

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.as_dict().items())))

    def __repr__(self) -> str:
        return "HealOptions(" + ", ".join(f"{k}={v!r}" for k, v in self.as_dict().items()) + ")"
