"""``accord web``'s shared parts: the security checks, the templates, the error pages.

Every request is checked here, in one place (docs/web.md, ADR 0014): the Host header (DNS
rebinding), the session cookie the printed token is exchanged for, the method (read-only
unless started with ``--sign``), the CSRF token of every POST; every response carries a
strict Content-Security-Policy and no CORS header.
"""

from __future__ import annotations

import email.parser
import email.policy
import functools
import hmac
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

import jinja2
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.responses import HTMLResponse, RedirectResponse, Response

from commands.errors import ExitCode, exit_code_for
from ledger.errors import LedgerError

if TYPE_CHECKING:
    from starlette.requests import Request

    from commands.web.access import WebConfig
    from ledger.keys import Signer

COOKIE = "accord_web"
SAFE_METHODS = ("GET", "HEAD")
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# The report's self-contained HTML carries its own <style>: only that page allows it.
REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
STATUS = {
    ExitCode.USAGE: 400,
    ExitCode.NOT_FOUND: 404,
    ExitCode.RULE_VIOLATION: 409,
    ExitCode.VERIFICATION: 502,
    ExitCode.STORAGE_UNAVAILABLE: 503,
    ExitCode.KEY_FILE: 500,
    ExitCode.UNEXPECTED: 500,
}


@functools.cache
def environment() -> jinja2.Environment:
    """The templates: the web app's, then the report's (for its SVG charts); autoescaped."""
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [
                jinja2.PackageLoader("commands.web", "templates"),
                jinja2.PackageLoader("commands", "templates"),
            ]
        ),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["canonical"] = lambda data: json.dumps(data, indent=2, ensure_ascii=False)
    env.globals["urlencode"] = urlencode
    return env


def page(
    request: Request, template: str, context: dict[str, Any], *, status: int = 200
) -> HTMLResponse:
    """Render ``template`` with what every page shows (party, mode, CSRF token)."""
    config: WebConfig = request.app.state.config
    html = (
        environment()
        .get_template(template)
        .render(
            party=config.party,
            signing=config.sign,
            csrf=config.csrf,
            path=request.url.path,
            **context,
        )
    )
    return HTMLResponse(html, status_code=status)


def error_page(
    request: Request, message: str, hint: str | None, status: int, *, code: int | None = None
) -> HTMLResponse:
    """An error as a page: the message, the hint, and the HTTP status that fits."""
    context = {"message": message, "hint": hint, "status": status, "code": code}
    return page(request, "error.html.j2", context, status=status)


def ledger_error_page(request: Request, error: LedgerError) -> HTMLResponse:
    """A ledger error as the CLI reports it (message, hint), with a fitting status."""
    code = exit_code_for(error)
    where = f" (seq {error.seq})" if error.seq is not None and "seq" not in error.message else ""
    return error_page(request, error.message + where, error.hint, STATUS[code], code=int(code))


def _plain(status: int, message: str, hint: str) -> HTMLResponse:
    """A refusal before the session is known: no template, no link, nothing of the ledger."""
    env = environment()
    html = env.get_template("refused.html.j2").render(status=status, message=message, hint=hint)
    return HTMLResponse(html, status_code=status)


