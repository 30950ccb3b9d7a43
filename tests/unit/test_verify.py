"""The streaming verifier (``ledger.fold``) and remembered heads (``ledger.known_heads``), directly.

Rows come from a memory ledger's ``read_raw``; tampering is done to the ``Row`` values.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ledger import entry as entry_mod
from ledger import fold, known_heads, rules
from ledger.application import Ledger
from ledger.errors import StorageUnavailableError
from ledger.fold import (
    MAX_PROBLEMS,
    Problem,
    Row,
    VerifyReport,
    check_batch,
    unsafe_advance,
    verify_stream,
)
from ledger.keys import Signer

SLUG = "spring-campaign"
TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
NOT_CANONICAL = "stored entry text is not in RFC 8785 canonical form"
Verdict = tuple[int | None, str, str]


def build(ledger: Ledger, signers: dict[str, Signer]) -> list[Row]:
    """Eight entries; seq 5 depends on 4 and 6 on 5, while 7 and 8 depend on nothing."""
    acme, burgerco, veggie = signers["acme"], signers["burgerco"], signers["veggie"]
    ledger.propose_project(
        SLUG, title="Spring campaign", purpose="", members={"burgerco": None, "veggie": None},
        approval="all", close="all", signer=acme,
    )  # fmt: skip
    ledger.join_project(SLUG, signer=burgerco)
    ledger.join_project(SLUG, signer=veggie)
    ledger.add_pledge(
        SLUG, title="Design", weight="30", unit="hours", due="2099-12-15",
        beneficiaries=None, signer=acme,
    )  # fmt: skip
    ledger.deliver(SLUG, 4, summary="Posters", quantity="10", evidence=[], signer=acme)
    ledger.approve(SLUG, 5, comment="", signer=burgerco)
    ledger.add_pledge(
        SLUG, title="Media", weight="100", unit="eur", due="2099-12-20",
        beneficiaries=None, signer=burgerco,
    )  # fmt: skip
    ledger.propose_statement(SLUG, title="Joint", text="Together.", signer=veggie)
    return [
        Row(position=i, text=raw.text, sig=raw.sig, hash=raw.hash)
        for i, raw in enumerate(ledger.read_raw(SLUG), start=1)
    ]


@pytest.fixture
def rows(memory_ledger: Ledger, signers: dict[str, Signer]) -> list[Row]:
    return build(memory_ledger, signers)


def problems(rows: list[Row], workers: int = 1) -> list[Verdict]:
    report = verify_stream(SLUG, rows, workers=workers)
    return [(p.seq, p.kind, p.cause) for p in report.problems]


def with_row(rows: list[Row], seq: int, **fields: str) -> list[Row]:
    """``rows`` with the row at ``seq`` changed."""
    changed = list(rows)
    changed[seq - 1] = replace(rows[seq - 1], **fields)
    return changed


def flip_sig(sig: str) -> str:
    """The signature with one base64 character (one byte of it) changed."""
    return sig[:10] + ("A" if sig[10] != "A" else "B") + sig[11:]


def spaced(text: str) -> str:
    """The same JSON, no longer canonical (a space after the first comma)."""
    return text.replace(",", ", ", 1)


def bad_hash(seq: int) -> Verdict:
    return (seq, "hash", "stored hash does not match the entry bytes")


def bad_signature(seq: int, fingerprint: str) -> Verdict:
    return (seq, "signature", f"signature does not verify with key {fingerprint}")


# --- verify_stream ------------------------------------------------------------------------


def test_a_sound_log_verifies_with_its_entries_head_and_status(rows: list[Row]) -> None:
    report = verify_stream(SLUG, rows, workers=1)
    assert report.sound
    assert report.as_dict() == {
        "project": SLUG,
        "sound": True,
        "entries": 8,
        "head": rows[-1].hash,
        "status": "active",
        "problems": [],
        "more_problems": 0,
    }


def test_an_altered_entry_text_is_a_hash_and_a_signature_problem_at_its_seq_only(
    rows: list[Row], signers: dict[str, Signer]
) -> None:
    text = rows[3].text.replace('"weight":"30"', '"weight":"31"')
    assert problems(with_row(rows, 4, text=text)) == [
        bad_hash(4),
        bad_signature(4, signers["acme"].fingerprint),
    ]


def test_an_altered_signature_is_a_signature_and_a_hash_problem(
    rows: list[Row], signers: dict[str, Signer]
) -> None:
    assert problems(with_row(rows, 6, sig=flip_sig(rows[5].sig))) == [
        bad_hash(6),
        bad_signature(6, signers["burgerco"].fingerprint),
    ]


def test_a_row_whose_position_is_not_its_seq_is_a_chain_problem(rows: list[Row]) -> None:
    assert problems(with_row(rows, 8, position=9)) == [
        (8, "chain", "stored at position 9 but signed as seq 8")
    ]


def test_a_missing_row_is_reported_with_the_seq_that_is_missing(rows: list[Row]) -> None:
    assert problems(rows[:6] + rows[7:]) == [
        (7, "chain", "seq 7 missing here (deleted or out of order)")
    ]


def test_rows_out_of_order_are_reported_at_the_seqs_concerned(rows: list[Row]) -> None:
    swapped = [*rows[:5], replace(rows[6], position=None), replace(rows[5], position=None)]
    assert problems([*swapped, replace(rows[7], position=None)]) == [
        (6, "chain", "seq 6 missing here (deleted or out of order)"),
        (6, "chain", "seq 6 comes again after seq 7 (out of order or duplicated)"),
    ]


def test_a_duplicated_row_is_reported_once(rows: list[Row]) -> None:
    lines = [replace(r, position=None) for r in rows]  # as in a bundle: no store positions
    assert problems([*lines[:5], lines[4], *lines[5:]]) == [
        (5, "chain", "seq 5 comes again after seq 5 (out of order or duplicated)")
    ]


def test_a_missing_last_row_is_not_visible_in_the_rows_alone(rows: list[Row]) -> None:
    report = verify_stream(SLUG, rows[:7], workers=1)
    assert (report.sound, report.entries, report.head) == (True, 7, rows[6].hash)


TAMPERS = {
    "untouched": lambda rows: rows,
    "altered text": lambda rows: with_row(rows, 4, text=rows[3].text.replace("30", "31", 1)),
    "altered signature": lambda rows: with_row(rows, 2, sig=flip_sig(rows[1].sig)),
    "not canonical": lambda rows: with_row(rows, 7, text=spaced(rows[6].text)),
    "deleted row": lambda rows: rows[:4] + rows[5:],
    "swapped rows": lambda rows: [*rows[:5], rows[6], rows[5], rows[7]],
    "unreadable row": lambda rows: with_row(rows, 3, text="\x00", sig="", hash=""),
}


@pytest.mark.parametrize("tamper", TAMPERS.values(), ids=TAMPERS.keys())
def test_one_worker_and_two_workers_give_the_same_report(
    rows: list[Row], tamper: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fold, "BATCH", 3)  # several batches in flight at once
    tampered = tamper(rows)
    positions = [2, 5, 8]
    one = verify_stream(SLUG, tampered, workers=1, remember_positions=positions)
    two = verify_stream(SLUG, tampered, workers=2, remember_positions=positions)
    assert two.as_dict() == one.as_dict()
    assert two.hashes_at == one.hashes_at


def test_keys_introduced_in_earlier_batches_verify_entries_in_later_batches(
    rows: list[Row], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fold, "BATCH", 1)  # every join's key arrives in an earlier batch
    assert verify_stream(SLUG, rows, workers=2).sound
    assert verify_stream(SLUG, rows, workers=1).sound


def test_progress_is_reported_after_each_batch(
    rows: list[Row], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fold, "BATCH", 3)
    seen: list[int] = []
    verify_stream(SLUG, rows, workers=1, progress=seen.append)
    assert seen == [3, 6, 8]


def test_remember_positions_keeps_the_computed_hash_at_each_seq(rows: list[Row]) -> None:
    report = verify_stream(SLUG, rows, workers=1, remember_positions=[1, 8, 20])
    assert report.hashes_at == {1: rows[0].hash, 8: rows[7].hash}


def test_the_problem_list_is_capped_and_the_rest_counted() -> None:
    report = VerifyReport(project=SLUG)
    for seq in range(1, MAX_PROBLEMS + 4):
        report.add(Problem(seq=seq, kind="rule", cause="x"))
    assert (len(report.problems), report.more_problems, report.sound) == (MAX_PROBLEMS, 3, False)
    assert report.as_dict()["more_problems"] == 3


# --- unsafe_advance: one problem, not a cascade --------------------------------------------


def test_unsafe_advance_moves_only_the_chain_position(rows: list[Row]) -> None:
    state = rules.replay(SLUG, [entry_mod.load(r.text, r.sig, r.hash) for r in rows[:6]])
    before = (
        dict(state.pledges),
        {h: (m.status, m.current_keys()) for h, m in state.members.items()},
    )
    unsafe_advance(state, 7, rows[6].hash, "pledge.made")
    assert (state.seq, state.head, state.types[7]) == (7, rows[6].hash, "pledge.made")
    assert (
        dict(state.pledges),
        {h: (m.status, m.current_keys()) for h, m in state.members.items()},
    ) == (before)
    # The next row links to the row skipped over, so the rules check it on its own merits.
    rules.apply(state, entry_mod.load(rows[7].text, rows[7].sig, rows[7].hash))
    assert (state.seq, state.head) == (8, rows[7].hash)


def test_after_a_row_that_cannot_be_read_as_canonical_the_later_rows_are_still_checked(
    rows: list[Row], signers: dict[str, Signer]
) -> None:
    tampered = with_row(rows, 7, text=spaced(rows[6].text))
    assert problems(tampered) == [bad_hash(7), (7, "canonical", NOT_CANONICAL)]
    # A second alteration after it is found and reported on its own.
    tampered = with_row(tampered, 8, sig=flip_sig(rows[7].sig))
    assert problems(tampered) == [
        bad_hash(7),
        (7, "canonical", NOT_CANONICAL),
        bad_hash(8),
        bad_signature(8, signers["veggie"].fingerprint),
    ]


def test_after_a_row_that_breaks_a_rule_the_later_rows_are_still_checked(
    rows: list[Row], signers: dict[str, Signer]
) -> None:
    # burgerco approves the deliverable a second time (validly signed, chained at seq 7),
    # followed by the old seq 7 and 8 re-signed onto it: only seq 7 is reported.
    data = json.loads(rows[5].text)
    fake = entry_mod.sign({**data, "seq": 7, "prev": rows[5].hash}, signers["burgerco"].private_key)
    tail = []
    prev = fake.hash
    for seq, row in ((8, rows[6]), (9, rows[7])):
        old = json.loads(row.text)
        again = entry_mod.sign({**old, "seq": seq, "prev": prev}, signers[old["by"]].private_key)
        tail.append(Row(position=seq, text=again.text, sig=again.sig, hash=again.hash))
        prev = again.hash
    tampered = [*rows[:6], Row(position=7, text=fake.text, sig=fake.sig, hash=fake.hash), *tail]
    report = verify_stream(SLUG, tampered, workers=1)
    assert [(p.seq, p.kind, p.cause) for p in report.problems] == [
        (7, "rule", "'burgerco' already approved seq 5 (seq 6)")
    ]
    assert (report.entries, report.head) == (9, prev)


NOT_JSON = "entry is not valid v1 JSON: Expecting value: line 1 column 1 (char 0)"


def test_a_non_canonical_but_well_formed_row_is_still_applied_so_later_rows_are_unaffected(
    rows: list[Row],
) -> None:
    # seq 5 delivers on the pledge at seq 4 and seq 6 approves it: neither is reported.
    assert problems(with_row(rows, 4, text=spaced(rows[3].text))) == [
        bad_hash(4),
        (4, "canonical", NOT_CANONICAL),
    ]


def test_a_signature_that_is_not_base64_is_reported_once_not_as_a_cascade(
    rows: list[Row], signers: dict[str, Signer]
) -> None:
    # The text is readable and well formed: its effects are applied, so the deliverable
    # and approval built on the pledge are not reported.
    tampered = with_row(rows, 4, sig="not base64!")
    assert problems(tampered) == [bad_signature(4, signers["acme"].fingerprint)]


def test_a_row_damaged_beyond_reading_is_reported_with_accurate_causes_for_what_needs_it(
    rows: list[Row],
) -> None:
    # A pledge whose text, signature and hash are all gone cannot be applied: the entries
    # built on it fail their rules, each with a cause that says why; the chain itself is not
    # blamed for a hash nobody can know.
    tampered = with_row(rows, 4, text="\x00", sig="", hash="")
    assert problems(tampered) == [
        (4, "canonical", NOT_JSON),
        (5, "rule", "seq 4 is a damaged entry, not a pledge"),
        (
            6,
            "rule",
            "seq 5 is a refused deliverable, not a deliverable, an amendment, a close-short "
            "or a value proposal",
        ),
    ]


# --- check_batch --------------------------------------------------------------------------


def signed(signer: Signer, **fields: Any) -> entry_mod.SignedEntry:
    data = {
        "v": 1, "project": SLUG, "seq": 2, "prev": "1" * 64, "type": "pledge.made",
        "by": signer.handle, "key": signer.fingerprint, "at": "2026-11-22T10:00:00Z",
        "body": {
            "title": "Design", "weight": "30", "unit": "hours", "due": "2099-12-15",
            "beneficiaries": ["burgerco"],
        },
    }  # fmt: skip
    data.update(fields)
    return entry_mod.sign(data, signer.private_key)


def one_verdict(text: str, sig: str, keys: dict[str, str]) -> tuple[str | None, str | None]:
    (verdict,) = check_batch([(text, sig)], keys)
    return verdict


@pytest.fixture
def acme_keys(signers: dict[str, Signer]) -> dict[str, str]:
    acme = signers["acme"]
    return {acme.fingerprint: acme.public_key_line}


def test_check_batch_passes_a_canonical_well_formed_entry_signed_by_a_known_key(
    signers: dict[str, Signer], acme_keys: dict[str, str]
) -> None:
    item = signed(signers["acme"])
    assert one_verdict(item.text, item.sig, acme_keys) == (None, None)


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        ("not json", "entry is not valid v1 JSON: Expecting value: line 1 column 1 (char 0)"),
        ("[1,2]", "entry is not a JSON object"),
        (
            '{"seq":1.5}',
            "entry is not valid v1 JSON: number 1.5 is not an integer (v1 has no floats)",
        ),
        (
            '{"seq":NaN}',
            "entry is not valid v1 JSON: number NaN is not an integer (v1 has no floats)",
        ),
        ('{"b":1,"a":2}', NOT_CANONICAL),
        ('{"a": 1}', NOT_CANONICAL),
        ('{"a":"\\u0041"}', NOT_CANONICAL),
    ],
    ids=["not json", "not an object", "float", "nan", "unsorted", "spaced", "escaped"],
)
def test_check_batch_refuses_text_that_is_not_canonical_json(text: str, cause: str) -> None:
    assert one_verdict(text, "", {}) == ("canonical", cause)


def test_check_batch_refuses_a_canonical_entry_that_breaks_format_v1(
    signers: dict[str, Signer], acme_keys: dict[str, str]
) -> None:
    acme = signers["acme"]
    extra = signed(acme, body={**json.loads(signed(acme).text)["body"], "bonus": "1"})
    assert one_verdict(extra.text, extra.sig, acme_keys) == (
        "format",
        "pledge.made body is malformed (missing [], extra ['bonus'])",
    )
    bad_time = signed(acme, at="2026-11-22 10:00:00")
    assert one_verdict(bad_time.text, bad_time.sig, acme_keys) == (
        "format",
        "entry field 'at' is malformed",
    )


def test_check_batch_names_an_unknown_key(signers: dict[str, Signer]) -> None:
    mallory = signers["mallory"]
    item = signed(mallory)
    assert one_verdict(item.text, item.sig, {}) == (
        "key",
        f"entry names unknown key {mallory.fingerprint}",
    )


def test_check_batch_refuses_a_signature_made_by_another_key(
    signers: dict[str, Signer], acme_keys: dict[str, str]
) -> None:
    acme = signers["acme"]
    forged = signed(acme)
    by_mallory = base64.b64encode(
        signers["mallory"].private_key.sign(entry_mod.PREFIX + forged.text.encode())
    ).decode()
    expected = ("signature", f"signature does not verify with key {acme.fingerprint}")
    assert one_verdict(forged.text, by_mallory, acme_keys) == expected
    assert one_verdict(forged.text, flip_sig(forged.sig), acme_keys) == expected
    assert one_verdict(forged.text, "not base64!", acme_keys) == expected
    assert one_verdict(forged.text, "", acme_keys) == expected


def test_check_batch_learns_keys_introduced_earlier_in_the_same_batch(
    rows: list[Row], signers: dict[str, Signer]
) -> None:
    # seq 2 (burgerco's join) carries burgerco's key; seq 6 is signed with it.
    batch = [(rows[1].text, rows[1].sig), (rows[5].text, rows[5].sig)]
    assert check_batch(batch, {}) == [(None, None), (None, None)]
    assert check_batch(batch[1:], {}) == [
        ("key", f"entry names unknown key {signers['burgerco'].fingerprint}")
    ]


def test_check_batch_does_not_change_the_keys_it_is_given(rows: list[Row]) -> None:
    keys: dict[str, str] = {}
    check_batch([(rows[0].text, rows[0].sig)], keys)
    assert keys == {}


# --- trust: remembered heads --------------------------------------------------------------

SOURCE = "/ledgers/accord.db"


def report_of(rows: list[Row], positions: list[int] = []) -> VerifyReport:  # noqa: B006
    return verify_stream(SLUG, rows, workers=1, remember_positions=positions)


def test_nothing_is_recalled_before_anything_was_remembered(tmp_path: Path) -> None:
    assert known_heads.recall(SOURCE, SLUG, tmp_path) is None
    report = VerifyReport(project=SLUG)
    known_heads.compare(report, None)
    assert report.problems == []


def test_remember_keeps_the_verified_head_per_source_and_project(
    rows: list[Row], tmp_path: Path
) -> None:
    known_heads.remember(SOURCE, report_of(rows), tmp_path)
    remembered = known_heads.recall(SOURCE, SLUG, tmp_path)
    assert remembered is not None
    assert (remembered.seq, remembered.hash) == (8, rows[7].hash)
    assert TIME.fullmatch(remembered.verified_at)
    assert known_heads.recall("/elsewhere/accord.db", SLUG, tmp_path) is None
    assert known_heads.recall(SOURCE, "another-project", tmp_path) is None
    (path,) = (tmp_path / "trust").glob(f"*/{SLUG}.json")
    assert json.loads(path.read_text())["source"] == SOURCE


def test_remember_defaults_to_accord_home(
    rows: list[Row], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACCORD_HOME", str(tmp_path / "home"))
    known_heads.remember(SOURCE, report_of(rows))
    assert known_heads.recall(SOURCE, SLUG) == known_heads.recall(SOURCE, SLUG, tmp_path / "home")
    assert len(list((tmp_path / "home" / "trust").glob(f"*/{SLUG}.json"))) == 1


def test_the_same_or_a_longer_history_agrees_with_the_remembered_head(
    rows: list[Row], tmp_path: Path
) -> None:
    known_heads.remember(SOURCE, report_of(rows[:6]), tmp_path)
    remembered = known_heads.recall(SOURCE, SLUG, tmp_path)
    for length in (6, 8):
        report = report_of(rows[:length], [6])
        known_heads.compare(report, remembered)
        assert report.problems == []


def test_a_shorter_history_is_a_truncation(rows: list[Row], tmp_path: Path) -> None:
    known_heads.remember(SOURCE, report_of(rows), tmp_path)
    remembered = known_heads.recall(SOURCE, SLUG, tmp_path)
    assert remembered is not None
    report = report_of(rows[:5], [8])
    known_heads.compare(report, remembered)
    assert report.problems == [
        Problem(
            seq=6,
            kind="history",
            cause="history is shorter than before: 5 entries now, 8 verified on "
            f"{remembered.verified_at} (truncated)",
        )
    ]


def test_a_different_hash_at_the_remembered_seq_is_a_rewrite(
    rows: list[Row], tmp_path: Path
) -> None:
    known_heads.remember(SOURCE, report_of(rows), tmp_path)
    remembered = known_heads.recall(SOURCE, SLUG, tmp_path)
    assert remembered is not None
    forked = known_heads.Remembered(seq=8, hash="f" * 64, verified_at=remembered.verified_at)
    report = report_of(rows, [8])
    known_heads.compare(report, forked)
    assert report.problems == [
        Problem(
            seq=8,
            kind="history",
            cause=f"seq 8 differs from the one verified on {remembered.verified_at} "
            "(history rewritten or forked)",
        )
    ]


def test_a_report_without_the_hash_at_the_remembered_seq_does_not_pass(
    rows: list[Row], tmp_path: Path
) -> None:
    # compare needs the hash at the remembered seq: without it, it must not assume agreement.
    known_heads.remember(SOURCE, report_of(rows), tmp_path)
    report = report_of(rows)
    known_heads.compare(report, known_heads.recall(SOURCE, SLUG, tmp_path))
    assert [p.kind for p in report.problems] == ["history"]


@pytest.mark.parametrize(
    "content",
    ["not json", "{}", '{"seq": "eight", "hash": "x", "at": "y"}', "[]"],
    ids=["not json", "no fields", "bad seq", "not an object"],
)
def test_a_damaged_trust_file_is_a_problem_not_a_reset(
    rows: list[Row], tmp_path: Path, content: str
) -> None:
    known_heads.remember(SOURCE, report_of(rows), tmp_path)
    (path,) = (tmp_path / "trust").glob(f"*/{SLUG}.json")
    path.write_text(content)
    remembered = known_heads.recall(SOURCE, SLUG, tmp_path)
    assert remembered == known_heads.Remembered(seq=-1, hash="", verified_at="")
    report = report_of(rows, [8])
    known_heads.compare(report, remembered)
    assert report.problems == [
        Problem(seq=None, kind="history", cause="the remembered head file is damaged")
    ]


def test_remembering_into_an_unwritable_home_is_a_storage_error(
    rows: list[Row], tmp_path: Path
) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the trust directory should go")
    with pytest.raises(StorageUnavailableError, match="cannot remember the verified head"):
        known_heads.remember(SOURCE, report_of(rows), blocked)


# --- one row check: verify refuses what the reads refuse (issue 20, class 10) -------------------

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def other_padding_bits(sig: str) -> str:
    """The same 64 signature bytes with the 4 unused bits of the last character changed."""
    last = B64.index(sig[85])
    return sig[:85] + B64[last ^ 0b0001] + sig[86:]


def test_check_batch_refuses_another_encoding_of_the_same_signature_bytes(
    signers: dict[str, Signer], acme_keys: dict[str, str]
) -> None:
    item = signed(signers["acme"])
    loose = other_padding_bits(item.sig)
    assert base64.b64decode(loose) == base64.b64decode(item.sig) and loose != item.sig
    expected = (
        "signature",
        f"signature by key {signers['acme'].fingerprint} is not in canonical base64",
    )
    assert one_verdict(item.text, loose, acme_keys) == expected
    with pytest.raises(entry_mod.SignatureInvalidError):
        entry_mod.load(item.text, loose, item.hash)  # what every read runs on the same row


def test_verify_stream_reports_a_re_encoded_signature_where_the_reads_refuse_it(
    rows: list[Row], signers: dict[str, Signer]
) -> None:
    tampered = with_row(rows, 8, sig=other_padding_bits(rows[7].sig))
    fingerprint = signers["veggie"].fingerprint
    assert problems(tampered) == [
        (8, "signature", f"signature by key {fingerprint} is not in canonical base64")
    ]
    row = tampered[7]
    assert entry_mod.load_verified(row.text, row.sig, row.hash, rows[7].hash) is None


def test_verify_stream_and_the_reads_both_refuse_an_upper_case_stored_hash(
    rows: list[Row],
) -> None:
    tampered = with_row(rows, 8, hash=rows[7].hash.upper())
    assert problems(tampered) == [bad_hash(8)]
    row = tampered[7]
    assert entry_mod.load_verified(row.text, row.sig, row.hash, rows[7].hash) is None
    with pytest.raises(entry_mod.VerificationError, match="stored hash"):
        entry_mod.load(row.text, row.sig, row.hash)


def test_verify_stream_reports_a_lone_surrogate_in_the_text_instead_of_crashing(
    rows: list[Row],
) -> None:
    tampered = with_row(rows, 8, text=rows[7].text.replace("Joint", "J\ud800int", 1))
    assert problems(tampered)[0] == (
        8,
        "canonical",
        "stored entry text is not valid Unicode (a lone surrogate)",
    )
