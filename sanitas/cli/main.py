"""The ``sanitas`` command."""

from __future__ import annotations

import logging
import os
import signal

import typer

from sanitas import __version__
from sanitas.cli import datasets, keys
from sanitas.cli.common import console, fail, is_loopback, local_db, open_db, tune_gc

app = typer.Typer(
    name="sanitas",
    help="Heal labelled text datasets, anonymize PII and stream comments with pinned model predictions.\n\n"
    "Data lives under SANITAS_HOME (default ./.sanitas) in SQLite, or in PostgreSQL when "
    "SANITAS_DATABASE_URL=postgresql+psycopg://… is set.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(keys.app, name="keys")
app.add_typer(datasets.app, name="datasets")


# Commands registered by their own modules, and the module of each.
OPTIONAL: dict[str, tuple[str, ...]] = {
    "sanitas.cli.heal": ("heal",),
    "sanitas.cli.anonymize": ("anonymize", "deanonymize"),
}


def _register_optional(argv: list[str] | None = None) -> None:
    """Commands whose domains live in their own modules (heal, anonymize, …).

    When the command line names one of them (``sanitas anonymize …``) only its module is registered:
    building ``heal`` reads the registered checks, which imports the heal pipeline (~0.2 s per process)
    that ``anonymize`` never uses. Any other command line (help, tests invoking ``app``) gets all.
    """
    import importlib
    import sys

    args = sys.argv[1:2] if argv is None else argv[:1]
    named = [m for m, commands in OPTIONAL.items() if args and args[0] in commands]
    for module in named or list(OPTIONAL):
        try:
            importlib.import_module(module).register(app)
        except ModuleNotFoundError as exc:
            if not exc.name or not module.startswith(exc.name):
                raise


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema (serve and worker do this themselves)."""
    with local_db() as (settings, _):
        console.print(f"schema up to date at {settings.database_url.split('@')[-1]}")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(
        1, min=0, help="In-process job workers (0: only separate `sanitas worker`s)."
    ),
    no_auth: bool = typer.Option(
        False, "--no-auth", help="Serve without API keys (loopback addresses only)."
    ),
) -> None:
    """Run the HTTP API with in-process job workers.

    On a fresh install an admin key is created and printed once: keep it.
    """
    import uvicorn

    from sanitas.api.app import create_app
    from sanitas.auth.service import count_keys, create_key

    if no_auth and not is_loopback(host):
        raise fail(f"--no-auth is refused on non-loopback address {host!r}")
    settings, db = open_db()
    if not no_auth:
        with db.write() as s:
            if count_keys(session=s) == 0:
                row, token = create_key(session=s, name="first admin", role="admin", projects=["*"])
                console.print(
                    f"[bold green]Created admin API key (shown once):[/bold green] {token}", soft_wrap=True
                )
    # soft_wrap: a terminal-wide line break must not split the URL (nor the key above) when copied.
    console.print(f"Console: {console_url(host, port, settings.public_url)}", soft_wrap=True)
    app_ = create_app(settings, db=db, auth=not no_auth, workers=workers)
    tune_gc()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    received: list[int] = []
    # uvicorn shuts down gracefully on SIGTERM/SIGINT, then raises the signal again with the handler
    # it found: with the default one the process would die before the running jobs are released.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: received.append(signum))
    uvicorn.run(app_, host=host, port=port, log_level="info")
    released = list(getattr(app_.state, "released", []))
    _release_jobs(getattr(app_.state, "workers", []), released)


def console_url(host: str, port: int, public: str | None = None) -> str:
    """Where a browser opens the web console: the public URL when one is set, else the listening address
    (a wildcard address is reached through the loopback one)."""
    if public:
        return public.rstrip("/") + "/"
    shown = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def _release_jobs(workers: list[object], released: list[str] | None = None) -> None:
    """Stop in-process workers; a job still running is given back to the queue, never left leased.

    ``released``: jobs the app's own shutdown already gave back (it does so when uvicorn stops it).
    """
    from sanitas.jobs.worker import Worker, shutdown_workers

    running = (released or []) + shutdown_workers([w for w in workers if isinstance(w, Worker)])
    if running:
        console.print(f"released {len(running)} running job(s) for other workers: {', '.join(running)}")


@app.command()
def worker(
    concurrency: int = typer.Option(1, min=1, help="Jobs run at once by this process."),
) -> None:
    """Run background jobs (heal, anonymization, training, exports) from the shared database."""
    import threading

    from sanitas.jobs.worker import Worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings, db = open_db()
    pool = [Worker(db=db, settings=settings) for _ in range(concurrency)]
    tune_gc()

    stopping = threading.Event()

    def stop(*_: object) -> None:
        # Only flag it here: the release below talks to the database, which a signal handler must not.
        stopping.set()
        for w in pool:
            w.interrupt()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    console.print(f"worker pid {os.getpid()} running {concurrency} job slot(s); Ctrl-C to stop")
    threads = [threading.Thread(target=w.run_forever, daemon=True) for w in pool]
    for t in threads:
        t.start()
    while not stopping.is_set() and any(t.is_alive() for t in threads):
        stopping.wait(0.5)
    _release_jobs(list(pool))


_register_optional()

if __name__ == "__main__":
    app()
