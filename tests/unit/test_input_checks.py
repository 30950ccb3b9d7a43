"""User-input checks, unit spellings in the rules, exact arithmetic and bounded file reads,
directly (the CLI side is in ``tests/cli/test_inputs.py``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from ledger import entry as entry_mod
from ledger import format as fmt
from ledger import normalise, numbers, rules, storage
from ledger.application import Ledger
from ledger.errors import NotFoundError, RuleViolationError, UsageError, VerificationError
from ledger.inputs import read_text_file
from ledger.keys import Signer
from ledger.rules import schema

SLUG = "spring-campaign"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


@pytest.fixture
def sqlite_ledger(tmp_path: Path) -> Iterator[Ledger]:
    app = Ledger(storage.settings(str(tmp_path / "accord.db")), clock=Clock())
    yield app
    app.close()


def started(ledger: Ledger, signers: dict[str, Signer]) -> None:
    ledger.propose_project(
        SLUG, title="Spring", purpose="", members={"burgerco": None}, approval="all",
        close="all", signer=signers["acme"],
    )  # fmt: skip
    ledger.join_project(SLUG, signer=signers["burgerco"])


def forged_pledge(state: rules.ProjectState, signer: Signer, unit: str) -> entry_mod.SignedEntry:
    """A pledge signed with the member's own key, built without the application's checks."""
    data = {
        "v": 1, "project": SLUG, "seq": state.seq + 1, "prev": state.head, "type": "pledge.made",
        "by": signer.handle, "key": signer.fingerprint, "at": "2026-11-22T11:00:00Z",
        "body": {"title": "Prints", "weight": "3", "unit": unit, "due": "2099-12-15",
                 "beneficiaries": ["acme"]},
    }  # fmt: skip
    return entry_mod.sign(data, signer.private_key)


# --- units -----------------------------------------------------------------------------------


def test_a_forged_second_spelling_of_a_unit_is_a_rule_violation(
    sqlite_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    started(sqlite_ledger, signers)
    sqlite_ledger.add_pledge(
        SLUG, title="Budget", weight="500", unit="EUR", due="2099-12-15", beneficiaries=None,
        signer=signers["acme"],
    )  # fmt: skip
    state = sqlite_ledger.verified_state(SLUG)

    with pytest.raises(RuleViolationError) as info:
        rules.apply(state, forged_pledge(state, signers["burgerco"], "eur"))

    assert info.value.message == (
        f"unit 'eur' is spelled 'EUR' in project '{SLUG}'; two spellings would split its "
        "contributions"
    )
    assert info.value.hint == "write the unit as EUR"
    assert state.seq == 3  # nothing changed
    rules.apply(state, forged_pledge(state, signers["burgerco"], "EUR"))
    assert state.seq == 4


def test_a_second_spelling_is_refused_by_the_application_before_signing(
    sqlite_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    started(sqlite_ledger, signers)
    sqlite_ledger.add_pledge(
        SLUG, title="Shoot", weight="5", unit="person-days", due="2099-12-15",
        beneficiaries=None, signer=signers["acme"],
    )  # fmt: skip

    with pytest.raises(UsageError, match="spelled 'person-days'"):
        sqlite_ledger.add_pledge(
            SLUG, title="Edit", weight="2", unit="Person-Days", due="2099-12-15",
            beneficiaries=None, signer=signers["burgerco"],
        )  # fmt: skip
    assert sqlite_ledger.verified_state(SLUG).seq == 3


@pytest.mark.parametrize(
    "unit", ["hours", "eur", "EUR", "€", "person-days", "km/h", "m²", "часы", "時間", "%", "a" * 32]
)
def test_the_stored_entry_check_accepts_units_as_people_write_them(unit: str) -> None:
    assert fmt.is_unit(unit)


@pytest.mark.parametrize(
    "unit", ["", "Person Hours", "-", "_x", "/h", "a" * 33, "eur\n", "e\tur", "\u200beur", 5]
)
def test_the_stored_entry_check_refuses_units_with_spaces_controls_or_leading_punctuation(
    unit: object,
) -> None:
    assert not fmt.is_unit(unit)


def test_every_unit_the_old_pattern_allowed_is_still_a_unit() -> None:
    for unit in ("a", "hours", "eur", "person_days", "x-1", "z" + "9" * 31):
        assert fmt.is_unit(unit)


def test_unit_keys_ignore_case_and_compatibility_forms() -> None:
    assert fmt.unit_key("EUR") == fmt.unit_key("eur") == fmt.unit_key("Eur")
    assert fmt.unit_key("m²") == fmt.unit_key("M2")
    assert fmt.unit_key("hours") != fmt.unit_key("hour")


# --- numbers ---------------------------------------------------------------------------------


def test_exact_sums_never_round() -> None:
    largest, smallest = Decimal(numbers.LARGEST_NUMBER), Decimal(numbers.SMALLEST_NUMBER)
    values = [largest, smallest, Decimal("2.5")]
    assert numbers.decimal_text(numbers.exact_sum(values)) == "1000000000000000002.5"
    assert (
        numbers.decimal_text(numbers.exact_difference(largest, smallest))
        == "999999999999999999.999999999998"
    )
    # A total of 2^53 - 1 of the largest numbers (one per entry), and a product of two totals.
    total = numbers.exact_product(largest, Decimal(fmt.MAX_INT))
    assert Fraction(total) == Fraction(numbers.LARGEST_NUMBER) * fmt.MAX_INT
    assert numbers.exact_product(total, total) == Fraction(total) ** 2


def test_normalise_decimal_names_the_bound() -> None:
    with pytest.raises(UsageError) as info:
        normalise.normalise_decimal("1" * 41, "weight")
    assert info.value.message == "weight has 41 digits before the point; accord records at most 18"
    assert info.value.hint == (
        "give weight in a larger unit (thousands, millions): numbers take at most 18 digits "
        "before the point and 12 after it, from 0.000000000001 to "
        "999999999999999999.999999999999"
    )


# --- policies and seqs -------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["\u00b2", "\uff13", "\u0663", "99999", "01", "0", " 1", "1\n"])
def test_a_policy_is_one_to_four_ascii_digits(value: str) -> None:
    with pytest.raises(UsageError):
        normalise.check_policy(value, "approval", allow_any=True)


def test_a_policy_of_four_ascii_digits_is_accepted() -> None:
    normalise.check_policy("9999", "close", allow_any=False)


def test_every_entry_type_has_an_english_noun() -> None:
    assert set(schema.ENTRY_NOUNS) == set(schema.ENTRY_TYPES)
    assert all(n.split(" ", 1)[0] in ("a", "an", "the") for n in schema.ENTRY_NOUNS.values())
    assert schema.entry_noun("approval.given") == "an approval"
    assert schema.entry_noun("refused deliverable.submitted") == "a refused deliverable"
    assert schema.entry_noun("damaged") == "a damaged entry"


# --- texts and files -----------------------------------------------------------------------------


def test_text_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(UsageError, match="not valid UTF-8"):
        normalise.required_text("Posters \udcff", "title")
    with pytest.raises(UsageError, match="not valid UTF-8"):
        normalise.optional_text("\udcff", "purpose")


def test_a_text_file_is_read_with_a_bound(tmp_path: Path) -> None:
    path = tmp_path / "text.md"
    path.write_text("ab€", encoding="utf-8")
    assert read_text_file(path, "text file", limit=3) == "ab€"
    with pytest.raises(UsageError, match="longer than 2 characters"):
        read_text_file(path, "text file", limit=2)
    with pytest.raises(UsageError, match="longer than 10 characters"):
        read_text_file(Path("/dev/zero"), "text file", limit=10)
    with pytest.raises(NotFoundError):
        read_text_file(tmp_path / "missing.md", "text file")


def test_a_pipe_without_a_writer_reads_as_empty_instead_of_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "text.fifo"
    os.mkfifo(fifo)
    assert read_text_file(fifo, "text file") == ""


def test_a_bundle_header_nested_too_deeply_is_a_verification_error(tmp_path: Path) -> None:
    from ledger import bundle

    path = tmp_path / "deep.accord"
    path.write_bytes(b"[" * 10_000 + b"]" * 10_000 + b"\n")
    with bundle.open_bundle(path) as handle, pytest.raises(VerificationError, match="nested"):
        bundle.read_header(handle)
