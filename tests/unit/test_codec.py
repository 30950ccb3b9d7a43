"""The verified state's codec (ledger/codec.py): the fields of the state dataclasses drive it.

It writes exactly the bytes schema 6 wrote before the codec (``verified_schema6.json`` holds
items and cores written by the hand-spelled (de)serialisers it replaced), and it reads a
stored state as hostile input: every value type-checked, every number range-checked.
"""

from __future__ import annotations

import copy
import enum
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ledger import codec, rules

SCHEMA6 = json.loads((Path(__file__).parent / "verified_schema6.json").read_text("utf-8"))
KINDS = {kind: cls for kind, (_, cls) in codec.ITEMS.items()}
DELIVERABLE = next(
    json.loads(data)
    for kind, data in SCHEMA6["items"]
    if kind == "decision" and '"kind":"deliverable"' in data
)


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


@pytest.mark.parametrize(("kind", "data"), SCHEMA6["items"])
def test_every_item_written_before_the_codec_is_read_and_written_back_byte_for_byte(
    kind: str, data: str
) -> None:
    item = codec.decode(KINDS[kind], json.loads(data))
    assert compact(codec.encode(item)) == data


def test_evidence_is_written_as_arrays_of_name_hash_and_size() -> None:
    data = {**DELIVERABLE, "evidence": [["a.pdf", "c" * 64, 12], ["b.txt", "d" * 64, 0]]}
    item = codec.decode(rules.Decision, data)
    assert isinstance(item, rules.Deliverable)
    assert item.evidence == (("a.pdf", "c" * 64, 12), ("b.txt", "d" * 64, 0))
    assert codec.encode(item) == data


@pytest.mark.parametrize("core", SCHEMA6["cores"])
def test_every_core_written_before_the_codec_is_read_and_written_back_byte_for_byte(
    core: str,
) -> None:
    state = rules.new_state("props")
    codec.decode_core("props", json.loads(core), state)
    assert json.dumps(codec.encode_core(state)) == core


def test_a_core_without_cancelled_seq_reads_as_never_cancelled() -> None:
    data = json.loads(SCHEMA6["cores"][0])
    del data["cancelled_seq"]
    state = rules.new_state("props")
    codec.decode_core("props", data, state)
    assert state.cancelled_seq is None


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("seq", True, TypeError),
        ("seq", 4.0, TypeError),
        ("seq", "4", TypeError),
        ("by", None, TypeError),
        ("approvals", [], TypeError),
        ("approvals", {"acme": "6"}, TypeError),
        ("refusal", ["burgerco"], ValueError),
        ("refusal", ["burgerco", 8, "No", "extra"], ValueError),
        ("refusal", "bur", TypeError),
        ("quantity", "1E+2", ValueError),
        ("quantity", "0." + "0" * 12 + "1", ValueError),
        ("evidence", [["a.pdf", "c" * 64]], ValueError),
        ("evidence", [["a.pdf", "c" * 64, "12"]], TypeError),
        ("disputes", [1, None], TypeError),
        ("kind", "bribe", ValueError),
        ("dispute", False, TypeError),
    ],
)
def test_a_damaged_value_of_an_item_is_refused(field: str, value: Any, error: type) -> None:
    data = {**copy.deepcopy(DELIVERABLE), field: value}
    with pytest.raises(error):
        codec.decode(rules.Decision, data)


def test_a_missing_field_of_an_item_is_refused() -> None:
    data = dict(DELIVERABLE)
    del data["summary"]
    with pytest.raises(KeyError):
        codec.decode(rules.Decision, data)


@pytest.mark.parametrize(
    ("path", "value", "error"),
    [
        (("open_disputes",), {"+7": 4}, ValueError),
        (("open_disputes",), {"07": 4}, ValueError),
        (("open_disputes",), {"x": 4}, ValueError),
        (("members", 0, "signers", 0), ["acme", "k", "line"], ValueError),
        (("members", 0, "signers", 0), "acme", TypeError),
        (("members", 0, "keys"), ["k", 1], TypeError),
        (("labels",), {"k": 1}, TypeError),
        (("final_head_seq",), None, TypeError),
        (("members",), {}, TypeError),
    ],
)
def test_a_damaged_value_of_a_core_is_refused(
    path: tuple[Any, ...], value: Any, error: type
) -> None:
    data = json.loads(SCHEMA6["cores"][1])
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(error):
        codec.decode_core("props", data, rules.new_state("props"))


# --- a StrEnum field is read through its type ---------------------------------------------------


class Colour(enum.StrEnum):
    RED = "red"
    BLUE = "blue"


@dataclass
class Painted:
    seq: int
    colour: Colour
    total: Decimal
    was: Colour | None = None
    counts: dict[Colour, int] = field(default_factory=dict)


def test_a_str_enum_field_is_written_as_its_value_and_read_back_as_the_enum() -> None:
    item = Painted(
        seq=1, colour=Colour.BLUE, total=Decimal("2.50"), was=Colour.RED, counts={Colour.RED: 2}
    )
    data = codec.encode(item)
    assert compact(data) == (
        '{"seq":1,"colour":"blue","total":"2.5","was":"red","counts":{"red":2}}'
    )
    back = codec.decode(Painted, json.loads(compact(data)))
    assert back == item
    assert (type(back.colour), type(back.was), type(next(iter(back.counts)))) == (Colour,) * 3


def test_a_str_enum_field_refuses_a_value_outside_the_enum() -> None:
    with pytest.raises(ValueError):
        codec.decode(
            Painted, {"seq": 1, "colour": "green", "total": "1", "was": None, "counts": {}}
        )
    with pytest.raises(ValueError):
        codec.decode(
            Painted, {"seq": 1, "colour": "red", "total": "1", "was": None, "counts": {"x": 1}}
        )
