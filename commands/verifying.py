"""Verifying a bundle file on its own and computing its close report (``verify --pdf``).

Nothing this home remembered plays a part: the bundle is checked from entry 1 (canonical
text, chain, signatures, keys, rules), loaded into a ledger in memory, and its report is
computed exactly as ``accord report`` computes it on a replica.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledger import bundle, rules
from ledger.application import Ledger
from ledger.summaries import log_entry
from ledger.verify import verify_stream
from projections.replay import Replay
from projections.report import report_data

if TYPE_CHECKING:
    from pathlib import Path

    from ledger.verified import LogEntry
    from ledger.verify import VerifyReport


def verify_bundle_file(path: Path, workers: int | None) -> tuple[VerifyReport, str | None]:
    """Verify the bundle at ``path``; when sound, also return its close report as JSON text.

    Raises:
        VerificationError: the file is not an accord bundle.
    """
    log: list[LogEntry] = []
    with bundle.open_bundle(path) as handle:
        header = bundle.read_header(handle)
        state = rules.new_state(header.project)
        report = verify_stream(
            header.project,
            bundle.read_rows(handle),
            workers=workers,
            state=state,
            on_applied=lambda e: log.append(log_entry(e, state)),
        )
    bundle.check_header(report, header)
    if not report.sound:
        return report, None
    ledger = Ledger({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    try:
        with bundle.open_bundle(path) as handle:
            bundle.read_header(handle)
            ledger.import_entries(header.project, bundle.read_rows(handle), state=state, log=log)
        from commands.reporting import render_json

        return report, render_json(report_data(Replay.build(ledger, header.project)))
    finally:
        ledger.close()
