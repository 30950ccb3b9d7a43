"""The PDF close report: PDF/A-3b with the JSON report and the bundle attached, the same bytes
on every replica, readable pages, hostile titles shown as text, and ``accord verify --pdf``."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from cli_helpers import Accord, assert_refused, fingerprint
from pypdf import PdfReader

from commands.pdf import render_pdf

S = "spring-campaign"
HOSTILE = "<script>alert(1)</script> & <b>bold</b> \x1b[31m"


def report_dir(tmp_path: Path) -> Path:
    return tmp_path / "accord-reports" / S


def exported(accord: Accord, tmp_path: Path, slug: str = S) -> bytes:
    path = tmp_path / f"{slug}-export.accord"
    accord.ok("export", slug, "-o", str(path))
    return path.read_bytes()


def test_the_close_writes_a_pdf_a_3b_carrying_the_json_report_and_the_bundle(
    closed_project: str, initialised: Accord, tmp_path: Path
) -> None:
    directory = report_dir(tmp_path)
    assert sorted(p.name for p in directory.iterdir()) == [
        "close-report.html", "close-report.json", "close-report.md", "close-report.pdf",
    ]  # fmt: skip
    data = (directory / "close-report.pdf").read_bytes()
    reader = PdfReader(io.BytesIO(data))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "Spring campaign" in text
    assert "Design the posters" in text
    attachments = {name: contents[0] for name, contents in reader.attachments.items()}
    assert sorted(attachments) == ["close-report.json", "spring-campaign.accord"]
    assert attachments["close-report.json"] == (directory / "close-report.json").read_bytes()
    assert attachments["spring-campaign.accord"] == exported(initialised, tmp_path)
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    assert b'pdfaid:part="3" pdfaid:conformance="B"' in xmp
    fonts = {
        str(font.get_object()["/BaseFont"]).split("+", 1)[1]
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert fonts <= {"DejaVu-Sans", "DejaVu-Sans-Bold", "DejaVu-Sans-Mono"}  # embedded subsets
    report = json.loads(attachments["close-report.json"])
    closed_at = report["as_of"]["at"]  # the claimed time of the last close signature
    assert reader.metadata is not None
    created = reader.metadata.creation_date
    assert created is not None
    assert created.strftime("%Y-%m-%dT%H:%M:%SZ") == closed_at
    related = {
        str(spec.get_object()["/F"]): str(spec.get_object()["/AFRelationship"])
        for spec in reader.trailer["/Root"]["/AF"]
    }
    assert related == {"close-report.json": "/Data", "spring-campaign.accord": "/Source"}


def test_the_pdf_is_the_same_bytes_on_every_replica_and_every_render(
    closed_project: str, initialised: Accord, tmp_path: Path
) -> None:
    first = (report_dir(tmp_path) / "close-report.pdf").read_bytes()
    initialised.ok("report", S, "--format", "pdf", "-o", str(tmp_path / "again"))
    assert (tmp_path / "again" / "close-report.pdf").read_bytes() == first
    bundle = tmp_path / "replica.accord"
    bundle.write_bytes(exported(initialised, tmp_path))
    replica = tmp_path / "replica.db"
    initialised.ok("import", str(bundle), "--ledger", str(replica))
    initialised.ok(
        "report", S, "--format", "pdf", "-o", str(tmp_path / "replica"), "--ledger", str(replica)
    )
    assert (tmp_path / "replica" / "close-report.pdf").read_bytes() == first


def test_verify_pdf_extracts_the_bundle_verifies_it_and_checks_the_json(
    closed_project: str, initialised: Accord, tmp_path: Path
) -> None:
    pdf = report_dir(tmp_path) / "close-report.pdf"
    result = initialised.ok("verify", "--pdf", str(pdf))
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{S}: sound, 8 entries, closed, head ")
    assert lines[1] == "close-report.json: the report of the attached spring-campaign.accord"
    data = json.loads(initialised.ok("verify", "--pdf", str(pdf), "--format", "json").stdout)
    assert data["sound"] is True
    assert data["pdf"] == {"bundle": "spring-campaign.accord", "json_matches": True}


def rebuilt(directory: Path, *, bundle: str | None = None, json_text: str | None = None) -> bytes:
    """The PDF of the report in ``directory`` with another bundle or JSON attached."""
    reader = PdfReader(directory / "close-report.pdf")
    original = {name: contents[0].decode() for name, contents in reader.attachments.items()}
    text = original["close-report.json"]
    data = json.loads(text)
    return render_pdf(
        data,
        html=(directory / "close-report.html").read_text(),
        json_text=json_text if json_text is not None else text,
        bundle=bundle if bundle is not None else original["spring-campaign.accord"],
    )


def test_a_pdf_whose_attached_bundle_was_tampered_with_fails_with_exit_5(
    closed_project: str, initialised: Accord, tmp_path: Path
) -> None:
    directory = report_dir(tmp_path)
    reader = PdfReader(directory / "close-report.pdf")
    bundle = reader.attachments["spring-campaign.accord"][0].decode()
    tampered = bundle.replace("Design the posters", "Design the poster!", 1)
    assert tampered != bundle
    path = tmp_path / "tampered.pdf"
    path.write_bytes(rebuilt(directory, bundle=tampered))
    result = initialised("verify", "--pdf", str(path))
    assert result.exit_code == 5, result.output
    assert f"{S}: FAILED" in result.stdout
    assert "close-report.json: the report" not in result.stdout


def test_a_pdf_whose_json_is_not_the_report_of_its_bundle_fails_with_exit_5(
    closed_project: str, initialised: Accord, tmp_path: Path
) -> None:
    directory = report_dir(tmp_path)
    text = (directory / "close-report.json").read_text()
    path = tmp_path / "lying.pdf"
    path.write_bytes(rebuilt(directory, json_text=text.replace('"closed"', '"cancelled"', 1)))
    result = initialised("verify", "--pdf", str(path))
    assert result.exit_code == 5, result.output
    assert result.stdout.splitlines()[1] == (
        "close-report.json: FAILED, the attached close-report.json is not the report of the "
        "attached spring-campaign.accord"
    )


def test_verify_pdf_refuses_a_file_that_is_no_close_report(
    initialised: Accord, tmp_path: Path
) -> None:
    text = tmp_path / "notes.pdf"
    text.write_text("not a pdf")
    assert_refused(
        initialised("verify", "--pdf", str(text)),
        5,
        f"{text} is not a PDF accord can read (PdfStreamError)",
        "give the close-report.pdf that accord wrote",
    )


@pytest.fixture
def hostile_closed(initialised: Accord) -> str:
    initialised.ok(
        "project", "propose", "hostile", "--title", HOSTILE, "--member",
        f"burgerco={fingerprint('burgerco')}", "--as", "acme",
    )  # fmt: skip
    initialised.ok("project", "join", "hostile", "--as", "burgerco")
    for party in ("acme", "burgerco"):
        initialised.ok("close", "hostile", "--as", party)
    return "hostile"


def test_a_hostile_title_is_shown_as_text_in_the_pdf(hostile_closed: str, tmp_path: Path) -> None:
    path = tmp_path / "accord-reports" / "hostile" / "close-report.pdf"
    data = path.read_bytes()
    text = "".join(page.extract_text() for page in PdfReader(path).pages)
    assert "<script>alert(1)</script> & <b>bold</b> \\x1b[31m" in text
    assert b"/JavaScript" not in data and b"/JS " not in data


def test_the_pdf_pages_render_and_are_not_blank(closed_project: str, tmp_path: Path) -> None:
    if shutil.which("pdftoppm") is None:
        if os.environ.get("ACCORD_TEST_BROWSER"):
            pytest.fail("pdftoppm (Debian poppler-utils) is not on PATH")
        pytest.skip("pdftoppm (Debian poppler-utils) is not installed")
    from PIL import Image

    out = tmp_path / "pages"
    out.mkdir()
    pdf = report_dir(tmp_path) / "close-report.pdf"
    subprocess.run(
        ["pdftoppm", "-r", "40", "-png", str(pdf), str(out / "page")],
        check=True,
        timeout=120,
        capture_output=True,
    )
    pages = sorted(out.glob("page*.png"))
    assert len(pages) == len(PdfReader(pdf).pages) >= 1
    for page in pages:
        with Image.open(page) as image:
            grey = image.convert("L")
            dark = sum(grey.histogram()[:200])
            assert dark > 200, f"{page.name} looks blank"


def test_the_pdf_bytes_do_not_depend_on_the_second_it_is_rendered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """fontTools dates each embedded font subset with the current time unless told otherwise."""
    import time

    data = {"as_of": {"at": "2026-11-22T10:00:00Z"}, "project": {"slug": "clock"}}
    html = "<html><head><title>Clock</title></head><body><p>Same log, same bytes.</p></body></html>"
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    first = render_pdf(data, html=html, json_text="{}\n", bundle="")
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 86_400 * 400)  # a year and more later
    assert render_pdf(data, html=html, json_text="{}\n", bundle="") == first
    assert "SOURCE_DATE_EPOCH" not in os.environ  # the process's environment is left as it was
