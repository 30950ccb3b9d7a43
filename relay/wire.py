"""What the relay reads and writes on the wire: strict request parsing, proofs, errors.

Request bodies are parsed strictly and nothing in them is trusted beyond what is checked
here: entries are JSON lines of bundle rows (``{"entry", "sig", "hash"}``), each loaded with
:func:`ledger.entry.load` (canonical text, signature encoding, hash recomputed), all naming
the path's project with consecutive seqs. Its errors are in ``relay/errors.py``.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ledger import entry as entry_mod
from ledger.errors import LedgerError
from ledger.format import MAX_ENTRY_BYTES, SLUG_RE
from relay.errors import MalformedRequestError, NotReadableError, RelayStateError
from relay.merkle import leaf_hash, node_hash, verify_inclusion

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

MAX_ROWS = 100
# A bundle row escapes the entry text once more, beside 184 bytes of keys, signature, hash
# and newline: in UTF-8 (bundle_line) each byte of the entry takes at most two (a quote or a
# backslash), with \u escapes at most three (a 4-byte character takes 12, "\ud83d\ude00").
MAX_ROW_BYTES = 3 * MAX_ENTRY_BYTES + 184
# One page of GET .../entries holds rows up to this many bytes, and always at least one row:
# no page is larger than max(MAX_PAGE_BYTES, MAX_ROW_BYTES) = MAX_PAGE_BYTES.
MAX_PAGE_BYTES = 4 << 20
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
_ROW_KEYS = frozenset({"entry", "sig", "hash"})


def check_slug(slug: str) -> str:
    """Return ``slug`` if it is a valid project slug.

    Raises:
        NotReadableError: it is not (such a project cannot exist).
    """
    if not isinstance(slug, str) or not SLUG_RE.match(slug):
        raise NotReadableError
    return slug


def parse_rows(body: bytes, *, slug: str | None) -> list[entry_mod.SignedEntry]:
    """Parse 1..100 bundle rows (JSON lines) into entries of ``slug`` with consecutive seqs.

    With ``slug`` None (a new project) the rows must hold exactly one ``project.proposed``.

    Raises:
        MalformedRequestError: anything malformed (see the module docstring).
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedRequestError("the body is not UTF-8") from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        raise MalformedRequestError("the body holds no bundle row")
    if len(lines) > MAX_ROWS:
        raise MalformedRequestError(f"at most {MAX_ROWS} bundle rows per request")
    entries = [_parse_row(line, number) for number, line in enumerate(lines, 1)]
    first = entries[0]
    if slug is None:
        if len(entries) != 1 or first.type != "project.proposed" or first.seq != 1:
            raise MalformedRequestError("a new project is one bundle row holding project.proposed")
        return entries
    for number, item in enumerate(entries, 1):
        if item.data.get("project") != slug:
            raise MalformedRequestError(f"row {number} names another project than {slug!r}")
        if item.seq != first.seq + number - 1:
            raise MalformedRequestError(f"row {number} does not continue the seqs before it")
    return entries


def _parse_row(line: str, number: int) -> entry_mod.SignedEntry:
    try:
        row: Any = json.loads(line)
    except (ValueError, RecursionError):
        raise MalformedRequestError(f"row {number} is not JSON") from None
    if not isinstance(row, dict) or set(row) != _ROW_KEYS:
        raise MalformedRequestError(f"row {number} is not a bundle row {{entry, sig, hash}}")
    text, sig, digest = row["entry"], row["sig"], row["hash"]
    if not all(isinstance(v, str) for v in (text, sig, digest)) or not _HEX64.match(digest):
        raise MalformedRequestError(f"row {number} is not a bundle row {{entry, sig, hash}}")
    try:
        item = entry_mod.load(text, sig, digest)
    except LedgerError as exc:
        raise MalformedRequestError(f"row {number}: {exc.message}") from None
    seq, kind, project = item.data.get("seq"), item.data.get("type"), item.data.get("project")
    if type(seq) is not int or seq < 1 or not isinstance(kind, str):
        raise MalformedRequestError(f"row {number} has no valid seq and type")
    if not isinstance(project, str) or not SLUG_RE.match(project):
        raise MalformedRequestError(f"row {number} names no valid project")
    return item


