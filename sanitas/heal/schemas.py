"""The heal request of Blindsight Antidote's "Start Healing" API reference (fields, defaults, ranges,
enum), plus our opt-in extensions.

The check fields (``fix_mislabeled``, ``remove_outliers``, ... ``off_topic_score_max``) are not written
here: each detector declares its own (``heal.detectors.contract``), and ``build_request_model`` derives
the schema from the registry in the checks' listing order, between ``target`` and the extensions.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from sanitas.heal.detectors.contract import request_defaults, request_flags, request_options, validate_options
from sanitas.names import NAME_PATTERN

#: request fields that are not a check's: where the result goes and what the job does with it
_OWN_FIELDS = ("target", "activate", "dry_run", "branch_name")


class _RequestBase(BaseModel):
    """What every derived heal request shares: strict types, no unknown field, the checks' own
    validation of how their options relate."""

    model_config = ConfigDict(extra="forbid", strict=True)

    @model_validator(mode="after")
    def _checks_accept(self) -> _RequestBase:
        validate_options(self.options())
        return self

    def options(self) -> dict[str, Any]:
        """The check flags and options, as the pipeline takes them (``HealOptions(**options)``)."""
        return {name: getattr(self, name) for name in request_defaults() if name in type(self).model_fields}


def build_request_model() -> type[_RequestBase]:
    """The body model of ``POST /api/datasets/{dataset_id}/heal`` for the checks registered now."""
    fields: dict[str, Any] = {"target": (Literal["download", "dataset"], "dataset")}
    for _, flag in request_flags():
        fields[flag.name] = (bool, flag.default)
    for _, opt in request_options():
        fields[opt.name] = (int, Field(default=opt.default, ge=opt.ge, le=opt.le))
    # Extensions: make the new branch active at once; score only (change nothing); name the branch.
    fields["activate"] = (bool, False)
    fields["dry_run"] = (bool, False)
    fields["branch_name"] = (str | None, Field(default=None, pattern=NAME_PATTERN))
    clash = set(_OWN_FIELDS) & set(request_defaults())
    if clash:
        raise ValueError(f"a check declares a reserved request field: {', '.join(sorted(clash))}")
    return create_model("HealRequest", __base__=_RequestBase, __module__=__name__, **fields)


class HealRequest(build_request_model()):  # type: ignore[misc]  # derived from the registry
    """Body of ``POST /api/datasets/{dataset_id}/heal``."""
