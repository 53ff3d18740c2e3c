"""The detector contract: one plugin per heal check, a registry, and the context they read.

A detector scores every row in [0, 1] (1 = certainly affected), flags the rows whose score passes a
threshold it calibrates on the dataset itself, and returns per-row details (a suggested label, the
trigger found, an off-topic score 0-100...). Expensive shared work (the kNN graph, out-of-sample
probabilities) is memoised on the context so that every detector reuses it.

A detector also declares its place in a heal request: the flags that turn its action on (``RequestFlag``:
remove, relabel or anonymize a flagged row), its numeric options (``RequestOption``, with their ranges)
and how they must relate (``validate_options``), where it is listed (``order``) and when it runs
(``run_order``). The heal options, the HTTP request schema, the CLI options, the pipeline's decisions
and the report are all derived from the registry (``heal.options``), so a new check is one file.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

import numpy as np

if TYPE_CHECKING:
    from sanitas.jobs.executor import Executor

T = TypeVar("T")
Action = Literal["remove", "relabel", "anonymize"]
#: what each action is called once applied (the manifest's ``actions``), in the order they are applied
APPLIED: dict[Action, str] = {"remove": "removed", "relabel": "relabeled", "anonymize": "anonymized"}


@dataclass(frozen=True)
class RequestFlag:
    """A boolean field of the heal request that applies ``action`` to the rows the check flags."""

    name: str
    action: Action
    default: bool
    help: str


@dataclass(frozen=True)
class RequestOption:
    """An integer field of the heal request that tunes how a check's flags turn into actions."""

    name: str
    default: int
    ge: int
    le: int
    help: str


class SkipCheck(Exception):
    """Raised by ``detect`` when a check cannot run on this dataset; the message says why."""