def parse_count(value: str | None, *, name: str, default: int, low: int, high: int) -> int:
    """Parse a query parameter holding a decimal count in ``[low, high]``.

    Raises:
        MalformedRequestError: not plain decimal digits, or out of range.
    """
    if value is None:
        return default
    if (
        not (value.isascii() and value.isdigit())
        or len(value) > 19
        or not low <= int(value) <= high
    ):
        raise MalformedRequestError(f"{name} must be a whole number in [{low}, {high}]")
    return int(value)


def bundle_line(text: str, sig: str, digest: str) -> str:
    """One bundle row (``accord/bundle/v1``), as ``accord export`` writes it, with newline."""
    row = {"entry": text, "sig": sig, "hash": digest}
    return json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"


# --- inclusion proofs --------------------------------------------------------------------


@dataclass
class TreeView:
    """Just enough of an RFC 6962 tree to prove inclusion of leaves.

    ``known`` maps ``(start, end)`` to the root of that range (the perfect subtrees of a
    :class:`~relay.merkle.Frontier`), and ``leaf(index)`` returns leaf hashes at or after
    ``first_leaf``. Ranges are computed once and memoised, so proving k consecutive leaves of
    a tree of n costs O(k log n) node hashes beyond the leaves read.
    """

    size: int
    leaf: Callable[[int], bytes]
    first_leaf: int = 0
    known: dict[tuple[int, int], bytes] = field(default_factory=dict)

    @classmethod
    def after(
        cls, frontier: Sequence[bytes], old_size: int, new_leaves: Sequence[bytes]
    ) -> TreeView:
        """The tree of ``old_size`` leaves (given by its frontier) extended by new leaf hashes."""
        known: dict[tuple[int, int], bytes] = {}
        start = 0
        for bit, node in zip(_bits(old_size), frontier, strict=True):
            known[(start, start + bit)] = node
            start += bit
        return cls(
            size=old_size + len(new_leaves),
            leaf=lambda i: new_leaves[i - old_size],
            first_leaf=old_size,
            known=known,
        )

    def range_root(self, start: int, end: int) -> bytes:
        """The Merkle tree hash of leaves ``[start, end)`` (memoised)."""
        found = self.known.get((start, end))
        if found is not None:
            return found
        if end - start == 1 and start >= self.first_leaf:
            value = self.leaf(start)
        elif end - start <= 1:
            raise ValueError(f"leaf {start} is not available to this tree view")
        else:
            split = 1 << ((end - start - 1).bit_length() - 1)
            value = node_hash(
                self.range_root(start, start + split), self.range_root(start + split, end)
            )
        self.known[(start, end)] = value
        return value

    def proof(self, index: int) -> list[bytes]:
        """The RFC 6962 inclusion proof of leaf ``index``, from the leaf upwards."""
        path: list[bytes] = []
        start, end = 0, self.size
        while end - start > 1:
            split = 1 << ((end - start - 1).bit_length() - 1)
            if index < start + split:
                path.append(self.range_root(start + split, end))
                end = start + split
            else:
                path.append(self.range_root(start, start + split))
                start += split
        path.reverse()
        return path


def _bits(size: int) -> list[int]:
    """The perfect subtree sizes of a tree of ``size`` leaves, left (largest) to right."""
    return [1 << b for b in range(size.bit_length() - 1, -1, -1) if size >> b & 1]


def receipt(
    slug: str,
    entries: Sequence[entry_mod.SignedEntry],
    *,
    note: str,
    root: bytes,
    view: TreeView,
) -> dict[str, Any]:
    """The append receipt: the checkpoint and an inclusion proof of each entry (self-checked).

    Raises:
        RelayStateError: a proof does not lead to the signed root (never sent).
    """
    inclusion = []
    for item in entries:
        proof = view.proof(item.seq - 1)
        try:
            leaf = leaf_hash(bytes.fromhex(item.hash))
            verify_inclusion(item.seq - 1, view.size, leaf, proof, root)
        except ValueError:
            raise RelayStateError(f"inclusion proof of seq {item.seq} does not verify") from None
        inclusion.append({"seq": item.seq, "proof": [base64.b64encode(h).decode() for h in proof]})
    return {
        "receipt": {
            "project": slug,
            "seq": [entries[0].seq, entries[-1].seq],
            "hashes": [e.hash for e in entries],
            "checkpoint": note,
            "inclusion": inclusion,
        }
    }
