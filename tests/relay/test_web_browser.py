"""``accord web`` in a real headless Chromium (Playwright, Debian's chromium as the browser).

A partner starts ``accord web --sign`` (a real process over its own home and replica, with
a real relay), opens the printed address, finds the deliverable in its to-do list, downloads
its evidence (fetched through the relay and checked), approves it through the confirmation
page, and the other party's sync sees it confirmed. A hostile
title never runs. Screenshots stay under the test's tmp_path (CI keeps them as artefacts).

Skipped when no Chromium is installed, unless ACCORD_TEST_BROWSER is set: then a missing
browser (or Playwright) fails the test.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_client_story import PASSPHRASE, Party, fingerprint, parties  # noqa: F401
from test_invitations_story import propose, world  # noqa: F401 - the fixture
from test_web_pages import EVIDENCE, HOSTILE, S, started

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("ACCORD_TEST_BROWSER"):
            pytest.fail("ACCORD_TEST_BROWSER is set but chromium is not on PATH")
        pytest.skip("no chromium on PATH (set ACCORD_TEST_BROWSER to require it)")
    return found


class WebProcess:
    """A running ``accord web`` process and the address it printed."""

    def __init__(self, party: Party, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
        env.update(
            PYTHONPATH=str(ROOT),
            PYTHONUNBUFFERED="1",
            ACCORD_HOME=str(party.home),
            ACCORD_LEDGER=str(party.ledger),
            ACCORD_PASSPHRASE=PASSPHRASE,
        )
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "commands.cli", "web", "--as", party.handle, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        threading.Thread(target=self._read, daemon=True).start()
        self.url = self._address()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def _address(self) -> str:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for line in self.lines:
                found = re.search(r"(http://127\.0\.0\.1:\d+/\?token=\S+)", line)
                if found:
                    return found.group(1)
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise AssertionError("accord web did not start:\n" + "\n".join(self.lines))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def browser() -> Iterator[Any]:
    executable = chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("ACCORD_TEST_BROWSER"):
            pytest.fail("ACCORD_TEST_BROWSER is set but playwright is not installed")
        pytest.skip("playwright is not installed")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-gpu"]
        )
        yield launched
        launched.close()


def wait(page: Any, text: str, timeout: int = 30_000) -> None:
    """Wait for ``text`` on the page; on a timeout, fail with what the page shows."""
    try:
        page.wait_for_selector(f"text={text}", timeout=timeout)
    except Exception as error:
        raise AssertionError(
            f"{text!r} not shown at {page.url}:\n{page.content()[:3000]}"
        ) from error


def colours(png: bytes) -> int:
    """How many distinct pixel colours a (non-interlaced, 8-bit RGB/RGBA) PNG holds."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, data, header = 8, b"", b""
    while pos < len(png):
        size, kind = struct.unpack(">I4s", png[pos : pos + 8])
        chunk = png[pos + 8 : pos + 8 + size]
        if kind == b"IHDR":
            header = chunk
        elif kind == b"IDAT":
            data += chunk
        pos += 12 + size
    width, height, depth, colour_type = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour_type in (2, 6)
    step = 3 if colour_type == 2 else 4
    raw = zlib.decompress(data)
    stride = width * step
    previous = bytearray(stride)
    seen: set[bytes] = set()
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - step] if i >= step else 0
            up = previous[i]
            corner = previous[i - step] if i >= step else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                guess = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + guess) & 0xFF
        seen.update(bytes(line[i : i + 3]) for i in range(0, stride, step * 7))
        previous = line
    return len(seen)


