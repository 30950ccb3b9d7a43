"""Numbers at and beyond the bound of format v1 (issue 20, class 4), end to end.

Format v1 records numbers with at most 18 digits before the point and 12 after it
(docs/format.md, "Numbers"). Within that bound every read, the report and the close that
meets the policy work whatever the numbers (the smallest weight with the largest deliveries,
the largest worth); beyond it, a number typed at the CLI is a usage error (exit 2, with the
accepted form in the hint) and a stored entry that carries one is a rule violation: `verify`
and every read of a log holding one exit 5, `import` of a bundle holding one exits 5.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import (
    SLUG,
    Accord,
    assert_refused,
    fingerprint,
)
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import entry as entry_mod
from ledger.verified_reads import VerifiedReads

S = SLUG
SMALLEST = "0.000000000001"
LARGEST = "999999999999999999.999999999999"
FORM = (
    "at most 18 digits before the point and 12 after it, from 0.000000000001 to "
    "999999999999999999.999999999999"
)
ISSUE_WEIGHT = "0." + "0" * 37 + "1"  # 1e-38, written out: 40 characters (accepted before)
ISSUE_DELIVERY = "1" + "0" * 20  # 1e20
ENTRY_TOPIC = "accord:Project.EntryRecorded"
SEEDS = {"acme": 1, "burgerco": 2, "veggie": 3}  # the fixed-seed keys of tests/conftest.py


def pledge_args(weight: str, by: str = "acme", to: str = "burgerco") -> tuple[str, ...]:
    return (
        "pledge", "add", S, "Tiny", "--weight", weight, "--unit", "hours",
        "--due", "2099-12-15", "--to", to, "--as", by,
    )  # fmt: skip


def pledge(accord: Accord, weight: str) -> Any:
    return accord(*pledge_args(weight))


# --- beyond the bound at the CLI: exit 2 with the accepted form, nothing recorded -------------


@pytest.mark.parametrize(
    ("weight", "error", "hint"),
    [
        (ISSUE_WEIGHT, "weight has 38 digits after the point; accord records at most 12",
         f"give weight in a smaller unit: numbers take {FORM}"),
        ("1" * 200_000, "weight has 200000 digits before the point; accord records at most 18",
         f"give weight in a larger unit (thousands, millions): numbers take {FORM}"),
        ("1" + "0" * 18, "weight has 19 digits before the point; accord records at most 18",
         f"give weight in a larger unit (thousands, millions): numbers take {FORM}"),
        ("0.3333333333333333", "weight has 16 digits after the point; accord records at most 12",
         "write it as 0.333333333333 (rounded to 12 decimals), or give weight in a smaller "
         "unit"),
        ("999999999999999999.9999999999999", "weight has 13 digits after the point; accord "
         "records at most 12", f"give weight in a smaller unit: numbers take {FORM}"),
        ("1e-38", "weight '1e-38' is not a number",
         f"give weight without an exponent, with {FORM}"),
        ("1E+20", "weight '1E+20' is not a number",
         f"give weight without an exponent, with {FORM}"),
        ("1e3", "weight '1e3' is not a number", "write it as 1000: numbers take no exponent"),
    ],
    ids=["issue-1e-38", "200000-digits", "19-digits", "16-decimals", "carry-past-the-bound",
         "exponent-tiny", "exponent-huge", "exponent-fits"],
)  # fmt: skip
def test_a_weight_beyond_the_bound_exits_2_with_the_accepted_form(
    initialised: Accord, project: str, weight: str, error: str, hint: str
) -> None:
    with initialised.unchanged():
        result = pledge(initialised, weight)

    assert_refused(result, 2, error, hint)


def test_the_issues_delivery_of_1e20_and_an_amendment_beyond_the_bound_exit_2(
    initialised: Accord, project: str
) -> None:
    a = initialised
    a.ok(*pledge_args("30"))

    with a.unchanged():
        delivered = a("deliver", S, "4", "--summary", "Big", "--quantity", ISSUE_DELIVERY,
                      "--as", "acme")  # fmt: skip
        amended = a("pledge", "amend", S, "4", "--weight", ISSUE_WEIGHT, "--reason", "r",
                    "--as", "acme")  # fmt: skip
        valued = a("project", "value", S, "--unit", "hours", "--worth", ISSUE_DELIVERY,
                   "--in", "EUR", "--reason", "r", "--as", "acme")  # fmt: skip

    big = f"give quantity in a larger unit (thousands, millions): numbers take {FORM}"
    assert_refused(
        delivered, 2, "quantity has 21 digits before the point; accord records at most 18", big
    )
    assert_refused(
        amended,
        2,
        "weight has 38 digits after the point; accord records at most 12",
        f"give weight in a smaller unit: numbers take {FORM}",
    )
    assert_refused(
        valued,
        2,
        "worth has 21 digits before the point; accord records at most 18",
        f"give worth in a larger unit (thousands, millions): numbers take {FORM}",
    )


# --- at the bound: every read, the report and the close work ----------------------------------


def test_the_smallest_weight_with_the_largest_deliveries_reads_reports_and_closes(
    initialised: Accord, project: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = initialised
    monkeypatch.chdir(tmp_path)
    a.ok(*pledge_args(SMALLEST))  # seq 4: acme, the smallest weight
    for seq in (5, 7, 9):  # three of the largest deliveries, each approved
        a.ok("deliver", S, "4", "--summary", "Big", "--quantity", LARGEST, "--as", "acme",
             stderr=f"Warning: pledge 4 is now delivered beyond its weight: "
             f"{_times(seq)} of {SMALLEST} hours delivered or awaiting a decision\n")  # fmt: skip
        a.ok("approve", S, str(seq), "--as", "burgerco")
    a.ok(*pledge_args(LARGEST, by="burgerco", to="acme"))  # seq 11
    a.ok("deliver", S, "11", "--summary", "Tiny", "--quantity", SMALLEST, "--as", "burgerco")
    a.ok("approve", S, "12", "--as", "acme")
    value = ("project", "value", S, "--unit", "hours", "--worth", LARGEST, "--in", "EUR",
             "--reason", "Largest", "--as", "acme")  # fmt: skip
    a.ok(*value)  # seq 14
    a.ok("approve", S, "14", "--as", "burgerco")
    a.ok("approve", S, "14", "--as", "veggie")

    rows = {(r["party"], r["unit"]): r for r in a.json("contributions", S)}
    assert rows[("acme", "hours")] == {
        "party": "acme", "unit": "hours", "pledged": SMALLEST,
        "delivered": "2999999999999999999.999999999997",
        "approved": "2999999999999999999.999999999997", "disputed": "0", "short": "0",
        "pledged_share": "0.0000", "approved_share": "1.0000",
        "fulfilment": "2999999999999999999999999999997.0000", "on_time": "1.0000",
        "guest_star": False, "peers": 2, "valued": None,
    }  # fmt: skip
    # Overall, in EUR: every figure is the exact product (never rounded to 28 digits).
    overall = rows[("acme", "overall EUR")]
    assert (overall["pledged"], overall["approved"]) == (
        "999999.999999999999999999999999",
        "2999999999999999999999999999994000000.000000000000000000000003",
    )
    assert rows[("burgerco", "overall EUR")]["pledged"] == (
        "999999999999999999999999999998000000.000000000000000000000001"
    )
    assert (overall["approved_share"], rows[("burgerco", "overall EUR")]["approved_share"]) == (
        "1.0000", "0.0000",
    )  # fmt: skip
    table = a.ok("contributions", S).stdout
    assert "299999999999999999999999999999700.0%" in table  # acme's fulfilment, in percent
    for read in (
        ("obligations", S), ("pledge", "list", S), ("trail", S), ("project", "values", S),
        ("todo", S, "--as", "acme"), ("statement", "list", S), ("project", "show", S),
    ):  # fmt: skip
        a.ok(*read)
        a.json(*read)
    a.ok("calendar", S, "-o", str(tmp_path / "pledges.ics"))
    assert a.ok("report", S).stdout == (
        f"wrote accord-reports/{S}/close-report.md\n"
        f"wrote accord-reports/{S}/close-report.html\n"
        f"wrote accord-reports/{S}/close-report.json\n"
        f"wrote accord-reports/{S}/close-report.pdf\n"
    )

    a.ok("statement", "propose", S, "--title", "Joint", "--text", "Together.", "--as", "acme")
    for party in ("acme", "burgerco"):  # burgerco's largest pledge (11) is still open
        a.ok("close", S, "--accept-open", "11", "--as", party)
    closed = a.ok("close", S, "--accept-open", "11", "--as", "veggie")

    assert closed.stdout.endswith(
        f"project {S} is closed\n"
        f"close report: accord-reports/{S}/close-report.md\n"
        f"close report: accord-reports/{S}/close-report.html\n"
        f"close report: accord-reports/{S}/close-report.json\n"
        f"close report: accord-reports/{S}/close-report.pdf\n"
    )
    report = json.loads((tmp_path / "accord-reports" / S / "close-report.json").read_text())
    assert report["kind"] == "close"
    shown = {(r["party"], r["unit"]): r for r in report["contributions"]["rows"]}
    assert shown[("acme", "overall EUR")]["approved"] == overall["approved"]
    html = (tmp_path / "accord-reports" / S / "close-report.html").read_text()
    assert 'width="600.00"' in html  # acme's approved bar in hours: the whole width


def _times(seq: int) -> str:
    """What acme delivered or awaits a decision on after the delivery at ``seq``."""
    return {
        5: LARGEST,
        7: "1999999999999999999.999999999998",
        9: "2999999999999999999.999999999997",
    }[seq]


# --- beyond the bound in a stored log: verify and every read exit 5 ---------------------------


def forge(accord: Accord, kind: str, body: dict[str, Any], by: str = "acme") -> str:
    """Sign an entry with ``by``'s key and store it as the next row, behind accord's back."""
    path = accord.ledger_file
    with closing(sqlite3.connect(path)) as conn, conn:
        originator, version, state = conn.execute(
            "SELECT originator_id, originator_version, state FROM stored_events "
            "ORDER BY originator_version DESC LIMIT 1"
        ).fetchone()
        record = json.loads(state)
        last = json.loads(record["entry"])
        data = {
            "v": 1, "project": S, "seq": version + 1, "prev": record["hash"], "type": kind,
            "by": by, "key": fingerprint(by), "at": last["at"], "body": body,
        }  # fmt: skip
        key = Ed25519PrivateKey.from_private_bytes(bytes([SEEDS[by]]) * 32)
        signed = entry_mod.sign(data, key)
        record.update(entry=signed.text, sig=signed.sig, hash=signed.hash)
        conn.execute(
            "INSERT INTO stored_events (originator_id, originator_version, topic, state) "
            "VALUES (?, ?, ?, ?)",
            (originator, version + 1, ENTRY_TOPIC, json.dumps(record).encode("utf-8")),
        )
    return signed.hash


PLEDGE = {"title": "Tiny", "unit": "hours", "due": "2099-12-15", "beneficiaries": ["burgerco"]}


@pytest.mark.parametrize(
    ("kind", "body", "cause"),
    [
        ("pledge.made", {**PLEDGE, "weight": "1" * 200_000},
         "the weight of a pledge has 200000 digits before the point; accord records at most 18"),
        ("pledge.made", {**PLEDGE, "weight": ISSUE_WEIGHT},
         "the weight of a pledge has 38 digits after the point; accord records at most 12"),
        ("value.proposed", {"unit": "hours", "worth": ISSUE_DELIVERY, "in": "EUR",
                            "reason": "r"},
         "the worth of a value proposal has 21 digits before the point; accord records at "
         "most 18"),
    ],
    ids=["weight-200000-digits", "weight-1e-38", "worth-1e20"],
)  # fmt: skip
def test_a_stored_entry_beyond_the_bound_fails_verify_and_every_read_with_exit_5(
    initialised: Accord, project: str, kind: str, body: dict[str, Any], cause: str
) -> None:
    a = initialised
    a.ok("trail", S)  # this home verified seqs 1-3
    forge(a, kind, body)

    verified = a("verify", S, "--format", "json")
    read = a("contributions", S)

    assert verified.exit_code == 5, verified.output
    (item,) = json.loads(verified.stdout)["projects"]
    assert [(p["seq"], p["kind"], p["cause"]) for p in item["problems"]] == [(4, "rule", cause)]
    assert read.exit_code == 5, read.output
    assert read.stdout == ""
    assert read.stderr == (
        f"Error: {cause} (seq 4)\nHint: `accord verify {S}` lists every problem\n"
    )


def test_a_delivery_beyond_the_bound_in_a_stored_log_fails_verify_with_exit_5(
    initialised: Accord, project: str
) -> None:
    a = initialised
    a.ok(*pledge_args("30"))
    body = {"pledge": 4, "summary": "Big", "quantity": ISSUE_DELIVERY, "evidence": []}
    forge(a, "deliverable.submitted", body)

    result = a("verify", S, "--format", "json")

    assert result.exit_code == 5, result.output
    (item,) = json.loads(result.stdout)["projects"]
    assert [(p["seq"], p["kind"], p["cause"]) for p in item["problems"]] == [
        (5, "rule", "the quantity of a deliverable has 21 digits before the point; accord "
         "records at most 18"),
    ]  # fmt: skip


def test_a_bundle_holding_an_entry_beyond_the_bound_is_not_imported(
    initialised: Accord, project: str, tmp_path: Path, home: Path
) -> None:
    a = initialised
    forge(a, "pledge.made", {**PLEDGE, "weight": ISSUE_WEIGHT})
    bundle = tmp_path / "forged.accord"
    with closing(sqlite3.connect(a.ledger_file)) as conn:
        rows = conn.execute(
            "SELECT state FROM stored_events ORDER BY originator_version"
        ).fetchall()
    records = [json.loads(state) for (state,) in rows]
    header = {
        "format": "accord/bundle/v1", "project": S, "entries": len(records),
        "head": records[-1]["hash"],
    }  # fmt: skip
    lines = [header, *({"entry": r["entry"], "sig": r["sig"], "hash": r["hash"]} for r in records)]
    bundle.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    other = tmp_path / "other.db"

    verified = a("verify", "--bundle", str(bundle), "--format", "json")
    imported = a("--ledger", str(other), "import", str(bundle))

    assert verified.exit_code == 5, verified.output
    (item,) = json.loads(verified.stdout)["projects"]
    assert [(p["seq"], p["kind"]) for p in item["problems"]] == [(4, "rule")]
    assert item["problems"][0]["cause"] == (
        "the weight of a pledge has 38 digits after the point; accord records at most 12"
    )
    assert (imported.exit_code, imported.stderr) == (
        5,
        f"Error: the bundle of {S!r} does not verify; nothing was imported\n"
        f"Hint: `accord verify --bundle {bundle}` lists the problems\n",
    )
    assert not other.exists()


# --- the verified state keeps numbers in canonical plain form (issue 20, class 9) -------------


@pytest.mark.parametrize("worth", ["0.0000001", SMALLEST, "0.5", LARGEST, "100000"])
def test_an_agreed_value_is_kept_in_plain_form_and_the_next_command_does_not_rebuild(
    initialised: Accord, project: str, monkeypatch: pytest.MonkeyPatch, worth: str
) -> None:
    a = initialised
    a.ok("pledge", "add", S, "Work", "--weight", "2.10", "--unit", "hours", "--due",
         "2099-12-15", "--to", "burgerco", "--as", "acme")  # fmt: skip
    a.ok("deliver", S, "4", "--summary", "Part", "--quantity", "0.1", "--as", "acme")
    a.ok("deliver", S, "4", "--summary", "Rest", "--quantity", "1.00", "--as", "acme")
    a.ok("approve", S, "5", "--as", "burgerco")
    a.ok("project", "value", S, "--unit", "hours", "--worth", worth, "--in", "EUR",
         "--reason", "Rate", "--as", "acme")  # fmt: skip
    a.ok("approve", S, "8", "--as", "burgerco")
    a.ok("approve", S, "8", "--as", "veggie")

    def no_rebuild(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a full verification ran: the verified state was read as damage")

    monkeypatch.setattr(VerifiedReads, "_rebuild", no_rebuild)
    first = a.ok("project", "values", S, "--format", "json")
    second = a.ok("contributions", S, "--format", "json")

    assert json.loads(first.stdout)[0]["worth"] == worth
    assert json.loads(second.stdout)[0]["approved"] == "0.1"
    a.ok("deliver", S, "4", "--summary", "More", "--quantity", "0.000000000001", "--as", "acme")
    a.ok("obligations", S)
