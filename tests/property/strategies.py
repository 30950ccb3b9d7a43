"""Hypothesis strategies for signed entries: JSON values without floats, keys, reorderings."""

from __future__ import annotations

import random
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import strategies as st

# RFC 8785 numbers are IEEE doubles: integers are exact only within +-(2**53 - 1).
SAFE_INT = 2**53 - 1

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-SAFE_INT, max_value=SAFE_INT)
    | st.text()  # Hypothesis leaves out lone surrogates, which are not UTF-8
)

json_values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5)
    ),
    max_leaves=20,
)

entries: st.SearchStrategy[dict[str, Any]] = st.dictionaries(st.text(), json_values, max_size=8)
"""Arbitrary JSON objects without floats: what canonical_bytes and sign accept."""

private_keys: st.SearchStrategy[Ed25519PrivateKey] = st.binary(min_size=32, max_size=32).map(
    Ed25519PrivateKey.from_private_bytes
)


def shuffled(value: Any, rnd: random.Random) -> Any:
    """Return a copy of ``value`` with the keys of every object in a random order."""
    if isinstance(value, dict):
        keys = list(value)
        rnd.shuffle(keys)
        return {key: shuffled(value[key], rnd) for key in keys}
    if isinstance(value, list):
        return [shuffled(item, rnd) for item in value]
    return value
