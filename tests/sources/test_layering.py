"""Domain folders import each other one way only: no cycle between them (``api`` and ``cli`` sit on top).

Read from the source text, function-level imports included, so a cycle cannot hide inside a function.
"""

from __future__ import annotations

import ast
from pathlib import Path

import sanitas

ROOT = Path(sanitas.__file__).parent
ON_TOP = {"api", "cli"}
# Every domain folder of the package (``api`` and ``cli`` sit on top and may import anything).
GUARDED = {p.name for p in ROOT.iterdir() if p.is_dir() and not p.name.startswith("_")} - ON_TOP


def _edges() -> dict[str, dict[str, str]]:
    """``{folder: {imported folder: first importing file}}`` over every module of the package."""
    out: dict[str, dict[str, str]] = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if len(parts) < 2 or parts[0] in ON_TOP:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sanitas."):
                target = node.module.split(".")[1]
                if target != parts[0] and target not in ON_TOP and (ROOT / target).is_dir():
                    out.setdefault(parts[0], {}).setdefault(target, f"{path.relative_to(ROOT)}:{node.lineno}")
    return out


def _reaches(edges: dict[str, dict[str, str]], start: str, goal: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        here = todo.pop()
        if here == goal:
            return True
        if here not in seen:
            seen.add(here)
            todo.extend(edges.get(here, {}))
    return False


def test_no_import_cycle_through_the_comment_domains() -> None:
    edges = _edges()
    cycles = [
        f"{a} -> {b} ({where}) and back"
        for a, targets in edges.items()
        for b, where in targets.items()
        if (a in GUARDED or b in GUARDED) and _reaches(edges, b, a)
    ]
    assert cycles == []


def test_sources_import_no_domain_above_them() -> None:
    # Sources hold comments; datasets, models and streams read them, never the other way round.
    assert set(_edges().get("sources", {})) <= {"auth"}


def test_views_do_not_query_comments_themselves() -> None:
    text = (ROOT / "models" / "views.py").read_text(encoding="utf-8")
    assert "sanitas.sources.tables" not in text and "select(" not in text


def test_every_domain_folder_is_guarded() -> None:
    assert {"heal", "pii", "anonymization", "jobs", "sources", "streams"} <= GUARDED


def test_services_never_import_views() -> None:
    """A service backs the API, the CLI and the workers alike: it must not depend on a view."""
    offenders = []
    for path in sorted(ROOT.rglob("*.py")):
        if path.name.endswith("views.py") or path.relative_to(ROOT).parts[0] in ON_TOP:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.endswith("views"):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {node.module}")
    assert not offenders, offenders
