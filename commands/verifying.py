"""Verifying a bundle file on its own, computing its close report, and ``verify --pdf``.

Nothing this home remembered plays a part: the bundle is checked from entry 1 (canonical
text, chain, signatures, keys, rules), loaded into a ledger in memory, and its report is
computed exactly as ``accord report`` computes it on a replica.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from commands.pdf import BUNDLE_SUFFIX, JSON_ATTACHMENT, attachments
from commands.reporting import render_json
from ledger import bundle, rules
from ledger.application import Ledger
from ledger.errors import VerificationError
from ledger.fold import verify_stream
from ledger.summaries import log_entry
from projections.replay import Replay
from projections.report import report_data

if TYPE_CHECKING:
    from ledger.fold import VerifyReport
    from ledger.state_file import LogEntry


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
        return report, render_json(report_data(Replay.build(ledger, header.project)))
    finally:
        ledger.close()


@dataclass
class PdfCheck:
    """What ``accord verify --pdf`` found: the bundle's verification and the JSON's match."""

    report: VerifyReport
    json_matches: bool
    bundle_name: str
    problems: list[str] = field(default_factory=list)


def check_pdf(path: Path, workers: int | None) -> PdfCheck:
    """Extract the bundle and JSON report attached to the PDF at ``path`` and check both.

    The bundle is verified in full (as ``accord verify --bundle``, against nothing this
    home remembered); when it is sound, the report is computed from it and compared with
    the attached JSON, byte for byte.

    Raises:
        VerificationError: the PDF cannot be read or lacks either attachment.
    """
    files = attachments(path)
    names = [n for n in files if n.endswith(BUNDLE_SUFFIX)]
    if len(names) != 1 or JSON_ATTACHMENT not in files:
        raise VerificationError(
            f"{path} does not carry a close report's attachments "
            f"({JSON_ATTACHMENT} and one SLUG{BUNDLE_SUFFIX})",
            hint="only a close-report.pdf written by accord verifies itself",
        )
    [name] = names
    with tempfile.TemporaryDirectory(prefix="accord-pdf-") as directory:
        copy = Path(directory) / "bundle.accord"
        copy.write_bytes(files[name])
        report, computed = verify_bundle_file(copy, workers)
    check = PdfCheck(report=report, json_matches=False, bundle_name=name)
    if not report.sound:
        check.problems.append(f"the attached {name} does not verify")
        return check
    check.json_matches = computed is not None and computed.encode("utf-8") == files[JSON_ATTACHMENT]
    if not check.json_matches:
        check.problems.append(
            f"the attached {JSON_ATTACHMENT} is not the report of the attached {name}"
        )
    return check
