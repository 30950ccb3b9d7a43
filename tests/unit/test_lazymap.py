"""The lazy, seq-keyed maps of the verified state: what they load, and when."""

from __future__ import annotations

from collections.abc import Iterable

from ledger.lazymap import LazyMap


class Source:
    """Items 2, 5 and 9, counting what is decoded."""

    def __init__(self) -> None:
        self.items = {2: "two", 5: "five", 9: "nine"}
        self.decoded: list[int] = []

    def one(self, seq: int) -> str | None:
        if seq in self.items:
            self.decoded.append(seq)
        return self.items.get(seq)

    def everything(self) -> Iterable[tuple[int, str]]:
        for seq in sorted(self.items):
            self.decoded.append(seq)
            yield seq, self.items[seq]

    def keys(self) -> list[int]:
        return sorted(self.items)


def test_seqs_lists_every_key_without_decoding_an_item() -> None:
    source = Source()
    lazy = LazyMap(source.one, source.everything, source.keys)
    assert lazy.seqs() == [2, 5, 9]
    assert source.decoded == []
    assert lazy[5] == "five"
    assert source.decoded == [5]


def test_seqs_include_the_items_set_since_loading() -> None:
    source = Source()
    lazy = LazyMap(source.one, source.everything, source.keys)
    lazy[12] = "twelve"  # a new item the rules set, not yet written back
    assert lazy.seqs() == [2, 5, 9, 12]
    assert source.decoded == []


def test_without_a_key_loader_seqs_loads_everything() -> None:
    source = Source()
    lazy = LazyMap(source.one, source.everything)
    assert lazy.seqs() == [2, 5, 9]
    assert source.decoded == [2, 5, 9]
    assert lazy.seqs() == [2, 5, 9]  # loaded once
    assert source.decoded == [2, 5, 9]


def many_of(source: Source):
    def many(seqs: list[int]) -> Iterable[tuple[int, str]]:
        for seq in seqs:
            if seq in source.items:
                source.decoded.append(seq)
                yield seq, source.items[seq]

    return many


def test_peek_reads_a_page_without_keeping_it() -> None:
    source = Source()
    lazy = LazyMap(source.one, source.everything, source.keys, load_many=many_of(source))
    assert lazy.peek([9, 2, 7]) == {2: "two", 9: "nine"}  # 7: no such item
    assert source.decoded == [2, 9]
    assert lazy.peek([2]) == {2: "two"}
    assert source.decoded == [2, 9, 2]  # read again: nothing was kept
    assert lazy.touched() == {}  # nothing to write back either


def test_peek_gives_the_items_held_as_they_are_held() -> None:
    source = Source()
    lazy = LazyMap(source.one, source.everything, source.keys, load_many=many_of(source))
    lazy[5] = "five, changed"  # changed by the rules, not written back yet
    lazy[12] = "twelve"
    assert lazy.peek([5, 9, 12]) == {5: "five, changed", 9: "nine", 12: "twelve"}
    assert source.decoded == [9]
