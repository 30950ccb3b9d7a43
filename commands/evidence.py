"""``accord evidence ...``: a deliverable's files, sealed on the relay and checked locally.

A deliverable signs each evidence file's name, size and SHA-256. With a remote, ``accord
deliver`` also uploads each file sealed (age) to the project's members
(``ledger/sealing.py``, docs/adr/0013-evidence-encryption.md), and keeps the deliverer's copy
in ``accord-evidence/SLUG/SEQ/`` beside the ledger (:func:`evidence_dir`). Members fetch and
check the files (``get``), check a file received by other means offline (``check``), see
where each file is (``list``) and seal them anew for the current members (``share``).
Nothing fetched is trusted: a file is kept only when its size and SHA-256 are the signed ones.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from commands.evidence_files import (
    BESIDE,
    DEFAULT_EVIDENCE_DIR,
    describe,
    evidence_dir,
    keep_copies,
    local_copy,
    make_directory,
    signed_files,
    staged_files,
    temporary_file,
)
from commands.options import fresh_read, pass_ledger, signer_option
from commands.output import echo, output_options, render
from ledger import keys as key_store
from ledger.errors import NotFoundError, UsageError, VerificationError
from ledger.sealing import (
    HashingWriter,
    SignedFile,
    check_plaintext,
    ciphertext_bounds,
    evidence_of,
    recipients,
    seal,
    unseal,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ledger.application import Ledger
    from ledger.keys import Signer
    from relay.evidence_client import EvidenceClient

HEADERS = ("index", "name", "size", "sha256", "where")


# --- the relay --------------------------------------------------------------------------


def evidence_client(ledger: Ledger, signer: Signer) -> EvidenceClient:
    """The evidence client of the ledger's remote.

    Raises:
        UsageError: the ledger has no remote (or --offline).
    """
    from relay.evidence_client import EvidenceClient
    from relay.session import RelayUpstream

    upstream = ledger.upstream
    if not isinstance(upstream, RelayUpstream):
        raise UsageError(
            "this ledger has no remote: evidence travels through a relay",
            hint="add one with `accord remote add NAME URL` (and drop --offline)",
        )
    return EvidenceClient(upstream.remote.url, signer)


def has_remote(ledger: Ledger) -> bool:
    """Whether the ledger writes through a relay."""
    from relay.session import RelayUpstream

    return isinstance(ledger.upstream, RelayUpstream)


def upload(
    ledger: Ledger,
    slug: str,
    seq: int,
    files: Sequence[tuple[Path, SignedFile]],
    *,
    signer: Signer,
) -> int:
    """Seal each file to the project's current members and upload it; return the key count.

    Raises:
        LedgerError: the relay refused a file or cannot be reached.
    """
    lines = recipients(ledger.verified_state(slug))
    with evidence_client(ledger, signer) as client, tempfile.TemporaryDirectory() as scratch:
        for source, signed in files:
            sealed = Path(scratch) / f"{signed.index}.age"
            with source.open("rb") as plain, sealed.open("wb") as out:
                seal(plain, out, lines)
            client.put(slug, seq, signed.index, sealed)
            sealed.unlink()
    return len(lines)


def after_delivery(
    ledger: Ledger, slug: str, seq: int, paths: Sequence[Path], *, signer: Signer
) -> None:
    """Keep the deliverer's copies and, with a remote, upload them sealed (``accord deliver``).

    Raises:
        LedgerError: a copy or an upload failed (the entry is recorded all the same).
    """
    if not paths:
        return
    files = list(zip(paths, evidence_of(ledger.verified_state(slug), seq), strict=True))
    # silently: without a remote, deliver says what it said before
    kept = keep_copies(ledger, slug, seq, files)
    if has_remote(ledger):
        checked = [(kept / signed.disk_name, signed) for _, signed in files]  # not re-read
        try:
            keys = upload(ledger, slug, seq, checked, signer=signer)
        except Exception as exc:
            if hasattr(exc, "hint"):
                exc.hint = (  # the entry is recorded: say how to finish
                    f"{exc.hint}; the deliverable is recorded: upload its evidence later with "
                    f"`accord evidence share {slug} {seq}`"
                    if exc.hint
                    else f"upload its evidence later with `accord evidence share {slug} {seq}`"
                )
            raise
        echo(
            f"Uploaded {len(files)} evidence file(s) to the relay, sealed for {keys} key(s)",
            err=True,
        )


def _fetch(
    client: EvidenceClient,
    slug: str,
    seq: int,
    signed: SignedFile,
    directory: Path,
    scratch: Path,
    signer: Signer,
) -> Path:
    """Fetch, decrypt and check one file into a temporary file in ``directory``."""
    sealed = scratch / f"{signed.index}.age"
    with sealed.open("wb") as out:
        client.get(slug, seq, signed.index, out, limit=ciphertext_bounds(signed.size)[1])
    temporary = temporary_file(directory, signed.disk_name)
    try:
        with sealed.open("rb") as reading, temporary.open("wb") as writing:
            sink = HashingWriter(writing)
            unseal(reading, sink, signer)
        check_plaintext(sink.digest.hexdigest(), sink.size, signed)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    finally:
        sealed.unlink(missing_ok=True)
    return temporary


def fetch_all(
    ledger: Ledger, slug: str, seq: int, directory: Path, *, signer: Signer
) -> list[Path]:
    """Fetch, decrypt and check every evidence file of ``seq`` into ``directory``.

    All or nothing: each file is checked before any is renamed into place.

    Raises:
        NotFoundError: no such deliverable, no evidence, or none stored for this key.
        VerificationError: a file is not the signed one (nothing is written).
    """
    files = evidence_of(ledger.verified_state(slug), seq)
    if not files:
        raise NotFoundError(f"deliverable {seq} of {slug!r} has no evidence files")
    target = make_directory(directory)
    written = []
    with (
        evidence_client(ledger, signer) as client,
        tempfile.TemporaryDirectory() as scratch,
        staged_files(target) as staged,
    ):
        for signed in files:
            temporary = _fetch(client, slug, seq, signed, target, Path(scratch), signer)
            staged.append((temporary, target / signed.disk_name))
            written.append(target / signed.disk_name)
    return written


# --- audits: evidence beside a bundle -----------------------------------------------------


def export_evidence(
    ledger: Ledger, slug: str, directory: Path, *, signer: Signer | None
) -> tuple[int, list[str]]:
    """Write every evidence file of ``slug`` the party can read into ``directory/evidence``.

    A checked local copy is copied; otherwise, with a remote and ``signer``, the relay's is
    fetched, decrypted and checked. Returns the count written and what is absent.

    Raises:
        VerificationError: a fetched file is not the signed one.
    """
    state = ledger.verified_state(slug)
    written, absent = 0, []
    client = evidence_client(ledger, signer) if signer and has_remote(ledger) else None
    try:
        for seq in sorted(state.decisions):
            files = signed_files(state, seq)
            if not files:
                continue
            target = make_directory(directory / BESIDE / str(seq))
            with tempfile.TemporaryDirectory() as scratch, staged_files(target) as staged:
                for signed in files:
                    copy = local_copy(ledger, slug, seq, signed)
                    if copy is not None:
                        temporary = temporary_file(target, signed.disk_name)
                        shutil.copyfile(copy, temporary)
                    elif client is not None:
                        try:
                            temporary = _fetch(
                                client, slug, seq, signed, target, Path(scratch), client.signer
                            )
                        except NotFoundError:
                            absent.append(describe(seq, signed))
                            continue
                    else:
                        absent.append(describe(seq, signed))
                        continue
                    staged.append((temporary, target / signed.disk_name))
                    written += 1
    finally:
        if client is not None:
            client.close()
    return written, absent


def prepare_export(output: Path, as_: str | None) -> tuple[Path, Signer | None]:
    """The export directory (created) and, with ``--as``, the key that fetches evidence.

    Raises:
        UsageError: ``-o -`` or a path that is not a directory.
    """
    if str(output) == "-":
        raise UsageError(
            "--with-evidence writes several files: -o names a directory, not -",
            hint="accord export SLUG --with-evidence -o audit/",
        )
    signer = _load_signer(as_) if as_ else None
    return make_directory(output), signer


# --- the commands -------------------------------------------------------------------------


@click.group(name="evidence")
def evidence() -> None:
    """List, fetch, check and share the evidence files of deliverables.

    \b
        accord evidence get spring-campaign 7 --as burgerco
    """


@evidence.command(name="list")
@click.argument("slug")
@click.argument("seq", type=click.IntRange(min=1), required=False)
@click.option("--as", "as_", metavar="HANDLE", envvar="ACCORD_PARTY", help="Ask the relay as.")
@output_options
@fresh_read
@pass_ledger
def evidence_list(
    ledger: Ledger, slug: str, seq: int | None, as_: str | None, output_format: str
) -> None:
    """List the evidence files of SLUG (or of deliverable SEQ) and where each is.

    Where: local (a checked copy in accord-evidence/SLUG/SEQ), relay (sealed on the relay,
    when the party can ask it: --as), or missing.

    \b
        accord evidence list spring-campaign 7 --as burgerco --format json
    """
    state = ledger.verified_state(slug)
    seqs = [seq] if seq is not None else sorted(state.decisions)
    stored: dict[int, dict[int, int]] = {}
    client = _optional_client(ledger, as_)
    rows: list[dict[str, Any]] = []
    try:
        for number in seqs:
            files = evidence_of(state, number) if seq is not None else signed_files(state, number)
            if files and client is not None and number not in stored:
                try:
                    stored[number] = client.listing(slug, number)
                except NotFoundError:
                    stored[number] = {}
            for signed in files:
                where = (
                    "local"
                    if local_copy(ledger, slug, number, signed)
                    else "relay"
                    if signed.index in stored.get(number, {})
                    else "missing"
                )
                rows.append({"seq": number, **signed.as_dict(), "where": where})
    finally:
        if client is not None:
            client.close()
    render(
        rows,
        output_format=output_format,
        headers=("seq", *HEADERS),
        empty="(no evidence files)",
    )


def _optional_client(ledger: Ledger, as_: str | None) -> EvidenceClient | None:
    """A client for `list` when the ledger has a remote and a usable key (else None)."""
    if not has_remote(ledger) or not as_:
        return None
    return evidence_client(ledger, _load_signer(as_))


def _load_signer(as_: str) -> Signer:
    """The key of party ``as_`` (named like it), its passphrase prompted or from the env."""
    from commands.options import read_passphrase
    from ledger.normalise import normalise_handle

    handle = normalise_handle(as_, "party")
    key_store.info(handle)
    passphrase = read_passphrase(f"Passphrase for key {handle!r}")
    return key_store.load_signer(handle, handle, passphrase)


@evidence.command(name="get")
@click.argument("slug")
@click.argument("seq", type=click.IntRange(min=1))
@click.option(
    "-o",
    "--output",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    help=f"Directory to write into [default: {DEFAULT_EVIDENCE_DIR}/SLUG/SEQ beside the ledger].",
)
@signer_option
@fresh_read
@pass_ledger
def evidence_get(
    ledger: Ledger, slug: str, seq: int, directory: Path | None, signer: Signer
) -> None:
    """Fetch, decrypt and check the evidence files of deliverable SEQ.

    Each file must have the size and SHA-256 the deliverable signed; otherwise nothing is
    written (exit 5). Files are named INDEX-NAME, made safe (docs/evidence.md).

    \b
        accord evidence get spring-campaign 7 --as burgerco
    """
    target = directory if directory is not None else evidence_dir(ledger, slug) / str(seq)
    for path in fetch_all(ledger, slug, seq, target, signer=signer):
        echo(f"Checked and wrote {path}")


@evidence.command(name="check")
@click.argument("slug")
@click.argument("seq", type=click.IntRange(min=1))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path))
@fresh_read
@pass_ledger
def evidence_check(ledger: Ledger, slug: str, seq: int, file: Path) -> None:
    """Tell whether FILE is one of the evidence files deliverable SEQ signed.

    The file never leaves this machine (with a remote, the project is pulled first, as
    for every read; --offline answers from this replica). Exit 0 when it is, 5 when it is
    not (with the signed names, sizes and hashes).

    \b
        accord evidence check spring-campaign 7 posters.pdf
    """
    from ledger.evidence import Evidence

    files = evidence_of(ledger.verified_state(slug), seq)
    found = Evidence.of_file(file)
    for signed in files:
        if (signed.sha256, signed.size) == (found.sha256, found.size):
            echo(
                f"{file} is evidence file {signed.index} of deliverable {seq}: "
                f"{signed.name} ({signed.size} bytes, SHA-256 {signed.sha256})"
            )
            return
    listed = "; ".join(f"{s.index}: {s.name} ({s.size} bytes, SHA-256 {s.sha256})" for s in files)
    raise VerificationError(
        f"{file} ({found.size} bytes, SHA-256 {found.sha256}) is not an evidence file of "
        f"deliverable {seq}; signed: {listed or 'none'}",
        hint="ask the deliverer for the signed file, or fetch it: "
        f"`accord evidence get {slug} {seq}`",
    )


@evidence.command(name="share")
@click.argument("slug")
@click.argument("seq", type=click.IntRange(min=1))
@signer_option
@fresh_read
@pass_ledger
def evidence_share(ledger: Ledger, slug: str, seq: int, signer: Signer) -> None:
    """Seal the evidence of deliverable SEQ anew for the project's current members.

    For members who joined, or signers added, after the delivery. Any member who holds a
    checked local copy, or can decrypt the relay's, can share.

    \b
        accord evidence share spring-campaign 7 --as acme
    """
    files = evidence_of(ledger.verified_state(slug), seq)
    if not files:
        raise NotFoundError(f"deliverable {seq} of {slug!r} has no evidence files")
    sources: list[tuple[Path, SignedFile]] = []
    with tempfile.TemporaryDirectory() as scratch:
        missing = [s for s in files if local_copy(ledger, slug, seq, s) is None]
        if missing:
            with evidence_client(ledger, signer) as client:
                for signed in missing:
                    fetched = _fetch(
                        client, slug, seq, signed, Path(scratch), Path(scratch), signer
                    )
                    sources.append((fetched, signed))
        for signed in files:
            if signed not in missing:
                copy = local_copy(ledger, slug, seq, signed)
                assert copy is not None  # noqa: S101 - checked above
                sources.append((copy, signed))
        sources.sort(key=lambda pair: pair[1].index)
        keys = upload(ledger, slug, seq, sources, signer=signer)
    echo(f"Shared {len(files)} evidence file(s) of deliverable {seq}, sealed for {keys} key(s)")
