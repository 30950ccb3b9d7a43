"""Acting from the browser (``accord web --sign``): a form, a confirmation page, a signature.

Every decision the CLI signs has an :class:`Action` here that calls the same ``Ledger``
method as its command. A form posts to ``.../preview``: the body is built by that very method
on the freshly pulled state (its signing is stopped before anything is signed) and shown in
words and as canonical JSON. Only the confirmation page's button posts to ``.../sign``,
which signs through the method again, refusing if the body built then is not the one shown.
The key stays in the server process.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.routing import Route

from commands.receipts import subject_line
from commands.web.app import (
    Form,
    Upload,
    error_page,
    ledger_error_page,
    page,
    read_form,
    signer_of,
)
from ledger import entry as entry_mod
from ledger import format as fmt
from ledger import rules
from ledger.errors import ConflictError, LedgerError, UsageError
from ledger.evidence import Evidence, check_evidence_name
from ledger.summaries import summary

if TYPE_CHECKING:
    from starlette.requests import Request

    from commands.web.access import Opened, Replica
    from ledger.application import Ledger, Receipt
    from ledger.keys import Signer

Values = dict[str, str]


@dataclass(frozen=True)
class Field:
    """One input of an action's form."""

    name: str
    label: str
    kind: str = "text"  # text, textarea, seq, date, select
    required: bool = True
    help: str = ""
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Action:
    """A decision the party can sign, and the Ledger method (the CLI's) that signs it."""

    name: str
    title: str
    command: str  # the CLI command that signs the same entry
    fields: tuple[Field, ...]
    call: Callable[[Ledger, str, Values, Signer], Receipt]


def _seq(values: Values, name: str) -> int:
    text = values.get(name, "").strip()
    if not text.isdigit() or int(text) < 1:
        raise UsageError(f"{name} {text!r} is not a seq", hint="give the entry's number, e.g. 7")
    return int(text)


def _opt(values: Values, name: str) -> str | None:
    text = values.get(name, "").strip()
    return text or None


def _seqs(values: Values, name: str) -> list[int]:
    words = values.get(name, "").replace(",", " ").split()
    return [_seq({name: w}, name) for w in words]


def _handles(values: Values, name: str) -> list[str] | None:
    words = values.get(name, "").replace(",", " ").split()
    return words or None


def _invite(values: Values, slug: str) -> str | None:
    """The invite of an invite line (or a bare invite) given for ``slug``, or None.

    Raises:
        UsageError: a malformed line, or a line for another project.
    """
    text = values.get("invite", "").strip()
    if not text:
        return None
    if not text.startswith("accord-join-v1"):
        return text
    from relay.invite_line import InviteLine

    line = InviteLine.parse(text)
    if line.project != slug:
        raise UsageError(
            f"this invite line is for project {line.project!r}, not {slug!r}",
            hint="open that project's page, or paste the line of this one",
        )
    return line.invite


class Staging:
    """Evidence files sent with a form, kept here until the entry naming them is signed.

    A temporary directory of this process (mode 0700, removed at exit); each form's files
    under a random token that the confirmation page carries.
    """

    def __init__(self) -> None:
        self._directory: tempfile.TemporaryDirectory[str] | None = None
        self.files: dict[str, list[tuple[Evidence, Path]]] = {}

    def stage(self, uploads: list[Upload]) -> str:
        """Keep ``uploads``; return their token.

        Raises:
            UsageError: a file name that cannot be recorded.
        """
        if self._directory is None:
            self._directory = tempfile.TemporaryDirectory(prefix="accord-web-")
        token = secrets.token_urlsafe(16)
        folder = Path(self._directory.name) / token
        folder.mkdir(mode=0o700)
        kept = []
        for number, upload in enumerate(uploads, start=1):
            name = check_evidence_name(re.split(r"[/\\]", upload.name)[-1])
            path = folder / str(number)
            path.write_bytes(upload.data)
            digest = hashlib.sha256(upload.data).hexdigest()
            kept.append((Evidence(name=name, sha256=digest, size=len(upload.data)), path))
        self.files[token] = kept
        return token

    def get(self, token: str) -> list[tuple[Evidence, Path]]:
        """The files kept under ``token`` (none for an empty token).

        Raises:
            UsageError: no files under that token (the server restarted, or they were used).
        """
        if not token:
            return []
        found = self.files.get(token)
        if found is None:
            raise UsageError(
                "the evidence files of this form are no longer here (already signed, or the "
                "server restarted)",
                hint="send the form again with the files",
            )
        return found

    def drop(self, token: str) -> None:
        """Forget the files of ``token`` once the entry naming them is signed."""
        for _, path in self.files.pop(token, []):
            path.unlink(missing_ok=True)