@dataclass
class DetectorContext:
    """What every detector sees: the rows, their embeddings and a memo of shared computations."""

    texts: list[str]
    labels: list[str | None]
    embeddings: np.ndarray
    should_cancel: Callable[[], bool] | None = None
    #: embeds extra texts (sentences, exemplars) with the job's model and cache
    embed: Callable[[list[str]], np.ndarray] | None = None
    #: where detectors may cache per-text results between jobs (None: no caching)
    cache_dir: Path | None = None
    #: the job's executor (resolved on first call) for a check's per-row batch work (PII detection);
    #: None: the check runs that work in this process
    executor: Callable[[], Executor] | None = None
    memo: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Number of rows."""
        return len(self.texts)

    @property
    def has_labels(self) -> bool:
        """True when enough rows carry a label to learn from (at least two classes)."""
        return len({lab for lab in self.labels if lab is not None}) >= 2

    def shared(self, key: str, compute: Callable[[], T]) -> T:
        """Return the memoised value for ``key``, computing it once."""
        if key not in self.memo:
            self.memo[key] = compute()
        value: T = self.memo[key]
        return value


@dataclass
class DetectorResult:
    """One check's verdict on every row."""

    scores: np.ndarray
    flags: np.ndarray
    threshold: float
    summary: dict[str, Any] = field(default_factory=dict)
    details: list[dict[str, Any] | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.scores = np.clip(np.asarray(self.scores, dtype=np.float64), 0.0, 1.0)
        self.flags = np.asarray(self.flags, dtype=bool)
        if not self.details:
            self.details = [None] * len(self.scores)
        if not (len(self.scores) == len(self.flags) == len(self.details)):
            raise ValueError("scores, flags and details must have one entry per row")


class Detector(ABC):
    """A heal check. Subclasses set ``name``, their request flags and order, and implement ``detect``."""

    name: str = ""
    #: where the check is listed (request fields, manifests, scores, report): ascending
    order: int = 100
    #: when the check runs (cheap geometry first, so later checks reuse its memoised work): ascending
    run_order: int = 100
    #: the request flags that act on this check's flagged rows
    flags: tuple[RequestFlag, ...] = ()
    #: the request's numeric options for this check
    options: tuple[RequestOption, ...] = ()
    #: models this detector relies on, for the manifest
    models: tuple[str, ...] = ()
    #: the inputs its result is a function of (``texts``, ``labels``, ``embeddings``): the result cache
    #: keys on exactly these, so e.g. a relabel does not invalidate a check that never reads labels
    depends_on: tuple[str, ...] = ("texts", "labels", "embeddings")

    def setup(self) -> None:  # noqa: B027 - optional hook, most detectors load nothing
        """Load models once per process; the default loads nothing."""

    def cache_params(self) -> dict[str, Any]:
        """Parameters and external code versions that change the result, for the result cache key."""
        return {}

    @abstractmethod
    def detect(self, ctx: DetectorContext) -> DetectorResult:
        """Score, flag and explain every row of ``ctx``."""

    @classmethod
    def validate_options(cls, values: Mapping[str, Any]) -> None:
        """Raise ``ValueError`` when this check's options do not fit together (ranges are checked
        already); the default accepts any."""
        return None

    @classmethod
    def finding(cls, detail: dict[str, Any] | None) -> dict[str, Any]:
        """What a flagged row's manifest finding carries beyond check and score: its detail, less
        the entity spans (they have their own field)."""
        if not detail:
            return {}
        return {"detail": {k: v for k, v in detail.items() if k != "entities"}}

    @classmethod
    def applies(cls, flag: RequestFlag, detail: dict[str, Any] | None, options: Mapping[str, Any]) -> bool:
        """Whether ``flag``'s action applies to a flagged row with ``detail``: a relabel needs a
        confident suggestion, an anonymization needs entities; a removal always applies."""
        if flag.action == "relabel":
            return bool(detail and detail.get("relabel") and detail.get("suggested_label") is not None)
        if flag.action == "anonymize":
            return bool(detail and detail.get("entities"))
        return True


REGISTRY: dict[str, type[Detector]] = {}


def _field_names(cls: type[Detector]) -> list[str]:
    return [f.name for f in cls.flags] + [o.name for o in cls.options]


def _validate_declaration(cls: type[Detector]) -> None:
    if not cls.name or not cls.name.isidentifier():
        raise ValueError(f"a check's name must be an identifier, got {cls.name!r}")
    taken = {f: c.name for c in REGISTRY.values() if c.name != cls.name for f in _field_names(c)}
    for f in _field_names(cls):
        if f in taken:
            raise ValueError(f"request field {f!r} of {cls.name!r} is already {taken[f]!r}'s")
    for flag in cls.flags:
        if flag.action not in APPLIED:
            raise ValueError(
                f"{cls.name}: unknown action {flag.action!r}; expected one of {', '.join(APPLIED)}"
            )
    for opt in cls.options:
        if not opt.ge <= opt.default <= opt.le:
            raise ValueError(f"{cls.name}: default of {opt.name} is outside [{opt.ge}, {opt.le}]")


def register(cls: type[Detector]) -> type[Detector]:
    """Class decorator adding a detector to the registry under its ``name``; its request fields must
    not clash with another check's."""
    _validate_declaration(cls)
    REGISTRY[cls.name] = cls
    return cls


def unregister(name: str) -> None:
    """Remove check ``name`` from the registry (plugins under test); unknown names are ignored."""
    REGISTRY.pop(name, None)


def registered() -> list[type[Detector]]:
    """The registered detectors in listing order (``order``, then name)."""
    import sanitas.heal.detectors  # noqa: F401 - importing the package registers the built-ins

    return sorted(REGISTRY.values(), key=lambda c: (c.order, c.name))


def run_sequence() -> list[str]:
    """Check names in the order they run."""
    return [c.name for c in sorted(registered(), key=lambda c: (c.run_order, c.order, c.name))]


class _Checks(Sequence[str]):
    """The registered check names in listing order, read from the registry at each use (a plugin
    registered later is seen)."""

    def _names(self) -> tuple[str, ...]:
        return tuple(c.name for c in registered())

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[str]: ...
    def __getitem__(self, i: int | slice) -> str | Sequence[str]:
        return self._names()[i]

    def __len__(self) -> int:
        return len(self._names())

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __contains__(self, name: object) -> bool:
        return name in REGISTRY

    def __repr__(self) -> str:
        return repr(self._names())


#: every check's name, in listing order
CHECKS: Sequence[str] = _Checks()


def get_detector(name: str, **kwargs: Any) -> Detector:
    """Instantiate the registered detector for check ``name``."""
    import sanitas.heal.detectors  # noqa: F401 - importing the package registers the built-ins

    try:
        cls = REGISTRY[name]
    except KeyError:
        raise KeyError(f"no detector for {name!r}; known: {', '.join(sorted(REGISTRY))}") from None
    return cls(**kwargs)


def empty_result(n: int, *, reason: str) -> DetectorResult:
    """A result that flags nothing, for checks that cannot run (the reason goes in the summary)."""
    return DetectorResult(
        scores=np.zeros(n), flags=np.zeros(n, dtype=bool), threshold=1.0, summary={"skipped": reason}
    )
