"""How comments read on a dataset's active branch: its changes over main, for readers of comments.

Streams and predictions both show comments as the active branch has them (excluded ones hidden,
rewritten messages in place, branch labels instead of main's). The branch chain is read with
:mod:`sanitas.datasets.branches`; this module sits above it so that datasets never import a reader.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from sanitas.datasets.branches import chain, get_branch, merged_changes
from sanitas.datasets.tables import Branch, BranchChange, Dataset


def branch_overlay(
    session: Session, dataset: Dataset, pks: list[int], branch: Branch | None = None
) -> dict[int, dict[str, Any]]:
    """Changes of the active (or given) branch for these comments: ``{pk: {excluded, messages, labels}}``.

    Nothing to do on main, the common case; otherwise the nearest branch of the chain wins.
    """
    branch = branch or get_branch(session=session, dataset=dataset)
    if branch.is_main or not pks:
        return {}
    return merged_changes(session=session, branch=branch, pks=pks)


def excluded_pks(*, session: Session, dataset: Dataset) -> Select[Any] | None:
    """The comments the active branch leaves out (a subquery), or None on main, where none are."""
    branch = get_branch(session=session, dataset=dataset)
    if branch.is_main:
        return None
    ids = [b.id for b in chain(session=session, branch=branch) if not b.is_main]
    # An exclusion anywhere in the chain holds: a nearer branch cannot bring a comment back.
    return select(BranchChange.comment_pk).where(BranchChange.branch_id.in_(ids), BranchChange.excluded)