STAGING = Staging()


def staged_evidence(values: Values) -> list[Evidence]:
    """The evidence of the files staged under the form's token (as name, SHA-256, size)."""
    return [evidence for evidence, _ in STAGING.get(values.get("staged", ""))]


TARGET = Field("target", "Entry (seq)", "seq")
REASON = Field("reason", "Reason", "textarea")
PLEDGE = Field("pledge", "Pledge (seq)", "seq")

ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action(
            "approve", "Approve", "accord approve",
            (TARGET, Field("comment", "Comment", "textarea", required=False)),
            lambda led, slug, v, s: led.approve(
                slug, _seq(v, "target"), comment=v.get("comment", ""), signer=s
            ),
        ),
        Action(
            "reject", "Reject", "accord reject", (TARGET, REASON),
            lambda led, slug, v, s: led.reject(
                slug, _seq(v, "target"), reason=v.get("reason", ""), signer=s
            ),
        ),
        Action(
            "deliver", "Deliver", "accord deliver",
            (
                PLEDGE,
                Field("summary", "What was delivered", "textarea"),
                Field("quantity", "Quantity", required=False, help="default: all that remains"),
                Field(
                    "evidence", "Evidence files", "file", required=False,
                    help="each file's name, SHA-256 and size are signed with the deliverable",
                ),
                Field("staged", "", "hidden", required=False),
            ),
            lambda led, slug, v, s: led.deliver(
                slug, _seq(v, "pledge"), summary=v.get("summary", ""),
                quantity=_opt(v, "quantity"), evidence=staged_evidence(v), signer=s,
            ),
        ),
        Action(
            "pledge", "Pledge", "accord pledge add",
            (
                Field("title", "Title"),
                Field("weight", "Weight", help="a decimal number, e.g. 30"),
                Field("unit", "Unit", help="e.g. hours, EUR"),
                Field("due", "Due", "date"),
                Field(
                    "beneficiaries", "To", required=False,
                    help="handles, separated by spaces; default: every other member",
                ),
            ),
            lambda led, slug, v, s: led.add_pledge(
                slug, title=v.get("title", ""), weight=v.get("weight", ""),
                unit=v.get("unit", ""), due=v.get("due", ""),
                beneficiaries=_handles(v, "beneficiaries"), signer=s,
            ),
        ),
        Action(
            "amend", "Amend pledge", "accord pledge amend",
            (
                PLEDGE,
                Field("title", "New title", required=False),
                Field("weight", "New weight", required=False),
                Field("due", "New due date", "date", required=False),
                REASON,
            ),
            lambda led, slug, v, s: led.amend_pledge(
                slug, _seq(v, "pledge"), title=_opt(v, "title"), weight=_opt(v, "weight"),
                due=_opt(v, "due"), reason=v.get("reason", ""), signer=s,
            ),
        ),
        Action(
            "close-short", "Close pledge short", "accord pledge close-short", (PLEDGE, REASON),
            lambda led, slug, v, s: led.close_pledge_short(
                slug, _seq(v, "pledge"), reason=v.get("reason", ""), signer=s
            ),
        ),
        Action(
            "statement-propose", "Propose a statement", "accord statement propose --no-sign",
            (Field("title", "Title"), Field("text", "Text", "textarea")),
            lambda led, slug, v, s: led.propose_statement(
                slug, title=v.get("title", ""), text=v.get("text", ""), signer=s
            ),
        ),
        Action(
            "statement-sign", "Sign statement", "accord statement sign",
            (Field("statement", "Statement (seq)", "seq"),),
            lambda led, slug, v, s: led.sign_statement(slug, _seq(v, "statement"), signer=s),
        ),
        Action(
            "dispute", "Dispute a decision", "accord dispute", (TARGET, REASON),
            lambda led, slug, v, s: led.open_dispute(
                slug, _seq(v, "target"), reason=v.get("reason", ""), signer=s
            ),
        ),
        Action(
            "resolve", "Resolve a dispute", "accord resolve",
            (
                Field("dispute", "Dispute (seq)", "seq"),
                Field("outcome", "Outcome", "select", choices=tuple(fmt.OUTCOMES)),
                REASON,
            ),
            lambda led, slug, v, s: led.resolve_dispute(
                slug, _seq(v, "dispute"), outcome=v.get("outcome", ""),
                reason=v.get("reason", ""), signer=s,
            ),
        ),
        Action(
            "value", "Propose a value", "accord project value",
            (
                Field("unit", "Unit"),
                Field("worth", "Worth", help="how many reference units one unit is worth"),
                Field("in", "Reference unit"),
                REASON,
            ),
            lambda led, slug, v, s: led.propose_value(
                slug, unit=v.get("unit", ""), worth=v.get("worth", ""),
                reference=v.get("in", ""), reason=v.get("reason", ""), signer=s,
            ),
        ),
        Action(
            "join", "Join the project", "accord project join",
            (
                Field(
                    "invite", "Invite line", "textarea", required=False,
                    help="the line the proposer sent (accord-join-v1,...), for a seat with an "
                    "invite; leave empty for a seat pinned to your key",
                ),
            ),
            lambda led, slug, v, s: led.join_project(slug, signer=s, invite=_invite(v, slug)),
        ),
        Action(
            "decline", "Decline the invitation", "accord project decline",
            (Field("invite", "Invite line", "textarea", required=False), REASON),
            lambda led, slug, v, s: led.decline_project(
                slug, reason=v.get("reason", ""), signer=s, invite=_invite(v, slug)
            ),
        ),
        Action(
            "close", "Sign the close", "accord close",
            (
                Field(
                    "accept", "Accept open pledges", required=False,
                    help="seqs of pledges still open that you accept closing as they are",
                ),
            ),
            lambda led, slug, v, s: led.sign_close(
                slug, signer=s, accept_open=_seqs(v, "accept")
            ),
        ),
    )
}  # fmt: skip


