"""A seq-keyed map that loads its items from the verified state file on first use."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from typing import Generic, TypeVar

AUTOLOAD_AFTER = 4096  # point misses after which a lazy map loads everything at once
MAX_SEQ = 2**53 - 1  # the largest seq format v1 allows
V = TypeVar("V")


class LazyMap(MutableMapping[int, V], Generic[V]):
    """A seq-keyed map loaded from the state file on first use, written back on save.

    The rules reach every item they change by its key (``map[seq]`` or ``map.get(seq)``)
    and change it in place, so the items reached by key, and those set, are written back
    on save; items only iterated over (by the read views) are not.
    """

    def __init__(
        self,
        load_one: Callable[[int], V | None],
        load_all: Callable[[], Iterable[tuple[int, V]]],
        load_keys: Callable[[], Iterable[int]] | None = None,
        load_open: tuple[Callable[[], Iterable[int]], Callable[[V], bool]] | None = None,
        load_many: Callable[[list[int]], Iterable[tuple[int, V]]] | None = None,
    ) -> None:
        """Load items one by one or all at once; list keys, and open keys, without decoding.

        ``load_keys`` lists the stored keys; ``load_open`` gives the stored keys flagged
        open, and the test of openness of the items held here (changed since stored).
        """
        self._one = load_one
        self._all = load_all
        self._keys = load_keys
        self._open = load_open
        self._many = load_many
        self._cache: dict[int, V] = {}
        self._absent: set[int] = set()
        self._complete = False
        self._misses = 0
        self._touched: set[int] = set()

    def _load_everything(self) -> None:
        if self._complete:
            return
        for key, value in self._all():
            self._cache.setdefault(key, value)
        self._absent.clear()
        self._complete = True

    def __getitem__(self, key: int) -> V:
        if key in self._cache:
            self._touched.add(key)
            return self._cache[key]
        if self._complete or key in self._absent or not isinstance(key, int):
            raise KeyError(key)
        if not 0 < key <= MAX_SEQ:  # no such seq, and SQLite could not even bind it
            raise KeyError(key)
        self._misses += 1
        if self._misses > AUTOLOAD_AFTER:
            self._load_everything()
            self._touched.add(key)
            return self._cache[key]
        value = self._one(key)
        if value is None:
            self._absent.add(key)
            raise KeyError(key)
        self._cache[key] = value
        self._touched.add(key)
        return value

    def __setitem__(self, key: int, value: V) -> None:
        self._cache[key] = value
        self._absent.discard(key)
        self._touched.add(key)

    def __delitem__(self, key: int) -> None:
        raise TypeError("the rules never forget an item")

    def __iter__(self) -> Iterator[int]:
        self._load_everything()
        return iter(sorted(self._cache))

    def seqs(self) -> list[int]:
        """Every key, in order, without decoding the items that are not loaded yet."""
        if self._complete or self._keys is None:
            return list(self)
        return sorted(set(self._keys()) | set(self._cache))

    def open_seqs(self) -> list[int]:
        """The keys of the open items, in order, decoding no item that is not loaded yet.

        The stored flags stand for the stored items; an item held here may have changed
        since, so its own test decides.

        Raises:
            TypeError: the map was made without ``load_open``.
        """
        if self._open is None:
            raise TypeError("this map keeps no open flags")
        load_open, is_open = self._open
        found = set() if self._complete else set(load_open())
        for key, value in self._cache.items():
            if is_open(value):
                found.add(key)
            else:
                found.discard(key)
        return sorted(found)

    def peek(self, keys: Iterable[int]) -> dict[int, V]:
        """The items of ``keys`` that exist, read without keeping them (a report's pages).

        Items held here are given as held; the others are decoded for this call only, so
        going through a long project a page at a time holds one page, not the project.
        """
        wanted = sorted(set(keys))
        found = {key: self._cache[key] for key in wanted if key in self._cache}
        missing = [key for key in wanted if key not in found]
        if not missing or self._complete:
            return found
        if self._many is None:
            return {**found, **{key: self[key] for key in missing if key in self}}
        found.update(self._many(missing))
        return found

    def __len__(self) -> int:
        self._load_everything()
        return len(self._cache)

    def touched(self) -> dict[int, V]:
        """The items reached by key or set (to write back)."""
        return {key: self._cache[key] for key in self._touched if key in self._cache}


PAGE = 500  # items decoded at a time by :func:`in_pages`


def peek(items: Mapping[int, V], keys: Iterable[int]) -> dict[int, V]:
    """The items of ``keys`` that exist; from a lazy map, read without keeping them."""
    if isinstance(items, LazyMap):
        return items.peek(keys)
    return {key: items[key] for key in keys if key in items}


def in_pages(items: MutableMapping[int, V]) -> Iterator[V]:
    """Every item in seq order; from a lazy map, read a page at a time and not kept.

    For reads that go through every item once (a full listing, a report): memory holds a
    page, not the project. Any other mapping is read as it is.
    """
    if not isinstance(items, LazyMap):
        yield from (items[key] for key in sorted(items))
        return
    keys = items.seqs()
    for start in range(0, len(keys), PAGE):
        page = keys[start : start + PAGE]
        read = items.peek(page)
        yield from (read[key] for key in page if key in read)
