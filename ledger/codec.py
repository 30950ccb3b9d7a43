"""The verified state's JSON codec, driven by the fields of the rules' state dataclasses.

Every item of the verified state (a pledge, a decision, a statement, a dispute) and the
small part of a project's state (its *core*: terms, members, policies, values...) is stored
as JSON, one object per dataclass with one key per field, in field order. The field's
type annotation says how its value is written and, on the way back in, exactly what is
accepted: a stored state is hostile input (anyone who can write the home could have
written it), so every value is type-checked and every number range-checked, and anything
else raises ``TypeError``, ``ValueError`` or ``KeyError`` (the caller calls it damage).

How a type is stored:

* ``int``, ``str``, ``None``: as themselves (``bool`` is not an ``int`` here); a ``str``
  subclass (a ``StrEnum``) or a ``Literal`` as its text, read back through the type;
* ``Decimal``: as canonical text, read back as a number of an entry (canonical, within the
  bound of format v1), or as a total (:data:`TOTALS`: a sum of such numbers);
* ``list[X]``, ``tuple[X, ...]`` and ``tuple[X, Y]``: as arrays;
* ``dict[str | int, X]``: as objects (an ``int`` key as its decimal text);
* ``dict[K, D]`` where ``D`` is a dataclass: as the array of its values, keyed again by
  the value's first field (a member by its handle, a signer by its label, a value by seq);
* a dataclass: as an object, or as an array of its fields when it is in :data:`ROWS`.

A field added without a new schema version is listed in :data:`ADDED_LATER`: a stored
object without it reads as the field's default. Anything else missing is damage.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping, MutableMapping
from decimal import Decimal
from functools import cache
from typing import Any, Literal, TypeVar

from ledger import rules
from ledger.format import DECIMAL_RE
from ledger.numbers import MAX_FRACTION_DIGITS, MAX_WHOLE_DIGITS, decimal_text, number_excess

T = TypeVar("T")
Encoder = Callable[[Any], Any]
Decoder = Callable[[Any], Any]

# Decimal fields that hold totals (sums of numbers of entries) rather than a number of an entry.
TOTALS = frozenset(
    {(rules.Pledge, "pending"), (rules.Pledge, "approved"), (rules.Pledge, "disputed")}
)
# Dataclasses stored as an array of their fields rather than an object.
ROWS = frozenset({rules.SignerSeat})
# Fields a stored object of this schema version may lack (written before the field existed).
ADDED_LATER = frozenset({(rules.ProjectState, "cancelled_seq")})
# The dataclass of each kind of decision (the ``kind`` field tells them apart).
DECISION_KINDS: dict[str, type[rules.Decision]] = {
    "deliverable": rules.Deliverable,
    "amendment": rules.Amendment,
    "close-short": rules.ShortClose,
}
# The lazily loaded maps of a project's state, by item kind: the attribute and its dataclass.
ITEMS: dict[str, tuple[str, type[Any]]] = {
    "pledge": ("pledges", rules.Pledge),
    "decision": ("decisions", rules.Decision),
    "statement": ("statements", rules.Statement),
    "dispute": ("disputes", rules.Dispute),
}
# Fields of a project's state outside its core: its slug (the key of the row), the lazy maps
# (stored as items) and the entry types (stored in the log index).
NOT_IN_CORE = frozenset({"slug", "types", *(attribute for attribute, _ in ITEMS.values())})
# Names the annotations may use that their module imports only for type checking.
_NAMES: dict[str, Any] = {"Decimal": Decimal, "MutableMapping": MutableMapping, "Mapping": Mapping}


# --- the public codec --------------------------------------------------------------------------


def encode(item: Any) -> Any:
    """JSON-ready form of a state dataclass (a pledge, a decision, a statement, a dispute...)."""
    return _encoder(type(item))(item)


def decode(cls: type[T], data: Any) -> T:
    """An instance of the state dataclass ``cls`` from its JSON form.

    ``rules.Decision`` reads any kind of decision (see :data:`DECISION_KINDS`).

    Raises:
        TypeError: a value of the wrong type.
        ValueError: a value out of range, or an unknown kind of decision.
        KeyError: a field is missing.
    """
    if cls is rules.Decision:
        return typing.cast("T", _decode_decision(data))
    return typing.cast("T", _decoder(cls)(data))


def encode_core(state: rules.ProjectState) -> dict[str, Any]:
    """The small part of a project's state, loaded at once (everything but the lazy maps)."""
    return {name: encode_value(getattr(state, name)) for name, encode_value, _ in _core_plan()}


def decode_core(slug: str, data: Any, state: rules.ProjectState) -> None:
    """Fill ``state`` with the small part read back (see :func:`decode`).

    Raises:
        TypeError: a value of the wrong type.
        ValueError: a value out of range.
        KeyError: a field is missing.
    """
    values = _fields_in(rules.ProjectState, _dict(data), _core_plan())
    state.slug = slug
    for name, value in values.items():
        setattr(state, name, value)


