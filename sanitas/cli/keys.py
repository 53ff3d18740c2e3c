"""``sanitas keys``: create, list and revoke API keys."""

from __future__ import annotations

import typer

from sanitas.cli.common import console, friendly_errors, local_db

# The key service (and the database layer under it) is imported inside each command: every ``sanitas``
# command imports this module to build the command tree.

app = typer.Typer(help="Manage API keys (stored hashed; a new key is shown once).", no_args_is_help=True)


@app.command("create")
def create(
    role: str = typer.Option("read", help="read, write or admin."),
    project: list[str] = typer.Option(
        ["*"], "--project", "-p", help="Project the key may use (repeat; * = all)."
    ),
    name: str = typer.Option("", help="A note to recognise the key by."),
) -> None:
    """Create a key and print it once."""
    from sanitas.auth import service

    with local_db() as (_, db), friendly_errors(), db.write() as s:
        row, token = service.create_key(session=s, name=name, role=role, projects=project)
    console.print(
        f"key id {row.id} (prefix {row.prefix}), role {row.role}, projects {', '.join(row.projects)}"
    )
    typer.echo(token)


@app.command("list")
def list_() -> None:
    """List keys (never their secrets)."""
    from rich.table import Table

    from sanitas.auth import service
    from sanitas.timeutil import iso

    table = Table("id", "prefix", "name", "role", "projects", "created", "revoked")
    with local_db() as (_, db), db.read() as s:
        for k in service.list_keys(session=s):
            table.add_row(
                k.id,
                k.prefix,
                k.name,
                k.role,
                ", ".join(k.projects),
                iso(k.created_at) or "",
                iso(k.revoked_at) or "",
            )
    console.print(table)


@app.command("revoke")
def revoke(key: str = typer.Argument(..., help="Key id or prefix.")) -> None:
    """Revoke a key; requests with it get 401 from now on."""
    from sanitas.auth import service

    with local_db() as (_, db), friendly_errors(), db.write() as s:
        row = service.revoke_key(session=s, key_id_or_prefix=key)
    console.print(f"revoked {row.id}")
