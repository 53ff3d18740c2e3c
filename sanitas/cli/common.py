"""Shared CLI plumbing: settings, a migrated database, rich console, progress bars."""

from __future__ import annotations

import gc
import ipaddress
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from sanitas.errors import SanitasError

if TYPE_CHECKING:
    from sanitas.config import Settings
    from sanitas.db import Database

# The settings, the database layer and rich's progress bars are imported where they are used: every
# command pays for this module, and ``sanitas anonymize`` needs none of the database (~0.5 s per process).

console = Console(stderr=True)


def open_db() -> tuple[Settings, Database]:
    """Settings from the environment and a database with the schema up to date."""
    from sanitas.config import load_settings
    from sanitas.db import Database, migrate

    settings = load_settings()
    migrate(settings.database_url)
    return settings, Database(
        settings.database_url, files_dir=settings.files_dir, job_max_attempts=settings.job_max_attempts
    )


@contextmanager
def local_db() -> Iterator[tuple[Settings, Database]]:
    """Like :func:`open_db` for one command: its connections are closed when the command ends."""
    settings, db = open_db()
    try:
        yield settings, db
    finally:
        db.dispose()


def is_loopback(host: str) -> bool:
    """True when every address ``host`` names is a loopback one (``127.0.0.1``, ``::1``, ``localhost``)."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except (OSError, UnicodeError):
        return False
    # A name that also resolves to a routable address would expose the unauthenticated server there.
    return bool(infos) and all(ipaddress.ip_address(str(i[4][0]).split("%")[0]).is_loopback for i in infos)


def tune_gc() -> None:
    """Make garbage collection cheap for long-running processes (``serve``, ``worker``).

    A sync of 4,096 comments allocates hundreds of thousands of short-lived objects; with the default
    thresholds the collector runs full passes over every imported module's objects many times per
    request, which cost about 40% of the sync throughput. Freezing what exists after start-up takes
    those objects out of every collection, and a larger young generation collects less often.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print an error in red and return the exit to raise."""
    console.print(f"[red]error:[/red] {message}")
    return typer.Exit(code)


@contextmanager
def friendly_errors() -> Iterator[None]:
    """Turn domain errors into a one-line message and exit code 1 (no traceback)."""
    try:
        yield
    except SanitasError as exc:
        raise fail(exc.message) from None
    except FileNotFoundError as exc:
        raise fail(f"file not found: {exc.filename}") from None


@contextmanager
def progress_bar(description: str) -> Iterator[Callable[[float, str, str], None]]:
    """A rich progress bar driven by ``update(percent, phase, message)``."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[msg]}"),
    )
    with Progress(
        *columns, console=console, disable=not sys.stderr.isatty() and False, transient=False
    ) as bar:
        task = bar.add_task(description, total=100.0, msg="")

        def update(percent: float, phase: str, message: str = "") -> None:
            bar.update(task, completed=percent, description=phase or description, msg=message[:60])

        yield update
        bar.update(task, completed=100.0)


def split_ref(ref: str) -> tuple[str, str]:
    """``project/name`` into its parts."""
    project, slash, name = ref.partition("/")
    if not slash or not project or not name:
        raise fail(f"expected PROJECT/NAME, got {ref!r}")
    return project, name