def _decode_decision(data: Any) -> rules.Decision:
    kind = _s(_dict(data)["kind"])
    cls = DECISION_KINDS.get(kind)
    if cls is None:
        raise ValueError(f"unknown decision kind {kind!r}")
    return typing.cast("rules.Decision", _decoder(cls)(data))


# --- plans: one encoder and one decoder per field, built once per dataclass --------------------

_Plan = tuple[tuple[str, Encoder, Decoder], ...]


_PLANS: dict[type[Any], _Plan] = {}
_ENCODERS: dict[type[Any], Encoder] = {}
_DECODERS: dict[type[Any], Decoder] = {}


def _plan(cls: type[Any]) -> _Plan:
    if cls in _PLANS:
        return _PLANS[cls]
    hints = _hints(cls)
    plan = []
    for f in dataclasses.fields(cls):
        if not f.init:
            raise TypeError(f"{cls.__name__}.{f.name} is not set by the constructor")
        if cls is rules.ProjectState and f.name in NOT_IN_CORE:
            continue
        encoder, decoder = _codec(hints[f.name], total=(cls, f.name) in TOTALS)
        plan.append((f.name, encoder, decoder))
    _PLANS[cls] = tuple(plan)
    return _PLANS[cls]


@cache
def _core_plan() -> _Plan:
    """The core's fields: the plain values first, then the containers, each in field order.

    The order only keeps the bytes of the state files written so far.
    """
    plan = _plan(rules.ProjectState)
    hints = _hints(rules.ProjectState)
    plain = [p for p in plan if not _is_container(hints[p[0]])]
    return (*plain, *(p for p in plan if _is_container(hints[p[0]])))


def _hints(cls: type[Any]) -> dict[str, Any]:
    """The resolved annotations of ``cls``, also when its module imports a name only for mypy."""
    try:
        return typing.get_type_hints(cls, localns=_NAMES)
    except NameError:
        names = {name: value for name, value in vars(rules).items() if not name.startswith("_")}
        return typing.get_type_hints(cls, localns={**names, **_NAMES})


def _is_container(hint: Any) -> bool:
    hint = _without_none(hint)
    return typing.get_origin(hint) in (list, tuple, dict) or dataclasses.is_dataclass(hint)


def _without_none(hint: Any) -> Any:
    if typing.get_origin(hint) in (types.UnionType, typing.Union):
        rest = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return hint


def _encoder(cls: type[Any]) -> Encoder:
    if cls not in _ENCODERS:
        plan = _plan(cls)
        if cls in ROWS:
            _ENCODERS[cls] = lambda item: [enc(getattr(item, name)) for name, enc, _ in plan]
        else:
            _ENCODERS[cls] = lambda item: {name: enc(getattr(item, name)) for name, enc, _ in plan}
    return _ENCODERS[cls]


def _decoder(cls: type[Any]) -> Decoder:
    if cls in _DECODERS:
        return _DECODERS[cls]
    plan = _plan(cls)
    if cls in ROWS:

        def decode_row(value: Any) -> Any:
            items = _items(value, len(plan))
            return cls(**{name: dec(v) for (name, _, dec), v in zip(plan, items, strict=True)})

        _DECODERS[cls] = decode_row
    else:
        _DECODERS[cls] = lambda value: cls(**_fields_in(cls, _dict(value), plan))
    return _DECODERS[cls]


def _fields_in(cls: type[Any], data: dict[str, Any], plan: _Plan) -> dict[str, Any]:
    values = {}
    for name, _, dec in plan:
        if name in data or (cls, name) not in ADDED_LATER:
            values[name] = dec(data[name])
        else:
            values[name] = _default(cls, name)
    return values


def _default(cls: type[Any], name: str) -> Any:
    (f,) = (f for f in dataclasses.fields(cls) if f.name == name)
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    if f.default is dataclasses.MISSING:
        raise TypeError(f"{cls.__name__}.{name} is added later but has no default")
    return f.default


