"""The bound on numbers of format v1 and the arithmetic over it (issue 20, class 4).

One bound (ledger/format.py: 18 digits before the point, 12 after) serves the CLI (a usage
error), the rules (a rule violation for an entry appended or replayed, whatever path it came
by), and so the relay and the verifier; every projection is total within it. The verified
state keeps numbers in canonical plain form (class 9).
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from ledger import codec, entry, normalise, numbers, rules
from ledger import format as fmt
from ledger.application import Ledger
from ledger.errors import RuleViolationError, UsageError
from ledger.fold import Row, check_batch, verify_stream
from ledger.keys import Signer
from ledger.rules import schema
from projections.contributions import fraction_decimal, percent_text, ratio_text

SLUG = "numbers"
LARGEST, SMALLEST = numbers.LARGEST_NUMBER, numbers.SMALLEST_NUMBER


# --- the bound -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "excess"),
    [
        (SMALLEST, None), (LARGEST, None), ("1", None), ("9" * 18, None), ("0.5", None),
        ("1" + "0" * 18, ("before", 19)), ("0.0000000000001", ("after", 13)),
        ("1" * 200_000, ("before", 200_000)), ("0." + "0" * 37 + "1", ("after", 38)),
        ("1" * 19 + "." + "1" * 13, ("before", 19)),
    ],
)  # fmt: skip
def test_number_excess_counts_the_digits_before_and_after_the_point(
    text: str, excess: tuple[str, int] | None
) -> None:
    assert numbers.number_excess(text) == excess


def test_the_bound_is_18_digits_before_the_point_and_12_after() -> None:
    bound = (numbers.MAX_WHOLE_DIGITS, numbers.MAX_FRACTION_DIGITS, numbers.MAX_NUMBER)
    assert bound == (18, 12, 31)
    assert Fraction(LARGEST) == 10**18 - Fraction(1, 10**12)
    assert Fraction(SMALLEST) == Fraction(1, 10**12)


@pytest.mark.parametrize(
    ("given", "expected"),
    [(LARGEST, LARGEST), (SMALLEST, SMALLEST), ("00012.500000000000000000", "12.5"),
     ("0" * 40 + "1", "1"), ("." + "0" * 11 + "1", SMALLEST)],
)  # fmt: skip
def test_normalise_decimal_accepts_the_whole_range_in_canonical_form(
    given: str, expected: str
) -> None:
    assert normalise.normalise_decimal(given, "quantity") == expected


@pytest.mark.parametrize(
    ("given", "message", "hint"),
    [
        ("0.1234567890125", "quantity has 13 digits after the point; accord records at most 12",
         "write it as 0.123456789012 (rounded to 12 decimals), or give quantity in a smaller "
         "unit"),
        ("0.0000000000004", "quantity has 13 digits after the point; accord records at most 12",
         f"give quantity in a smaller unit: numbers take {numbers.NUMBER_FORM}"),
        ("999999999999999999.9999999999995", "quantity has 13 digits after the point; accord "
         "records at most 12",
         f"give quantity in a smaller unit: numbers take {numbers.NUMBER_FORM}"),
        ("1" * 19, "quantity has 19 digits before the point; accord records at most 18",
         f"give quantity in a larger unit (thousands, millions): numbers take "
         f"{numbers.NUMBER_FORM}"),
        ("1e30", "quantity '1e30' is not a number",
         f"give quantity without an exponent, with {numbers.NUMBER_FORM}"),
        ("1e-13", "quantity '1e-13' is not a number",
         f"give quantity without an exponent, with {numbers.NUMBER_FORM}"),
        ("1e-12", "quantity '1e-12' is not a number",
         "write it as 0.000000000001: numbers take no exponent"),
        ("1,000,000,000,000,000,000", "quantity '1,000,000,000,000,000,000' is not a number",
         f"write quantity without thousands separators, with {numbers.NUMBER_FORM}"),
        ("0,0000000000001", "quantity '0,0000000000001' is not a number",
         f"write quantity with a decimal point, not a comma, and {numbers.NUMBER_FORM}"),
        ("1" + "0" * 20 + " EUR", f"quantity '1{'0' * 20} EUR' is not a number",
         f"give the number alone, with {numbers.NUMBER_FORM}; the unit is given separately"),
    ],
)  # fmt: skip
def test_normalise_decimal_refuses_a_number_beyond_the_bound_with_the_accepted_form(
    given: str, message: str, hint: str
) -> None:
    with pytest.raises(UsageError) as info:
        normalise.normalise_decimal(given, "quantity")
    assert (info.value.message, info.value.hint) == (message, hint)


def test_the_fields_that_hold_numbers_are_every_decimal_of_the_body_schemas() -> None:
    decimal_fields = {
        (kind, name)
        for kind, schema in schema.BODY_SCHEMAS.items()
        for name, check in schema.items()
        if check is fmt.is_decimal
    }
    bounded = {(kind, path[-1]) for kind, paths in schema.NUMBER_FIELDS.items() for path in paths}
    assert decimal_fields | {("pledge.amended", "weight")} == bounded


@pytest.mark.parametrize(
    ("kind", "body", "message"),
    [
        ("pledge.made", {"weight": "1" * 19},
         "the weight of a pledge has 19 digits before the point; accord records at most 18"),
        ("pledge.amended", {"changes": {"weight": "0." + "0" * 12 + "1"}},
         "the weight of an amendment has 13 digits after the point; accord records at most 12"),
        ("deliverable.submitted", {"quantity": "1" * 200_000},
         "the quantity of a deliverable has 200000 digits before the point; accord records "
         "at most 18"),
        ("value.proposed", {"worth": "1." + "1" * 13},
         "the worth of a value proposal has 13 digits after the point; accord records at "
         "most 12"),
    ],
)  # fmt: skip
def test_check_numbers_refuses_a_number_beyond_the_bound_as_a_rule_violation(
    kind: str, body: dict[str, Any], message: str
) -> None:
    with pytest.raises(RuleViolationError) as info:
        schema.check_numbers(kind, body)
    assert info.value.message == message
    assert info.value.hint == (
        f"numbers in entries have {numbers.NUMBER_FORM} (docs/format.md, Numbers)"
    )


def test_check_numbers_accepts_the_extremes_and_ignores_other_fields() -> None:
    schema.check_numbers("pledge.made", {"weight": LARGEST, "title": "1" * 50})
    schema.check_numbers("deliverable.submitted", {"quantity": SMALLEST})
    schema.check_numbers("pledge.amended", {"changes": {"title": "1" * 50}})
    schema.check_numbers("statement.proposed", {"text": "1" * 50})


# --- the rules: appended, replayed, relayed --------------------------------------------------


def started(ledger: Ledger, signers: dict[str, Signer]) -> None:
    ledger.propose_project(
        SLUG, title="Numbers", purpose="", members={"burgerco": None}, approval="all",
        close="all", signer=signers["acme"],
    )  # fmt: skip
    ledger.join_project(SLUG, signer=signers["burgerco"])


def signed(state: rules.ProjectState, signer: Signer, kind: str, body: dict[str, Any]) -> Any:
    data = {
        "v": 1, "project": SLUG, "seq": state.seq + 1, "prev": state.head, "type": kind,
        "by": signer.handle, "key": signer.fingerprint, "at": "2026-11-22T12:00:00Z",
        "body": body,
    }  # fmt: skip
    return entry.sign(data, signer.private_key)


PLEDGE = {"title": "T", "unit": "hours", "due": "2099-12-15", "beneficiaries": ["burgerco"]}


@pytest.mark.parametrize("weight", ["1" * 200_000, "0." + "0" * 37 + "1", "1" + "0" * 18])
def test_an_entry_signed_elsewhere_beyond_the_bound_is_refused_and_nothing_is_stored(
    memory_ledger: Ledger, signers: dict[str, Signer], weight: str
) -> None:
    started(memory_ledger, signers)
    state = memory_ledger.get_state(SLUG)
    item = signed(state, signers["acme"], "pledge.made", {**PLEDGE, "weight": weight})
    before = copy.deepcopy(state)

    with pytest.raises(RuleViolationError) as info:
        memory_ledger.append_signed(SLUG, [item])  # what a relay and a pull do

    assert info.value.seq == 3
    assert info.value.message.startswith("the weight of a pledge has ")
    assert memory_ledger.count_rows(SLUG) == 2
    assert memory_ledger.get_state(SLUG) == before


def test_a_stored_log_with_a_number_beyond_the_bound_is_a_rule_problem_in_verify(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    started(memory_ledger, signers)
    rows = [
        Row(position=i, text=raw.text, sig=raw.sig, hash=raw.hash)
        for i, raw in enumerate(memory_ledger.read_raw(SLUG), start=1)
    ]
    state = memory_ledger.get_state(SLUG)
    item = signed(state, signers["acme"], "pledge.made", {**PLEDGE, "weight": "1" * 200_000})
    forged = Row(position=3, text=item.text, sig=item.sig, hash=item.hash)

    keys = {signers["acme"].fingerprint: signers["acme"].public_key_line}
    assert check_batch([(item.text, item.sig)], keys) == [(None, None)]  # the shape of v1
    report = verify_stream(SLUG, [*rows, forged], workers=1)

    assert [(p.seq, p.kind, p.cause) for p in report.problems] == [
        (3, "rule", "the weight of a pledge has 200000 digits before the point; accord "
         "records at most 18"),
    ]  # fmt: skip


# --- projections: total over every number the bound admits ----------------------------------


@pytest.mark.parametrize(
    ("ratio", "places", "text"),
    [
        (Fraction(1, 3), 4, "0.3333"), (Fraction(2, 3), 4, "0.6667"), (Fraction(1), 4, "1.0000"),
        (Fraction(0), 4, "0.0000"), (Fraction(1, 8), 2, "0.12"), (Fraction(3, 8), 2, "0.38"),
        (Fraction(5, 2), 0, "2"),
        # A delivery of the largest number on a weight of the smallest, and beyond.
        (Fraction(LARGEST) / Fraction(SMALLEST), 4, "999999999999999999999999999999.0000"),
        (Fraction(10**80, 3), 4, "3" * 80 + ".3333"),
        (Fraction(1, 10**40), 4, "0.0000"),
    ],
)  # fmt: skip
def test_ratio_text_rounds_half_to_even_whatever_the_size_of_the_ratio(
    ratio: Fraction, places: int, text: str
) -> None:
    assert ratio_text(ratio, places) == text


def test_percent_text_shows_any_ratio() -> None:
    huge = Fraction(3 * 10**18) / Fraction(SMALLEST)
    assert percent_text(huge) == "3" + "0" * 32 + ".0%"
    assert percent_text(Fraction(1, 3)) == "33.3%"


def test_fraction_decimal_is_exact_beyond_the_default_precision() -> None:
    product = Fraction(LARGEST) * Fraction(LARGEST)
    assert numbers.decimal_text(fraction_decimal(product)) == (
        "999999999999999999999999999998000000.000000000000000000000001"
    )
    assert fraction_decimal(Fraction(SMALLEST) * Fraction(SMALLEST)) == Decimal("1e-24")


# --- the verified state: canonical plain form (class 9) ----------------------------------------


def test_the_verified_state_writes_numbers_in_canonical_plain_form_and_reads_them_back() -> None:
    value = rules.ValueProposal(
        seq=3, by="acme", hash="a" * 64, unit="hours", worth=Decimal("0.0000001"),
        reference="EUR", reason="r",
    )  # fmt: skip
    pledge = rules.Pledge(
        seq=4, by="acme", title="t", weight=Decimal(LARGEST), unit="hours", due="2099-12-15",
        beneficiaries=("burgerco",), hash="b" * 64,
    )  # fmt: skip
    pledge.pending = numbers.exact_difference(Decimal("1.000000000001"), Decimal("1.000000000001"))
    pledge.approved = numbers.exact_sum([Decimal("0.5"), Decimal("0.5")])
    pledge.accepted = [(5, Decimal(SMALLEST))]

    value_text = json.loads(json.dumps(codec.encode(value)))
    pledge_text = json.loads(json.dumps(codec.encode(pledge)))

    assert value_text["worth"] == "0.0000001"
    assert (pledge_text["weight"], pledge_text["pending"], pledge_text["approved"]) == (
        LARGEST, "0", "1",
    )  # fmt: skip
    assert pledge_text["accepted"] == [[5, SMALLEST]]
    assert codec.decode(rules.ValueProposal, value_text) == value
    assert codec.decode(rules.Pledge, pledge_text) == pledge


@pytest.mark.parametrize(
    "total", ["1E-7", "1.50", "0E-12", "123456789012345678901234567890123.5", "1E+20"]
)
def test_totals_written_by_earlier_versions_are_still_read(total: str) -> None:
    assert codec._quantity(total) == Decimal(total)


@pytest.mark.parametrize(
    "bad", ["1E+999999999", "1E-13", "1" * 35, "NaN", "-1", "Infinity", "0E+999999999"]
)
def test_a_total_beyond_what_bounded_numbers_can_add_up_to_is_damage(bad: str) -> None:
    with pytest.raises(ValueError):
        codec._quantity(bad)


@pytest.mark.parametrize("bad", ["1E-7", "1.50", "1" * 19, "0." + "0" * 12 + "1", "-1", 1])
def test_an_entry_number_in_the_state_file_must_be_canonical_and_bounded(bad: str) -> None:
    with pytest.raises(ValueError):
        codec._decimal(bad)
