"""``sanitas datasets create|list|import|export`` and ``sanitas keys create|list|revoke`` on both backends."""

from __future__ import annotations

import csv
import io
import threading
import time
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner, Result

from sanitas.auth.service import authenticate
from sanitas.cli.datasets import _run_job
from sanitas.cli.main import app
from sanitas.config import Settings
from sanitas.datasets import branches
from sanitas.datasets.service import get_dataset
from sanitas.db import Database
from sanitas.jobs import service as jobs
from sanitas.jobs.worker import Worker
from tests.jobs.helpers import TEST_KINDS

LINES = [
    {"id": "t1", "text": "card declined, again", "label": "Cards > Declined"},
    {"id": "t2", "text": 'refund "now"', "label": "Billing"},
    {"id": "t3", "text": "no label here"},
]


@pytest.fixture()
def cli(db_url: str, tmp_path: Path) -> CliRunner:
    """A runner whose environment points at the test database and a temporary home."""
    return CliRunner(
        env={
            "SANITAS_HOME": str(tmp_path / "home"),
            "SANITAS_DATABASE_URL": db_url,
            "SANITAS_SECRET_KEY": "test-secret",
            "COLUMNS": "200",  # rich tables: keep ids on one line
        }
    )


def run(cli: CliRunner, *args: str, code: int = 0) -> Result:
    """Invoke ``sanitas ARGS`` and check the exit code."""
    result = cli.invoke(app, list(args))
    assert result.exit_code == code, (result.output, result.exception)
    return result


def jsonl_file(tmp_path: Path) -> Path:
    """The sample rows as a JSONL file."""
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(x) for x in LINES) + b"\n")
    return path


def rows_of(db: Database, ref: str = "acme/tickets") -> list[tuple[str, str, object]]:
    """``(id, text, labels)`` of a dataset's active branch."""
    project, name = ref.split("/")
    with db.read() as s:
        ds = get_dataset(session=s, project=project, name=name)
        return [(r.id, r.text, r.labels) for b in branches.iter_rows(session=s, dataset=ds) for r in b]


def test_datasets_create_and_list(cli: CliRunner) -> None:
    out = run(cli, "datasets", "create", "acme/tickets", "--title", "Support tickets").output
    assert "created dataset acme/tickets" in out
    assert "updated dataset acme/tickets" in run(cli, "datasets", "create", "acme/tickets").output
    listing = run(cli, "datasets", "list").output
    assert "acme/tickets" in listing and "main" in listing


def test_import_then_reimport_then_export_each_format(cli: CliRunner, db: Database, tmp_path: Path) -> None:
    src = jsonl_file(tmp_path)
    out = run(cli, "datasets", "import", "acme/tickets", str(src)).output
    assert "3 rows — 3 new, 0 updated, 0 unchanged, 2 labels set" in out
    out = run(cli, "datasets", "import", "acme/tickets", str(src)).output
    assert "3 rows — 0 new, 0 updated, 3 unchanged, 0 labels set" in out
    assert rows_of(db) == [
        ("t1", "card declined, again", [["Cards", "Declined"]]),
        ("t2", 'refund "now"', [["Billing"]]),
        ("t3", "no label here", None),
    ]
    want = [{"id": x["id"], "text": x["text"], "label": x.get("label")} for x in LINES]
    for fmt in ("jsonl", "csv", "parquet"):
        dest = tmp_path / "out" / f"tickets.{fmt}"
        assert "wrote 3 rows" in run(cli, "datasets", "export", "acme/tickets", str(dest)).output
        if fmt == "jsonl":
            got = [orjson.loads(line) for line in dest.read_bytes().splitlines()]
        elif fmt == "csv":
            got = [{**r, "label": r["label"] or None} for r in csv.DictReader(io.StringIO(dest.read_text()))]
        else:
            got = pq.read_table(dest).to_pylist()
        assert got == want, fmt
        # What was exported imports back unchanged.
        run(cli, "datasets", "import", f"acme/copy-{fmt}", str(dest))
        assert rows_of(db, f"acme/copy-{fmt}") == rows_of(db)


def test_export_of_a_named_branch(cli: CliRunner, db: Database, tmp_path: Path) -> None:
    run(cli, "datasets", "import", "acme/tickets", str(jsonl_file(tmp_path)))
    with db.write() as s:
        ds = get_dataset(session=s, project="acme", name="tickets")
        first = next(iter(branches.iter_rows(session=s, dataset=ds)))[0]
        branches.create_branch(
            session=s, dataset=ds, changes=branches.ChangeSet(excluded={first.pk}), name="healed"
        )
    dest = tmp_path / "healed.jsonl"
    run(cli, "datasets", "export", "acme/tickets", str(dest), "--branch", "healed")
    assert [orjson.loads(x)["id"] for x in dest.read_bytes().splitlines()] == ["t2", "t3"]


