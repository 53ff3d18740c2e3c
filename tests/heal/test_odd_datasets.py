"""Heal on datasets of odd shapes: unreadable files give one clear error, odd text survives the round trip."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from sanitas.heal.pipeline import HealOptions
from sanitas.heal.runner import InputError, heal_file, read_rows
from tests.heal.conftest import make_rows

pytestmark = pytest.mark.usefixtures("pattern_pii")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"text": "ok", "label": "a"}\n{"text": broken\n', r"in\.jsonl:2: not valid JSON"),
        (b'["a", "b"]\n', r"in\.jsonl:1: each line must be a JSON object"),
        ('{"text": "caf\xe9", "label": "a"}\n'.encode("latin-1"), r"in\.jsonl:1: not UTF-8 text"),
        (b'{"sentence": "hello", "label": "a"}\n', r"no row has a 'text' field.*found label, sentence"),
    ],
)
def test_unreadable_jsonl_is_one_input_error(tmp_path: Path, content: bytes, message: str) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_rows(src)


def test_a_byte_order_mark_and_crlf_line_ends_are_read(tmp_path: Path) -> None:
    lines = [{"id": "a", "text": "hello", "label": "x"}, {"id": "b", "text": "bye", "label": "y"}]
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\xef\xbb\xbf" + b"".join(json.dumps(r).encode() + b"\r\n" for r in lines))
    table = tmp_path / "in.csv"
    table.write_bytes(b"\xef\xbb\xbfid,text,label\r\na,hello,x\r\n")
    assert [lr.row.text for lr in read_rows(src)[1]] == ["hello", "bye"]
    fmt, rows, columns = read_rows(table)
    assert columns == ["id", "text", "label"] and rows[0].row.text == "hello"


def test_the_cli_reports_an_unreadable_file_in_one_line(tmp_path: Path) -> None:
    from sanitas.cli.main import app

    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "ok", "label": "a"}\n{"text": broken\n')
    result = CliRunner(env={"SANITAS_HOME": str(tmp_path / "home"), "COLUMNS": "200"}).invoke(
        app, ["heal", str(src), "--all", "--out", str(tmp_path / "out.jsonl")]
    )
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # no traceback: typer's exit
    assert "error:" in result.output and "in.jsonl:2: not valid JSON" in result.output
    assert not (tmp_path / "out.jsonl").exists()


def test_lone_surrogates_heal_and_round_trip(tmp_path: Path, fake_embedder) -> None:  # noqa: ANN001
    """A lone surrogate escaped in JSON (``\\ud800``) reaches the pipeline as U+FFFD; the healed file,
    the manifest and the scores stay valid UTF-8 JSON and a kept row is written back as it came."""
    recs = [{"id": f"r{i}", "text": t, "label": lab} for i, (t, lab) in enumerate(make_rows())]
    recs[0]["text"] += " \ud800 x \udc00"
    recs[1]["label"] = "odd\udfff"
    recs[2]["id"] = "id\ud800"
    recs[3]["text"] = "card\x00 ctrl \x01\x1b[31m \r\n end"
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="ascii")
    _, loaded, _ = read_rows(src)
    assert loaded[0].row.text.endswith(" \ufffd x \ufffd") and loaded[1].row.label == "odd\ufffd"
    out, manifest, scores = tmp_path / "out.jsonl", tmp_path / "m.jsonl", tmp_path / "s.jsonl"
    res = heal_file(
        src, out=out, manifest=manifest, scores=scores, options=HealOptions(), embedder=fake_embedder
    )
    assert len(res.decisions) == len(recs)
    healed = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    kept = {r["id"]: r for r in healed}
    for r in recs[:4]:
        if r["id"] in kept:
            assert kept[r["id"]] == r
    assert len([json.loads(x) for x in scores.read_text(encoding="utf-8").splitlines()]) == len(recs)
    for line in manifest.read_text(encoding="utf-8").splitlines():
        json.loads(line)


@pytest.mark.parametrize("rows_a_class", [1, 2])
def test_rows_of_too_small_classes_are_not_a_foreign_topic(rows_a_class: int) -> None:
    """Two thirds of the rows in classes of one row (a label column that is mostly row ids) or of two:
    support is two classmates among a row's neighbours, which such a class cannot give, so its missing
    support is no evidence. Formerly those rows seeded the foreign-topic classifier: two thirds of a clean
    dataset were removed as off-topic with one-row classes, a tenth with two-row ones."""
    from sanitas.heal.detectors import DetectorContext, get_detector
    from sanitas.heal.engine.far import far_stats
    from sanitas.heal.engine.support import off_topic_families
    from tests.heal.test_heal_support import between_classes

    base, _ = between_classes(planted=0, n_classes=20, per_class=30)
    small = np.array([bool(i % 3) for i in range(len(base.texts))])
    labels = list(base.labels)
    for j, i in enumerate(np.flatnonzero(small)):
        labels[i] = f"small-{j // rows_a_class}"  # unrelated to the row's text
    ctx = DetectorContext(texts=base.texts, labels=labels, embeddings=base.embeddings)
    unsupported = off_topic_families(ctx, far_stats(ctx))[0][0]
    assert not unsupported[small].any()
    assert get_detector("off_topic").detect(ctx).flags.sum() <= 0.01 * ctx.n


def test_nan_is_a_missing_label_and_text(tmp_path: Path) -> None:
    """``json.dumps`` and pandas write a missing float as NaN: it is no label (not a class "nan")
    and no text (not the word "nan")."""
    src = tmp_path / "in.jsonl"
    src.write_text(
        '{"id": "a", "text": "card lost", "label": NaN}\n'
        '{"id": "b", "text": NaN, "label": 1.0}\n'
        '{"id": "c", "text": 0, "label": ""}\n'
    )
    rows = [lr.row for lr in read_rows(src)[1]]
    assert [r.label for r in rows] == [None, "1.0", None]
    assert [r.text for r in rows] == ["card lost", "", "0"]


def test_a_tsv_file_is_read_and_written_with_tabs(tmp_path: Path, fake_embedder) -> None:  # noqa: ANN001
    src = tmp_path / "in.tsv"
    src.write_text("text\tlabel\n" + "".join(f"{t}\t{lab}\n" for t, lab in make_rows(10)))
    fmt, rows, columns = read_rows(src)
    assert fmt == "csv" and columns == ["text", "label"] and rows[0].row.label is not None
    out = tmp_path / "out.tsv"
    heal_file(src, out=out, options=HealOptions(), embedder=fake_embedder)
    assert out.read_text().splitlines()[0] == "text\tlabel"
    assert [lr.row.text for lr in read_rows(out)[1]][:3] == [lr.row.text for lr in rows][:3]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[\n  {"text": "a", "label": "x"}\n]\n', "a JSON array; heal reads JSON Lines"),
        ('[{"text": "a", "label": "x"}]\n', r"JSON Lines: one object per line, not an array"),
    ],
)
def test_a_json_array_is_named_as_such(tmp_path: Path, content: str, message: str) -> None:
    src = tmp_path / "in.json"
    src.write_text(content)
    with pytest.raises(InputError, match=message):
        read_rows(src)


def test_the_cli_refuses_a_folder_as_an_output(tmp_path: Path) -> None:
    from sanitas.cli.main import app

    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "ok", "label": "a"}\n')
    result = CliRunner(env={"SANITAS_HOME": str(tmp_path / "home"), "COLUMNS": "200"}).invoke(
        app, ["heal", str(src), "--all", "--manifest", str(tmp_path)]
    )
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "--manifest" in result.output and "is a folder" in result.output


@pytest.mark.parametrize("messages", ["hello", {"body": "x"}, [None, 5]])
def test_messages_that_are_not_message_objects_are_one_input_error(tmp_path: Path, messages: object) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "text": "fine", "label": "x"}) + "\n")
    src.write_text(src.read_text() + json.dumps({"id": "b", "messages": messages, "label": "x"}) + "\n")
    with pytest.raises(InputError, match=r"in\.jsonl:2: 'messages' must be a list of message objects"):
        read_rows(src)


def test_a_label_list_of_nulls_is_no_label(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "a", "label": [null]}\n{"text": "b", "label": ["x", null, "y"]}\n')
    assert [lr.row.label for lr in read_rows(src)[1]] == [None, "x > y"]


def test_a_one_row_class_is_judged_alike_whatever_the_warning_filters(fake_embedder) -> None:  # noqa: ANN001
    """cleanlab warns about a class too small to flag all its issues; under an "error" filter (pytest's
    ``-W error``, a caller's) that warning used to send the check to its plain-disagreement fallback,
    which flags, and relabels, the row of a one-row class whatever its text."""
    import warnings

    import cleanlab.filter  # noqa: F401 - its import ignores every warning: the filter below undoes that

    from sanitas.heal.detectors import DetectorContext, get_detector

    rows = make_rows()
    texts, labels = [t for t, _ in rows], [lab for _, lab in rows]
    labels[1] = "a class of its own"
    ctx = DetectorContext(texts=texts, labels=labels, embeddings=fake_embedder.encode(texts))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = get_detector("mislabeled").detect(ctx)
    assert not res.flags[1]


def test_the_mislabeled_check_leaves_the_process_warning_filters_alone() -> None:
    """cleanlab's import ignores every warning for the whole process; the check undoes that."""
    import subprocess
    import sys

    code = (
        "import warnings, numpy as np\n"
        "from sanitas.heal.detectors.mislabeled import _cl_issues\n"
        "before = list(warnings.filters)\n"
        "p = np.array([[.9, .1], [.8, .2], [.2, .8], [.1, .9], [.7, .3], [.3, .7]])\n"
        "_cl_issues(p, np.array([0, 0, 1, 1, 1, 0]))\n"
        "import sys\n"
        "sys.exit(0 if warnings.filters == before else 1)\n"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
