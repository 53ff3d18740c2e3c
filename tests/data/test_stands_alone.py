"""The repository stands alone: the package, the tests and the shell scripts a user runs (setup, test,
demo) read no file from outside it.

A user's clone has no sibling folder of yardsticks and full data sets beside it; the samples the tests
need are in ``tests/data/``, each named with its origin and licence in ``tests/data/SOURCES.md``. Only
the benchmarks in ``bench/`` use that folder (they say so); the training scripts in ``scripts/`` take the
data folder as an argument.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent
# The maintainers' sibling folder, named once so that this file's own samples do not read as references.
SIBLING = "shared"
# A reference to the sibling folder: the environment variable that located it, or a path into it.
# Built from the name so that no line of this file is itself a path into the folder.
OUTSIDE = re.compile(
    rf"SANITAS_{SIBLING.upper()}|\.\./{SIBLING}\b|[\"']{SIBLING}[\"']\s*\)?\s*/|/\s*[\"']{SIBLING}[\"']"
)
CODE = (".py", ".sh", ".toml", ".cfg", ".ini", ".html", ".js")


def _files(folder: str, suffixes: tuple[str, ...] = CODE) -> list[Path]:
    return [
        p
        for p in sorted((ROOT / folder).rglob("*"))
        if p.is_file() and p.suffix in suffixes and "__pycache__" not in p.parts
    ]


def test_no_test_script_or_module_reads_the_shared_folder() -> None:
    here = Path(__file__).resolve()
    hits = [
        f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
        for p in [*_files("sanitas"), *_files("tests"), *_files("scripts"), ROOT / "pyproject.toml"]
        if p.resolve() != here
        for n, line in enumerate(p.read_text(errors="replace").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert hits == []


def test_the_pattern_catches_the_ways_the_folder_was_reached() -> None:
    for line in (
        'SHARED = Path(os.environ.get("SANITAS_{up}", ROOT.parent / "{name}"))',
        'SEED = ROOT.parent / "{name}" / "seeds"',
        "open('../{name}/data/banking77/train.csv')",
    ):
        line = line.format(name=SIBLING, up=SIBLING.upper())
        assert OUTSIDE.search(line), line
    for line in ("ctx.shared('knn', compute)", "from sanitas.heal.engine.shared import novelty"):
        assert not OUTSIDE.search(line), line


def test_every_sample_is_attributed() -> None:
    sources = (DATA / "SOURCES.md").read_text()
    samples = [
        p.name
        for p in DATA.iterdir()
        if p.is_file() and p.suffix not in (".py", ".pyc") and p.name != "SOURCES.md"
    ]
    assert samples and [name for name in samples if f"`{name}`" not in sources] == []