class Guard(BaseHTTPMiddleware):
    """Host check, token and cookie, method, and the security headers of every response."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        """Check the request, then add the headers to whatever answers it."""
        response = self._check(request)
        if response is None:
            response = await call_next(request)
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @staticmethod
    def _check(request: Request) -> Response | None:
        config: WebConfig = request.app.state.config
        host = request.headers.get("host", "")
        if config.hosts is not None and host.lower() not in config.hosts:
            return _plain(
                400,
                f"this server does not answer to the host {host!r}",
                "open the address accord web printed (127.0.0.1 or localhost)",
            )
        if request.url.path.startswith("/static/"):
            return None if request.method in SAFE_METHODS else _refuse_method(config)
        token = request.query_params.get("token")
        if token is not None:
            if not hmac.compare_digest(token.encode(), config.token.encode()):
                return _plain(
                    403,
                    "the token in this address is not this server's",
                    "open the exact address accord web printed when it started",
                )
            rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            target = request.url.path + (f"?{urlencode(rest)}" if rest else "")
            redirect = RedirectResponse(target, status_code=303)
            redirect.set_cookie(COOKIE, config.cookie, httponly=True, samesite="strict", path="/")
            return redirect
        cookie = request.cookies.get(COOKIE, "")
        if not hmac.compare_digest(cookie.encode(), config.cookie.encode()):
            return _plain(
                403,
                "this browser has no session with accord web",
                "open the address accord web printed when it started (it carries a token)",
            )
        if request.method not in SAFE_METHODS:
            if not config.sign or request.method != "POST":
                return _refuse_method(config)
            origin = request.headers.get("origin")
            if origin is not None and origin.split("://", 1)[-1].lower() != host.lower():
                return _plain(403, "this form was sent from another site", "use accord web's page")
        return None


def _refuse_method(config: WebConfig) -> Response:
    if config.sign:
        return _plain(405, "this address only answers GET and POST", "use the page's forms")
    response = _plain(
        405,
        "accord web was started read-only: it signs nothing",
        "restart it with --sign to approve, reject, deliver or sign from the browser",
    )
    response.headers["Allow"] = "GET, HEAD"
    return response


MAX_FORM = 1 << 20  # bytes of a form: more than any entry a form can build


MAX_UPLOAD = 64 << 20  # bytes of a form with files (evidence of a deliverable)


@dataclass(frozen=True)
class Upload:
    """A file sent with a form: the name the browser gave and its bytes."""

    name: str
    data: bytes = field(repr=False)


@dataclass
class Form:
    """A POSTed form: its fields (the first value of each) and its files."""

    fields: dict[str, str]
    files: list[Upload]

    def get(self, name: str, default: str = "") -> str:
        """The field ``name``, or ``default``."""
        return self.fields.get(name, default)


async def read_form(request: Request) -> Form | Response:
    """The POSTed form (URL-encoded, or multipart with files), checked for the CSRF token.

    Returns the form, or the refusal: 403 without the right CSRF token, 413 for a body
    beyond :data:`MAX_FORM` (:data:`MAX_UPLOAD` with files), 415 for another encoding.
    """
    header = request.headers.get("content-type", "")
    kind = header.split(";", 1)[0].strip().lower()
    if kind not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return _plain(415, "this address takes a form", "send the page's form")
    limit = MAX_UPLOAD if kind == "multipart/form-data" else MAX_FORM
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return _plain(413, "this form is too large", f"send at most {limit >> 20} MiB")
    body = b"".join(chunks)
    try:
        form = _multipart(header, body) if kind == "multipart/form-data" else _urlencoded(body)
    except (UnicodeDecodeError, ValueError):
        return _plain(400, "this form cannot be read", "send the page's form")
    refused = check_csrf(request, form.fields)
    return refused if refused is not None else form


def _urlencoded(body: bytes) -> Form:
    fields: dict[str, str] = {}
    for name, value in parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=100):
        fields.setdefault(name, value)
    return Form(fields, [])


def _multipart(header: str, body: bytes) -> Form:
    """A multipart/form-data body, read with the standard library's MIME parser.

    Raises:
        ValueError: it is not a multipart body.
    """
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + header.encode("latin-1") + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        raise ValueError("not multipart")
    fields: dict[str, str] = {}
    files: list[Upload] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            if filename or data:  # a file input left empty sends a nameless, empty part
                files.append(Upload(filename, data))
        else:
            fields.setdefault(name, data.decode("utf-8"))
    if len(fields) + len(files) > 200:
        raise ValueError("too many fields")
    return Form(fields, files)


def check_csrf(request: Request, form: dict[str, str]) -> Response | None:
    """Refuse a POST whose form does not carry this server's CSRF token (403)."""
    config: WebConfig = request.app.state.config
    given = form.get("csrf", "")
    if not hmac.compare_digest(given.encode(), config.csrf.encode()):
        return _plain(
            403,
            "this form has no valid CSRF token",
            "reload the page and send the form again from accord web",
        )
    return None


def signer_of(request: Request) -> Signer:
    """The key unlocked at start, which signs the entries of a server started with --sign."""
    signer: Signer | None = request.app.state.config.signer
    assert signer is not None  # noqa: S101 - --sign always unlocks the key
    return signer