def body_digest(body: dict[str, Any]) -> str:
    """The SHA-256 of the body's canonical JSON: the page shown and the signature agree."""
    return hashlib.sha256(entry_mod.canonical_bytes(body)).hexdigest()


def build_preview(
    ledger: Ledger, action: Action, slug: str, values: Values, signer: Signer
) -> tuple[dict[str, Any], rules.ProjectState]:
    """The entry ``action`` would sign now: built by the Ledger's own method, not signed.

    The method runs as for a write (its checks, then the write path: pull, verified state,
    the body builder, the checks of the unsigned entry), which stops before the key and the
    store (``Ledger.draft``).

    Raises:
        LedgerError: what the method or the write path refuses (as the CLI would).
    """
    draft = ledger.draft(lambda: action.call(ledger, slug, values, signer))
    return draft.entry, draft.state


def sign_reviewed(
    ledger: Ledger, action: Action, slug: str, values: Values, signer: Signer, digest: str
) -> Receipt:
    """Sign through the Ledger's method, only if the body is the one reviewed (``digest``).

    Raises:
        ConflictError: the body built now differs from the one shown (state moved on).
        LedgerError: what the method refuses, as for the CLI.
    """

    def expect(entry: dict[str, Any], _state: rules.ProjectState) -> None:
        if body_digest(entry["body"]) != digest:
            raise ConflictError(
                "what would be signed changed since you reviewed it (a partner wrote "
                "meanwhile); nothing was signed",
                hint="review the new confirmation page and sign it if you agree",
            )

    with ledger.reviewed(expect):
        return action.call(ledger, slug, values, signer)


def keep_evidence(
    opened: Opened, slug: str, seq: int, paths: list[Path], signer: Signer
) -> list[str]:
    """After a delivery: keep the deliverer's copies and upload them sealed (as the CLI does).

    Returns the warnings to show: the entry is recorded whatever happens to the files.
    """
    from commands.evidence import after_delivery

    try:
        after_delivery(opened.ledger, slug, seq, paths, signer=signer)
    except LedgerError as error:
        hint = f" ({error.hint})" if error.hint else ""
        return [f"the evidence files were not all uploaded: {error.message}{hint}"]
    return []


def _values(action: Action, form: Form) -> Values:
    return {item.name: form.get(item.name, "") for item in action.fields if item.kind != "file"}


def _action(request: Request) -> Action | None:
    return ACTIONS.get(str(request.path_params["action"]))


async def form_page(request: Request) -> Response:
    """An action's form, prefilled from the query (the page where it is decided links here)."""
    action = _action(request)
    if action is None:
        return error_page(request, "no such action", "pick one from the project's page", 404)
    if not request.app.state.config.sign:
        return error_page(
            request,
            "accord web was started read-only: it signs nothing",
            "restart it with --sign to act from the browser",
            403,
        )
    values = {f.name: request.query_params.get(f.name, "") for f in action.fields}
    slug = str(request.path_params["slug"])
    context = {"action": action, "values": values, "slug": slug, "tab": ""}
    return page(request, "action.html.j2", context)


