"""``accord verify``, ``accord export`` and ``accord import``: audits that trust no one."""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from commands.errors import ExitCode
from commands.files import replace_atomically
from commands.options import AppContext, fresh_read, ledger_option
from commands.output import echo, render, safe_json
from ledger import bundle, known_heads, rules, storage
from ledger.errors import UsageError, VerificationError
from ledger.fold import (
    BATCH,
    Problem,
    Verdict,
    VerifyReport,
    check_batch,
    default_workers,
    verify_stream,
)
from ledger.normalise import normalise_slug
from ledger.rows import Row
from ledger.state_file import DamagedStateError, LogEntry, VerifiedStore
from ledger.summaries import log_entry

if TYPE_CHECKING:
    from commands.verifying import PdfCheck
    from ledger.application import Ledger

BUNDLE_SOURCE = "bundle"
MAX_WORKERS = 256  # --workers: processes for signature checks (more is a typo, not a machine)


@contextmanager
def _progress(total: int, label: str) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on stderr when it is a terminal; nothing otherwise."""
    if total < 5000 or not sys.stderr.isatty():
        yield None
        return
    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
        seen = 0

        def update(done: int) -> None:
            nonlocal seen
            bar.update(done - seen)
            seen = done

        yield update


def _check(
    store: VerifiedStore,
    slug: str,
    rows: Iterator[Row],
    total: int,
    workers: int | None,
    *,
    pool: ProcessPoolExecutor | None = None,
    log: list[LogEntry] | None = None,
    checked: Future[list[Verdict]] | None = None,
) -> tuple[VerifyReport, rules.ProjectState]:
    """Verify from entry 1 and compare with what this home verified before."""
    known = store.head(slug)
    legacy = known_heads.recall(store.source, slug)
    positions = [h.seq for h in (known, legacy) if h is not None and h.seq > 0]
    state = rules.new_state(slug)
    collect = log.append if log is not None else None
    with _progress(total, f"verifying {slug}") as progress:
        report = verify_stream(
            slug,
            rows,
            workers=workers,
            progress=progress,
            remember_positions=positions,
            state=state,
            pool=pool,
            checked=checked,
            on_applied=(lambda e: collect(log_entry(e, state))) if collect is not None else None,
        )
    if known is not None:
        known_heads.compare(
            report, known_heads.Remembered(known.seq, known.head, known.verified_at)
        )
    known_heads.compare(report, legacy)
    return report, state


AHEAD = 32  # small projects whose signatures are being checked while earlier ones are folded


Prefetched = tuple[str, int, list[Row], "Future[list[Verdict]] | None"]


def _prefetched(
    ledger: Ledger, slugs: list[str], pool: ProcessPoolExecutor | None
) -> Iterator[Prefetched]:
    """Each project with, for a small one, its rows and their checks already under way.

    A project of one batch is read whole and its per-row checks are handed to the pool
    ahead of time, so that the workers check small projects while this process folds the
    earlier ones; a larger project is streamed by :func:`verify_stream` itself (no rows
    given). Each comes with the position of its last stored row (0: none).
    """
    waiting: deque[Prefetched] = deque()
    for name in slugs:
        last = ledger.count_rows(name)
        if pool is None or last > BATCH or last == 0:
            waiting.append((name, last, [], None))
        else:
            rows = list(ledger.iter_rows(name))
            pairs = [(r.text, r.sig) for r in rows]
            waiting.append((name, last, rows, pool.submit(check_batch, pairs, {})))
        while len(waiting) > AHEAD:
            yield waiting.popleft()
    yield from waiting


def _open_store(source: str) -> VerifiedStore:
    store = VerifiedStore(source)
    try:
        store.heads()
    except DamagedStateError as exc:
        echo(f"Warning: {exc.message}; starting it again", err=True)
        store.reset_file()
    return store


def _show(reports: list[VerifyReport], output_format: str, pdf: PdfCheck | None = None) -> None:
    if output_format == "json":
        data = {"sound": all(r.sound for r in reports), "projects": [r.as_dict() for r in reports]}
        if pdf is not None:
            data["sound"] = data["sound"] and pdf.json_matches
            data["pdf"] = {"bundle": pdf.bundle_name, "json_matches": pdf.json_matches}
        click.echo(safe_json(data))
        return
    for report in reports:
        if report.sound:
            echo(
                f"{report.project}: sound, {report.entries} entries, {report.status}, "
                f"head {report.head}"
            )
            continue
        count = len(report.problems) + report.more_problems
        echo(f"{report.project}: FAILED, {count} problem{'s' if count != 1 else ''}")
        render(
            [p.as_dict() for p in report.problems],
            output_format="table",
            headers=["seq", "kind", "cause"],
        )
        if report.more_problems:
            click.echo(f"... and {report.more_problems} more")
    if pdf is not None and pdf.report.sound:
        if pdf.json_matches:
            echo(f"close-report.json: the report of the attached {pdf.bundle_name}")
        else:
            echo(f"close-report.json: FAILED, {pdf.problems[0]}")


@click.command(name="verify")
@click.argument("slug", required=False)
@click.option("--all", "all_projects", is_flag=True, help="Verify every project in the ledger.")
@click.option(
    "--bundle",
    "bundle_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Verify an exported bundle file instead (no database needed).",
)
@click.option(
    "--pdf",
    "pdf_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Verify the bundle attached to a close-report.pdf and that its JSON is its report.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1, max=MAX_WORKERS),
    help="Processes for signature checks [default: all cores].",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(("table", "json")),
    default="table",
    show_default=True,
    help="Output format.",
)
@ledger_option
@click.pass_obj
def verify_command(
    app: AppContext,
    slug: str | None,
    all_projects: bool,
    bundle_path: Path | None,
    pdf_path: Path | None,
    workers: int | None,
    output_format: str,
) -> None:
    """Replay and check a log: canonical text, chain, signatures, keys, rules, history.

    The full audit from entry 1. Exits 0 only when everything verified; 5 when anything did
    not, listing each problem with its seq. Compares the result with what this home verified
    before (see `accord state show`), so a truncation or rewrite of what was seen fails even
    if every signature in it is valid; a sound result becomes the verified state.

    \b
        accord verify spring-campaign
        accord verify --all --format json
        accord verify --bundle spring-campaign.accord
        accord verify --pdf accord-reports/spring-campaign/close-report.pdf
    """
    chosen = sum([slug is not None, all_projects, bundle_path is not None, pdf_path is not None])
    if chosen != 1:
        raise UsageError(
            "give one of SLUG, --all, --bundle FILE or --pdf FILE",
            hint="accord verify spring-campaign",
        )
    reports: list[VerifyReport] = []
    if pdf_path is not None:
        from commands.verifying import check_pdf  # pypdf and the renderers load when used

        check = check_pdf(pdf_path, workers)
        _show([check.report], output_format, pdf=check)
        if not check.report.sound or not check.json_matches:
            raise click.exceptions.Exit(ExitCode.VERIFICATION)
        return
    if bundle_path is not None:
        store = _open_store(BUNDLE_SOURCE)
        with bundle.open_bundle(bundle_path) as handle:
            header = bundle.read_header(handle)
            report, _state = _check(
                store, header.project, bundle.read_rows(handle), header.entries, workers
            )
        bundle.check_header(report, header)
        reports.append(report)
        absent = _evidence_beside(bundle_path, _state, report)  # issue 16
        if report.sound:
            store.save_head(report.project, report.entries, report.head)
        store.close()
    else:
        ledger = app.ledger()
        store = ledger.verified
        if all_projects:
            slugs, problems = ledger.scan_projects()
        else:
            slugs, problems = [normalise_slug(str(slug))], []
        count = workers or default_workers()
        pool = ProcessPoolExecutor(count) if count > 1 and slugs else None  # one for the run
        try:
            for name, size, rows, checked in _prefetched(ledger, slugs, pool):
                log: list[LogEntry] = []
                known = store.head(name)
                if known is not None and size == 0:
                    gone = VerifyReport(project=name)
                    gone.add(
                        Problem(
                            seq=1,
                            kind="history",
                            cause=f"the store holds no entries now, {known.seq} verified on "
                            f"{known.verified_at} (history deleted)",
                        )
                    )
                    reports.append(gone)
                    continue
                report, state = _check(
                    store,
                    name,
                    iter(rows) if checked is not None else ledger.iter_rows(name),
                    size,
                    count,
                    pool=pool,
                    log=log,
                    checked=checked,
                )
                reports.append(report)
                if report.sound:
                    ledger.record_verified(state, base_seq=0, log=log, everything=True)
                ledger.check_snapshot(name)  # a cache: one that does not check out is a warning
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)
        for problem in problems:
            missing = VerifyReport(project=problem.slug)
            missing.add(Problem(seq=problem.seq, kind="store", cause=problem.cause))
            reports.append(missing)
    _show(reports, output_format)
    if bundle_path is not None and absent:
        echo(f"Note: {len(absent)} evidence file(s) absent beside the bundle:", err=True)
        for line in absent:
            echo(f"  {line}", err=True)
    if not all(r.sound for r in reports):
        raise click.exceptions.Exit(ExitCode.VERIFICATION)


def _evidence_beside(path: Path, state: rules.ProjectState, report: VerifyReport) -> list[str]:
    """Check the evidence files beside a bundle (issue 16); return those absent."""
    from commands.evidence_files import check_beside_bundle

    if not report.sound:
        return []
    bad, absent = check_beside_bundle(path, state)
    for seq, cause in bad:
        report.add(Problem(seq=seq, kind="evidence", cause=cause))
    return absent


@click.command(name="export")
@click.argument("slug")
@click.option(
    "-o",
    "--output",
    "output",
    required=True,
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="The bundle file to write ('-' for standard output).",
)
@click.option(  # issue 16 (evidence)
    "--with-evidence",
    is_flag=True,
    help="-o is a directory: write SLUG.accord and evidence/SEQ/ with the files you can read.",
)
@click.option(
    "--as",
    "as_",
    metavar="HANDLE",
    envvar="ACCORD_PARTY",
    help="With --with-evidence: fetch from the relay, as HANDLE, what is not kept locally.",
)
@ledger_option
@fresh_read
@click.pass_obj
def export_command(
    app: AppContext, slug: str, output: Path, with_evidence: bool, as_: str | None
) -> None:
    """Export the log of SLUG as a self-contained bundle (JSON Lines, accord/bundle/v1).

    The bundle holds every entry exactly as signed; anyone can verify it offline with
    `accord verify --bundle` and load it into their own ledger with `accord import`.
    With --with-evidence, -o names a directory that gets the bundle and the decrypted
    evidence files this party can read; `accord verify --bundle` checks them.

    \b
        accord export spring-campaign -o spring-campaign.accord
        accord export spring-campaign --with-evidence -o audit/ --as acme
    """
    ledger = app.ledger()
    if with_evidence:  # issue 16: -o is a directory, the bundle and evidence/ go in it
        from commands.evidence import export_evidence, prepare_export

        directory, signer = prepare_export(output, as_)
        _export_bundle(ledger, slug, directory / f"{slug}.accord")
        written, absent = export_evidence(ledger, slug, directory, signer=signer)
        click.echo(f"exported {written} evidence file(s) of {slug} to {directory / 'evidence'}")
        for line in absent:
            echo(f"Note: not exported (not kept here, not readable): {line}", err=True)
        return
    _export_bundle(ledger, slug, output)


def _export_bundle(ledger: Ledger, slug: str, output: Path) -> None:
    state = ledger.verified_state(normalise_slug(slug))
    header = bundle.BundleHeader(project=slug, entries=state.seq, head=state.head)
    rows = (
        Row(position=None, text=e.entry.text, sig=e.entry.sig, hash=e.entry.hash)
        for e in ledger.verified_entries(slug, upto=state.seq)
    )
    if str(output) == "-":
        bundle.write(sys.stdout, header, rows)
        return
    if output.exists() and not output.is_file():
        raise UsageError(
            f"cannot write the bundle to {output}: it is not a regular file",
            hint="give the path of a new or regular file, or - for standard output",
        )
    try:
        with replace_atomically(output) as handle:
            count = bundle.write(handle, header, rows)
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror}") from None
    click.echo(f"exported {count} entries of {slug} to {output} (head {header.head})")


@click.command(name="import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--workers",
    type=click.IntRange(min=1, max=MAX_WORKERS),
    help="Processes for signature checks [default: all cores].",
)
@ledger_option
@click.pass_obj
def import_command(app: AppContext, path: Path, workers: int | None) -> None:
    """Verify the bundle at PATH, then load it into this ledger.

    Nothing is loaded unless the whole bundle verifies. An existing copy of the project
    is extended when the bundle continues it; a different history is refused.

    \b
        accord import spring-campaign.accord --ledger ./audit.db
    """
    store = _open_store(BUNDLE_SOURCE)
    log: list[LogEntry] = []
    with bundle.open_bundle(path) as handle:
        header = bundle.read_header(handle)
        report, state = _check(
            store, header.project, bundle.read_rows(handle), header.entries, workers, log=log
        )
    bundle.check_header(report, header)
    if not report.sound:
        _show([report], "table")
        raise VerificationError(
            f"the bundle of {header.project!r} does not verify; nothing was imported",
            hint=f"`accord verify --bundle {path}` lists the problems",
        )
    store.save_head(report.project, report.entries, report.head)
    store.close()
    created = _new_sqlite_file(app.url or storage.default_url())
    try:
        ledger = app.ledger(create=True)
        with bundle.open_bundle(path) as handle:
            bundle.read_header(handle)
            rows = bundle.read_rows(handle)
            added = ledger.import_entries(header.project, rows, state=state, log=log)
    except BaseException:
        if created is not None:
            app.close()
            _remove_created(created)
        raise
    echo(
        f"imported {added} new entries of {header.project} ({state.seq} in all, {state.status}, "
        f"head {state.head})"
    )


def _new_sqlite_file(url: str) -> Path | None:
    """The SQLite file ``url`` names if it does not exist yet (an import would create it)."""
    if storage.is_postgres(url):
        return None
    path = Path(storage.settings(url)["SQLITE_DBNAME"])
    return None if path.exists() else path


def _remove_created(path: Path) -> None:
    """Remove a ledger file (and its SQLite side files) that a failed import created."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
