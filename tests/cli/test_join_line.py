"""``accord join`` refuses a bad line or bad options before anything is read or written."""

from __future__ import annotations

import io
from typing import Any

import pytest
from cli_helpers import Accord, assert_refused

from ledger.entry import new_invite

LINE = (
    "accord-join-v1,project=spring-campaign,seat=veggie,terms=" + "ab" * 32
    + ",relay=http://127.0.0.1:9,relay-key=SHA256:" + "A" * 43
    + ",invite=" + new_invite()[0]
)  # fmt: skip
HINT = (
    "copy the whole line the proposer sent you: accord-join-v1,project=...,seat=...,"
    "terms=...,relay=...,relay-key=SHA256:...[,invite=accord-invite-v1:...]"
)


ORDER = "its fields must be project, seat, terms, relay, relay-key, invite, in that order"


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("accord-invite-v1:" + "B" * 43, "it does not start with accord-join-v1,"),
        (LINE.replace("seat=veggie,", ""), ORDER),
        (LINE + " ", None),
    ],
)
def test_a_malformed_line_is_exit_2_and_changes_nothing(
    accord: Accord, line: str, why: str | None
) -> None:
    result = accord("join", line)
    if why is None:  # surrounding white space is ignored: the line itself is fine
        assert result.exit_code == 6  # nobody listens at 127.0.0.1:9
        return
    assert_refused(result, 2, f"the invite line is malformed: {why}", HINT)
    assert not accord.ledger_file.exists()


def test_reason_and_decline_go_together(accord: Accord) -> None:
    for args in (["--reason", "x"], ["--decline"]):
        result = accord("join", LINE, *args)
        assert_refused(
            result,
            2,
            "--decline needs --reason, and --reason goes with --decline",
            "accord join LINE --decline --reason 'why'",
        )


def test_an_empty_standard_input_is_exit_2(accord: Accord) -> None:
    result = accord("join", "-", input="")
    assert_refused(
        result, 2, "no invite line on standard input", "paste the line the proposer sent you"
    )


def test_an_unreachable_relay_is_exit_6_and_nothing_is_kept(accord: Accord) -> None:
    result = accord("join", LINE)
    assert_refused(
        result,
        6,
        "cannot reach the relay at http://127.0.0.1:9: ConnectError",
        "check the remote's URL (`accord remote list`) and the network",
    )
    assert not accord.ledger_file.exists()
    assert not (accord.tmp_path / "home" / "remotes").exists()


class _Endless(io.RawIOBase):
    """Standard input that never ends a line: reading far past a line's bound fails."""

    def __init__(self) -> None:
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.read_bytes > 1 << 20:
            raise AssertionError("read 1 MiB of standard input for one invite line")
        buffer[:] = b"a" * len(buffer)
        self.read_bytes += len(buffer)
        return len(buffer)


def test_an_endless_line_on_standard_input_is_exit_2_not_read_whole(accord: Accord) -> None:
    stream = _Endless()
    result = accord("join", "-", input=io.BufferedReader(stream))
    assert_refused(
        result,
        2,
        "the invite line is malformed: it is not one line of printable ASCII without spaces",
        HINT,
    )
    assert stream.read_bytes < 64 << 10
    assert not accord.ledger_file.exists()
