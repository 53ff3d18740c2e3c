"""A stream consumer process for the nothing-lost test: logs each processed uid and each advance.

Log lines: ``P <uid>`` when a comment was processed, ``A <sequence_id>`` after an
acknowledged advance. Usage: ``consumer.py BASE_URL TOKEN LOG [--until-end]``.
"""

from __future__ import annotations

import os
import sys

from sanitas.sdk import Client


def main() -> None:
    """Consume ``acme/support`` stream ``robot`` until killed (or until the end with ``--until-end``)."""
    base, token, path = sys.argv[1:4]
    until_end = "--until-end" in sys.argv
    log = open(path, "a", buffering=1)  # noqa: SIM115 - line-buffered: each line reaches the OS at once
    client = Client(base, token, retries=8, backoff=0.05)

    def on_advance(seq: str) -> None:
        log.write(f"A {seq}\n")

    results = client.iter_stream(
        "acme", "support", "robot", size=128, wait_seconds=0.5, stop_at_end=until_end, on_advance=on_advance
    )
    for result in results:
        log.write(f"P {result.uid}\n")
    log.write("END\n")
    log.close()
    os._exit(0)


if __name__ == "__main__":
    main()