def test_a_partner_approves_a_deliverable_in_the_browser_and_the_other_party_confirms_it(
    parties: dict[str, Party],  # noqa: F811 - the fixture
    browser: Any,
    tmp_path: Path,
) -> None:
    acme, burgerco = parties["acme"], parties["burgerco"]
    started(parties)
    web = WebProcess(burgerco, "--sign", "--port", "0")
    try:
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        page = context.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        problems: list[str] = []
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on(
            "console",
            lambda m: (
                problems.append(m.text) if m.type == "error" and "onerror" not in m.text else None
            ),
        )
        page.goto(web.url)
        assert "token=" not in page.url  # exchanged for the cookie
        wait(page, "What waits for burgerco")
        row = page.locator("tr", has_text="Drafts")
        assert row.count() == 1 and "decide" in row.inner_text()
        shot = tmp_path / "dashboard.png"
        page.screenshot(path=str(shot), full_page=True)
        assert colours(shot.read_bytes()) > 20

        row.get_by_role("link", name="Open").click()
        wait(page, "This waits for you")
        assert "Drafts " + HOSTILE in page.inner_text("main")  # shown as text, never run
        entry_url = page.url
        page.get_by_role("link", name="Evidence files (1)").click()
        wait(page, "sealed on the relay")
        with page.expect_download() as download:
            page.get_by_role("link", name="Download (fetch and check)").click()
        assert Path(download.value.path()).read_bytes() == EVIDENCE
        assert download.value.suggested_filename.endswith(".pdf")
        page.reload()
        wait(page, "checked copy here")
        page.goto(entry_url)
        page.get_by_role("link", name="Approve").click()
        page.get_by_label("Comment").fill("Looks right")
        page.get_by_role("button", name="Review what will be signed").click()
        wait(page, "You are about to sign, as burgerco")
        assert '"type":"approval.given"' in page.inner_text("pre.json")
        assert acme.json("trail", S)[-1]["seq"] == 4  # nothing signed before the button
        page.get_by_role("button", name="Sign and send").click()
        wait(page, "Signed and recorded")
        assert "Recorded seq 5" in page.inner_text("main")

        acme.act("sync", S)  # the other party pulls, verifies and cosigns
        trail = acme.json("trail", S)
        assert trail[-1]["type"] == "approval.given" and trail[-1]["party"] == "burgerco"
        page.goto(web.url.split("?")[0] + f"p/{S}/sync")
        page.get_by_role("button", name="Sync now").click()
        wait(page, "Synced: pulled, verified and cosigned")
        assert "all 5 confirmed by every member" in page.inner_text("main")
        status = acme.json("status", S)
        assert status["confirmed"] == 5

        page.goto(web.url.split("?")[0] + f"p/{S}")
        page.wait_for_selector("h1")
        assert "<script>" in page.inner_text("h1")  # the hostile title, as text
        shot = tmp_path / "project.png"
        page.screenshot(path=str(shot), full_page=True)
        assert colours(shot.read_bytes()) > 20

        page.set_viewport_size({"width": 390, "height": 844})  # a phone
        page.reload()
        wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert wide <= 1, f"the project page is {wide}px wider than a phone's screen"
        page.screenshot(path=str(tmp_path / "project-phone.png"), full_page=True)
        page.set_viewport_size({"width": 1200, "height": 900})

        acme.act("statement", "propose", S, "--title", "Joint", "--text", "We did it", "--no-sign")
        wait(page, "sign statement")  # refreshed by itself
        assert dialogs == []
        assert [p for p in problems if "Content Security Policy" not in p] == []
        context.close()
    finally:
        web.stop()


def test_a_newcomer_joins_in_the_browser_with_its_invite_line(
    world: dict[str, Any],  # noqa: F811 - the fixture
    browser: Any,
    tmp_path: Path,
) -> None:
    """veggie has a key and its line, nothing else: accord web --sign, paste, review, join."""
    acme, veggie = world["acme"], world["veggie"]
    lines = propose(world)
    assert not veggie.ledger.exists()
    web = WebProcess(veggie, "--sign", "--port", "0")
    try:
        assert any(line.startswith("Created an empty ledger at ") for line in web.lines)
        page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
        page.goto(web.url)
        wait(page, "(no projects in this ledger yet)")
        page.get_by_role("link", name="Join with the invite line you were sent").click()
        page.get_by_label("Invite line").fill(lines["veggie"])
        page.get_by_role("button", name="Review the invitation").click()
        wait(page, "Invitation to no-whopper-day: No Whopper Day")
        assert "veggie (you, invite)" in page.inner_text("main")
        assert '"type":"member.joined"' in page.inner_text("pre.json")
        assert veggie.snapshot()[1] == []  # reviewing added no remote
        shot = tmp_path / "join-confirm.png"
        page.screenshot(path=str(shot), full_page=True)
        assert colours(shot.read_bytes()) > 20
        page.get_by_role("button", name="Sign the join and send").click()
        wait(page, "Joined no-whopper-day")
        page.get_by_role("link", name="Open the project").click()
        wait(page, "No Whopper Day")
    finally:
        web.stop()
    acme.ok("sync", S)
    last = acme.json("trail", S)[-1]
    assert (last["type"], last["party"]) == ("member.joined", "veggie")