def _codec(hint: Any, *, total: bool = False) -> tuple[Encoder, Decoder]:
    """The encoder and the strict decoder of a value of type ``hint``."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is int:
        return _same, _i
    if hint is str:
        return _same, _s
    if hint is Decimal:
        return decimal_text, _quantity if total else _decimal
    if _is_text(hint):  # a StrEnum
        return str, lambda v: hint(_s(v))
    if origin is Literal and all(isinstance(a, str) for a in args):
        return _same, lambda v: _choice(_s(v), args)
    if origin in (types.UnionType, typing.Union) and _without_none(hint) is not hint:
        enc, dec = _codec(_without_none(hint), total=total)
        optional_enc = _same if enc is _same else (lambda v: None if v is None else enc(v))
        return optional_enc, (lambda v: None if v is None else dec(v))
    if origin is list:
        enc, dec = _codec(args[0], total=total)
        return (lambda v: [enc(x) for x in v]), (lambda v: [dec(x) for x in _list(v)])
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        enc, dec = _codec(args[0], total=total)
        return (lambda v: [enc(x) for x in v]), (lambda v: tuple(dec(x) for x in _list(v)))
    if origin is tuple and args == (int, Decimal) and not total:  # a pledge's acceptances
        return (lambda v: [v[0], decimal_text(v[1])]), _seq_and_number
    if origin is tuple and args:
        codecs = [_codec(a, total=total) for a in args]
        encs, decs = [c[0] for c in codecs], [c[1] for c in codecs]
        return (
            lambda v: [enc(x) for enc, x in zip(encs, v, strict=True)],
            lambda v: tuple(dec(x) for dec, x in zip(decs, _items(v, len(decs)), strict=True)),
        )
    if origin is dict and dataclasses.is_dataclass(args[1]):
        key = dataclasses.fields(args[1])[0].name
        enc, dec = _codec(args[1])
        return (
            lambda v: [enc(x) for x in v.values()],
            lambda v: {getattr(item, key): item for item in (dec(x) for x in _list(v))},
        )
    if origin is dict and (args[0] is int or _is_text(args[0])):
        enc, dec = _codec(args[1], total=total)
        key_dec = _int_key if args[0] is int else _codec(args[0])[1]
        return (
            lambda v: {str(k): enc(x) for k, x in v.items()},
            lambda v: {key_dec(k): dec(x) for k, x in _dict(v).items()},
        )
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _encoder(hint), _decoder(hint)
    raise TypeError(f"the verified state cannot store a {hint!r}")


def _is_text(hint: Any) -> bool:
    return isinstance(hint, type) and issubclass(hint, str)


# --- strict readers of stored values ------------------------------------------------------------


def _same(v: Any) -> Any:
    return v


def _s(v: Any) -> str:
    if not isinstance(v, str):
        raise TypeError("expected text")
    return v


def _i(v: Any) -> int:
    if not isinstance(v, int) or isinstance(v, bool):
        raise TypeError("expected an integer")
    return v


def _int_key(v: Any) -> int:
    """An integer key of an object, written as its decimal text."""
    number = int(_s(v))
    if str(number) != v:
        raise ValueError("expected an integer key")
    return number


def _choice(v: str, allowed: tuple[str, ...]) -> str:
    if v not in allowed:
        raise ValueError(f"expected one of {', '.join(allowed)}")
    return v


def _list(v: Any) -> list[Any]:
    if not isinstance(v, list):
        raise TypeError("expected a list")
    return v


def _items(v: Any, count: int) -> list[Any]:
    if len(_list(v)) != count:
        raise ValueError(f"expected a list of {count} items")
    return typing.cast("list[Any]", v)


def _seq_and_number(v: Any) -> tuple[int, Decimal]:
    """A ``tuple[int, Decimal]`` as the general tuple reader reads it, with less overhead.

    A long pledge holds one such pair per acceptance, read on every load of the pledge.
    """
    return (_i(_items(v, 2)[0]), _decimal(v[1]))


def _dict(v: Any) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise TypeError("expected an object")
    return v


def _decimal(v: Any) -> Decimal:
    """A number of an entry (weight, quantity, worth), canonical and within the bound.

    Raises:
        ValueError: anything else (the item is damaged).
    """
    if not (isinstance(v, str) and DECIMAL_RE.fullmatch(v)) or number_excess(v) is not None:
        raise ValueError("expected a decimal")
    return Decimal(v)


def _quantity(v: Any) -> Decimal:
    """A stored total: the text of a finite decimal >= 0 (ValueError for anything else).

    Totals are written in canonical plain form (:func:`ledger.numbers.decimal_text`); files
    of earlier versions wrote ``str(Decimal)``, so exponents and trailing zeros are read
    too. A total is a sum of at most 2^53 bounded numbers: more than
    :data:`~ledger.numbers.MAX_FRACTION_DIGITS` decimals, 16 digits more than a number has
    before the point, NaN, an infinity or a negative is damage.
    """
    try:
        number = Decimal(_s(v))
    except ArithmeticError:
        raise ValueError("expected a number") from None
    if not number.is_finite() or number < 0:
        raise ValueError("expected a finite number >= 0")
    exponent = number.as_tuple().exponent
    if not isinstance(exponent, int) or exponent < -MAX_FRACTION_DIGITS:
        raise ValueError("expected a total with at most the decimals of format v1")
    if number.adjusted() >= MAX_WHOLE_DIGITS + 16:
        raise ValueError("expected a total within the bound of format v1")
    return number


def _check_plans() -> None:
    """Build every plan at import: a field of a type the codec cannot store fails here."""
    for _, cls in ITEMS.values():
        if cls is not rules.Decision:
            _plan(cls)
    for cls in DECISION_KINDS.values():
        _plan(cls)
    _core_plan()


_check_plans()
