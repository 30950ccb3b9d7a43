"""The close report as a self-verifying PDF/A-3b, and checking one (``accord verify --pdf``).

``close-report.pdf`` is the HTML report (the same autoescaped template, so the same escaping
guarantees) laid out for paper by WeasyPrint with a print stylesheet
(``templates/report-print.css``: A4, repeating table headers, rows and charts kept whole),
in the fonts installed on the system, embedded as PDF/A asks. Two files are attached
(PDF/A-3 embedded files, ``AFRelationship`` ``/Data`` and ``/Source``): the JSON report
``close-report.json`` and the project's bundle ``SLUG.accord`` (``accord export`` format),
so the PDF carries what it shows and the log that proves it.

The bytes are a pure function of the log: the document's and the attachments' dates are the
claimed time of the report's head entry (the close, for a closed project), the file
identifier is WeasyPrint's digest of the content, and nothing else varies between runs (the
same WeasyPrint, pydyf and fonts give the same bytes on every replica; see ADR 0015).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import threading
from collections.abc import Iterator
from datetime import datetime
from importlib import resources
from typing import TYPE_CHECKING, Any

from ledger import bundle
from ledger.errors import StorageUnavailableError, VerificationError
from ledger.rows import Row

if TYPE_CHECKING:
    from pathlib import Path

    from ledger.application import Ledger

PDF_VARIANT = "pdf/a-3b"
SOURCE_DATE_EPOCH = "SOURCE_DATE_EPOCH"  # https://reproducible-builds.org/specs/source-date-epoch/
JSON_ATTACHMENT = "close-report.json"
BUNDLE_SUFFIX = ".accord"
MAX_ATTACHMENT = 1 << 30  # bytes of one attachment read back (a bundle of 100,000 entries: ~80 MB)


def bundle_text(ledger: Ledger, slug: str) -> str:
    """The bundle of ``slug`` as ``accord export`` writes it (its verified entries)."""
    state = ledger.verified_state(slug)
    header = bundle.BundleHeader(project=slug, entries=state.seq, head=state.head)
    rows = (
        Row(position=None, text=e.entry.text, sig=e.entry.sig, hash=e.entry.hash)
        for e in ledger.verified_entries(slug, upto=state.seq)
    )
    out = io.StringIO()
    bundle.write(out, header, rows)
    return out.getvalue()


def _dated(html: str, at: str) -> str:
    """``html`` with the document's dates (``dcterms.created``/``modified``) set to ``at``."""
    meta = (
        f'<meta name="dcterms.created" content="{at}">'
        f'<meta name="dcterms.modified" content="{at}">'
        '<meta name="generator" content="accord">'
    )
    return html.replace("<head>", "<head>" + meta, 1)


def print_css() -> str:
    """The print stylesheet of the PDF."""
    return (resources.files("commands") / "templates" / "report-print.css").read_text("utf-8")


def render_pdf(data: dict[str, Any], *, html: str, json_text: str, bundle: str) -> bytes:
    """The report ``data`` as PDF/A-3b bytes: ``html`` laid out, the JSON and bundle attached.

    The bundle is attached as ``SLUG.accord``, the JSON as ``close-report.json``.

    Raises:
        StorageUnavailableError: WeasyPrint (or the system libraries it needs) is missing.
    """
    try:
        from weasyprint import CSS, HTML, Attachment
    except (ImportError, OSError) as exc:  # OSError: pango missing
        raise StorageUnavailableError(
            f"cannot write the PDF report: WeasyPrint is unavailable ({exc.__class__.__name__})",
            hint="install WeasyPrint and pango (Debian: libpango-1.0-0), or choose --format md",
        ) from None
    at = str(data["as_of"]["at"])
    moment = datetime.fromisoformat(at.replace("Z", "+00:00"))
    slug = str(data["project"]["slug"])
    attachments = [
        Attachment(
            string=json_text,
            name=JSON_ATTACHMENT,
            description="The close report as JSON (accord/close-report/v1)",
            created=moment,
            modified=moment,
            relationship="Data",
        ),
        Attachment(
            string=bundle,
            name=f"{slug}{BUNDLE_SUFFIX}",
            description="The project's signed log (accord/bundle/v1): accord verify --pdf",
            created=moment,
            modified=moment,
            relationship="Source",
        ),
    ]
    document = HTML(string=_dated(html, at), base_url=None)
    with _fonts_dated(moment):
        pdf: bytes = document.write_pdf(
            stylesheets=[CSS(string=print_css())],
            pdf_variant=PDF_VARIANT,
            attachments=attachments,
        )
    return pdf


_FONT_TIME = threading.Lock()


@contextlib.contextmanager
def _fonts_dated(moment: datetime) -> Iterator[None]:
    """Date the embedded font subsets ``moment``, not the second they were made.

    fontTools stamps each subset it writes (its ``head.modified``) with the current time,
    unless ``SOURCE_DATE_EPOCH`` is set (reproducible builds): without this, two renders of
    the same log a second apart differed in those bytes. The variable is the process's, so
    renders take turns while it is set, and its earlier value comes back after.
    """
    with _FONT_TIME:
        before = os.environ.get(SOURCE_DATE_EPOCH)
        os.environ[SOURCE_DATE_EPOCH] = str(max(int(moment.timestamp()), 0))
        try:
            yield
        finally:
            if before is None:
                os.environ.pop(SOURCE_DATE_EPOCH, None)
            else:
                os.environ[SOURCE_DATE_EPOCH] = before


# accord verify --pdf ----------------------------------------------------------------------


def attachments(path: Path) -> dict[str, bytes]:
    """The files attached to the PDF at ``path``, by name.

    Raises:
        VerificationError: it is not a PDF that can be read, or an attachment is too big.
    """
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(path, strict=False)
        found: dict[str, bytes] = {}
        for name, contents in reader.attachments.items():
            for content in contents:
                if len(content) > MAX_ATTACHMENT:
                    raise VerificationError(f"{path}: the attachment {name!r} is too big")
                if name in found:
                    raise VerificationError(
                        f"{path} holds two attachments named {name!r}",
                        hint="a close report holds one of each",
                    )
                found[name] = content
        return found
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise VerificationError(
            f"{path} is not a PDF accord can read ({exc.__class__.__name__})",
            hint="give the close-report.pdf that accord wrote",
        ) from None


def json_report(text: bytes) -> Any:
    """The attached JSON report, parsed (for tests and tools)."""
    return json.loads(text)
