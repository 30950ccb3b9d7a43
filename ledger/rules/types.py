"""The record that declares an entry type, and the table of every declared type.

Each family module of ``ledger/rules/`` declares its entry types once, at its end, with
:func:`declare`: the type's name, its noun, the exact schema of its body, the rule handler,
the body builder of the command that writes it, its one-line summary and (for a decision or a
signature) the subject its receipt names. Importing ``ledger.rules`` imports every family, so
:data:`TYPES` is complete before anything reads it; ``registry.py`` lists the families and
orders the table by ``position``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from ledger.entry import SignedEntry
    from ledger.rules.state import ProjectState

Check = Callable[[Any], bool]
Handler = Callable[["ProjectState", "SignedEntry"], Callable[[], None]]
Summary = Callable[[dict[str, Any], "ProjectState | None"], str]
Subject = Callable[["ProjectState", "SignedEntry"], dict[str, Any]]
Build = Callable[["ProjectState"], dict[str, Any]]  # the body, from the state it follows


class ListBound(NamedTuple):
    """The list in a body that grows with what its signer chose, and how long it may be."""

    key: str
    most: int
    word: str  # what its items are called in a refusal
    hint: str


@dataclass(frozen=True)
class EntryType:
    """One entry type of format v1, declared once beside its rules.

    ``schema`` holds the check of every required body key and ``optional`` those a body may
    carry or leave out (an entry without them keeps its earlier meaning). ``numbers`` lists the
    paths of the body's numbers (bounded by ``check_numbers``), ``list_bound`` its growing list.
    ``summary(body_data, state)`` reads the state just before the entry when it has one;
    ``subject(state, entry)`` the state right after it. ``build`` takes the command's input
    and returns the :data:`Build` that makes the body from the state the entry follows.
    """

    kind: str
    position: int  # in format v1's list of types, the order they were added in (from 1)
    noun: str  # with its article, for messages: "an approval"
    schema: Mapping[str, Check]
    handler: Handler
    summary: Summary
    subject: Subject | None = None
    build: Callable[..., Build] | None = None  # the body builder of the command that writes it
    optional: Mapping[str, Check] = field(default_factory=dict)
    numbers: tuple[tuple[str, ...], ...] = ()
    list_bound: ListBound | None = None


TYPES: dict[str, EntryType] = {}


def declare(*types: EntryType) -> None:
    """Add entry types to :data:`TYPES` (each family declares its own, once).

    Raises:
        ValueError: a type is declared twice.
    """
    for entry_type in types:
        if entry_type.kind in TYPES:
            raise ValueError(f"entry type {entry_type.kind} is declared twice")
        if any(t.position == entry_type.position for t in TYPES.values()):
            raise ValueError(f"entry type {entry_type.kind} takes a position already taken")
        TYPES[entry_type.kind] = entry_type


def entry_noun(kind: str) -> str:
    """An English noun with its article for an entry type, for messages ("an approval").

    Also names the verifier's placeholders for rows it could not apply ("a damaged entry",
    "a refused deliverable").
    """
    if kind in TYPES:
        return TYPES[kind].noun
    if kind.startswith("refused "):
        declared = TYPES.get(kind.removeprefix("refused "))
        return f"a refused {declared.noun.split(' ', 1)[1]}" if declared else "a refused entry"
    if kind == "damaged":
        return "a damaged entry"
    return "an entry of an unknown type"


def names(handles: list[str]) -> str:
    """``acme, burgerco``, or ``nobody`` (for summaries)."""
    return ", ".join(handles) if handles else "nobody"