@pytest.mark.parametrize(
    ("args", "content", "message"),
    [
        (("datasets", "import", "acme/tickets", "{file}"), b'{"text": "ok"}\n{"text": 1}\n', "line 2"),
        (("datasets", "import", "acme/tickets", "{file}", "--format", "xml"), b"x", "format must be one of"),
        (("datasets", "import", "no-slash", "{file}"), b'{"text": "ok"}\n', "expected PROJECT/NAME"),
        (("datasets", "export", "acme/absent", "{dir}/out.jsonl"), None, "not found"),
        (("datasets", "export", "acme/tickets", "{dir}/out.txt"), None, "format must be one of"),
        (("datasets", "export", "acme/tickets", "{dir}/out.csv", "--branch", "nope"), None, "not found"),
        (("keys", "create", "--role", "superuser"), None, "role must be one of"),
        (("keys", "revoke", "nope"), None, "no key 'nope'"),
    ],
)
def test_errors_exit_1_with_a_one_line_message(
    cli: CliRunner, db: Database, tmp_path: Path, args: tuple[str, ...], content: bytes | None, message: str
) -> None:
    run(cli, "datasets", "import", "acme/tickets", str(jsonl_file(tmp_path)))
    before = rows_of(db)
    bad = tmp_path / "bad.jsonl"
    if content is not None:
        bad.write_bytes(content)
    argv = [a.replace("{file}", str(bad)).replace("{dir}", str(tmp_path)) for a in args]
    result = run(cli, *argv, code=1)
    assert message in result.output and "Traceback" not in result.output
    assert rows_of(db) == before  # a failed command changes nothing
    assert not (tmp_path / "out.jsonl").exists()


def test_keys_create_list_revoke(cli: CliRunner, db: Database) -> None:
    created = run(cli, "keys", "create", "--role", "write", "-p", "acme", "-p", "beta", "--name", "robot")
    token = created.stdout.strip()
    with db.read() as s:
        who = authenticate(session=s, token=token)
    assert who is not None and who.role == "write" and who.projects == ("acme", "beta")
    key_id = who.key_id
    assert key_id is not None
    listing = run(cli, "keys", "list").output
    assert key_id in listing and "robot" in listing and token not in listing
    assert f"revoked {key_id}" in run(cli, "keys", "revoke", key_id).output
    with db.read() as s:
        assert authenticate(session=s, token=token) is None
    run(cli, "keys", "revoke", key_id)  # revoking twice is harmless


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("datasets",),
        ("keys",),
        ("datasets", "import"),
        ("datasets", "export"),
        ("keys", "create"),
        ("worker",),
    ],
)
def test_every_command_has_help(cli: CliRunner, args: tuple[str, ...]) -> None:
    out = run(cli, *args, "--help").output
    assert "Usage:" in out and "--help" in out


def test_the_export_runner_retries_here_until_the_job_is_final(db: Database, settings: Settings) -> None:
    with db.write() as s:
        job_id = jobs.enqueue(session=s, kind="test.boom", project="acme", payload={}).id
    seen: list[str] = []
    worker = Worker(db=db, settings=settings, kinds=TEST_KINDS)
    status, result, error = _run_job(db, worker, job_id, lambda _p, phase, _m: seen.append(phase))
    assert (status, result, error) == ("failed", None, "RuntimeError: boom on attempt 3")
    assert seen.count("queued") == 2  # two retries were followed before the final failure


def test_the_export_runner_follows_a_job_another_worker_holds(db: Database, settings: Settings) -> None:
    with db.write() as s:
        job_id = jobs.enqueue(session=s, kind="test.echo", project="acme", payload={"value": 7}).id
    assert jobs.claim(db=db, worker_id="server", kinds=TEST_KINDS, lease_seconds=60) is not None

    def finish_elsewhere() -> None:
        time.sleep(0.3)
        with db.write() as s:
            assert jobs.finish(session=s, job_id=job_id, worker_id="server", result={"echo": 7})

    t = threading.Thread(target=finish_elsewhere)
    t.start()
    worker = Worker(db=db, settings=settings, kinds=TEST_KINDS)
    state = _run_job(db, worker, job_id, lambda *_: None)
    t.join()
    assert state == ("succeeded", {"echo": 7}, None)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.1.2.3", False),
        ("no-such-host.invalid", False),
    ],
)
def test_no_auth_loopback_check_accepts_ipv6(host: str, loopback: bool) -> None:
    from sanitas.cli.common import is_loopback

    assert is_loopback(host) is loopback