async def preview(request: Request) -> Response:
    """The confirmation page: exactly what will be signed, in words and as canonical JSON."""
    form = await read_form(request)
    if isinstance(form, Response):
        return form
    action = _action(request)
    if action is None:
        return error_page(request, "no such action", "pick one from the project's page", 404)
    slug = str(request.path_params["slug"])
    values = _values(action, form)
    replica: Replica = request.app.state.replica
    signer = signer_of(request)

    def work(opened: Opened) -> dict[str, Any]:
        if form.files:
            values["staged"] = STAGING.stage(form.files)
        data, state = build_preview(opened.ledger, action, slug, values, signer)
        return {
            "data": data,
            "words": summary(data, state),
            "canonical": entry_mod.canonical_bytes(data).decode("utf-8"),
            "digest": body_digest(data["body"]),
        }

    try:
        built = await run_in_threadpool(replica.run, work, fresh=False)
    except LedgerError as error:
        return ledger_error_page(request, error)
    context = {"action": action, "values": values, "slug": slug, "tab": "", **built}
    return page(request, "confirm.html.j2", context)


async def sign(request: Request) -> Response:
    """Sign what the confirmation page showed, through the remote as the CLI does."""
    form = await read_form(request)
    if isinstance(form, Response):
        return form
    action = _action(request)
    if action is None:
        return error_page(request, "no such action", "pick one from the project's page", 404)
    slug = str(request.path_params["slug"])
    values = _values(action, form)
    digest = form.get("digest", "")
    if len(digest) != 64:
        return error_page(
            request, "this signature was not reviewed", "send the form and review it first", 400
        )
    replica: Replica = request.app.state.replica
    signer = signer_of(request)

    def work(opened: Opened) -> dict[str, Any]:
        receipt = sign_reviewed(opened.ledger, action, slug, values, signer, digest)
        notices = list(opened.ledger.notices)
        staged = [path for _, path in STAGING.files.get(values.get("staged", ""), [])]
        if receipt.type == "deliverable.submitted" and staged:
            notices.extend(keep_evidence(opened, slug, receipt.seq, staged, signer))
        STAGING.drop(values.get("staged", ""))
        written: list[str] = []
        if receipt.type == "close.signed" and receipt.status == "closed":
            from commands.reporting import write_close_report  # where `accord close` writes it

            try:
                written = [str(p) for p in write_close_report(opened.ledger, slug, None)]
            except LedgerError as error:
                notices.append(
                    f"the close report was not written: {error.message}; "
                    f"`accord report {slug}` writes it"
                )
        return {
            "receipt": receipt,
            "about": subject_line(receipt.type, receipt.subject) if receipt.subject else None,
            "notices": notices,
            "written": written,
        }

    try:
        done = await run_in_threadpool(replica.run, work, fresh=False)
    except LedgerError as error:
        return ledger_error_page(request, error)
    context = {"action": action, "slug": slug, "tab": "", **done}
    return page(request, "signed.html.j2", context)


async def sync(request: Request) -> Response:
    """Sync the project with the remote: pull, verify, cosign (as `accord sync`)."""
    form = await read_form(request)
    if isinstance(form, Response):
        return form
    from commands.web.syncing import sync_project

    slug = str(request.path_params["slug"])
    replica: Replica = request.app.state.replica
    signer = signer_of(request)
    try:
        await run_in_threadpool(replica.run, lambda o: sync_project(o, slug, signer), fresh=False)
    except LedgerError as error:
        return ledger_error_page(request, error)
    from starlette.responses import RedirectResponse

    return RedirectResponse(f"/p/{slug}/sync?synced=1", status_code=303)


def routes() -> list[Route]:
    """The acting routes (forms, confirmations, signatures, sync)."""
    return [
        Route("/p/{slug}/act/{action}", form_page, methods=["GET"]),
        Route("/p/{slug}/act/{action}/preview", preview, methods=["POST"]),
        Route("/p/{slug}/act/{action}/sign", sign, methods=["POST"]),
        Route("/p/{slug}/sync", sync, methods=["POST"]),
    ]


def as_json(data: dict[str, Any]) -> str:
    """Indented JSON of an entry for people (the canonical text is shown beside it)."""
    return json.dumps(data, indent=2, ensure_ascii=False)
