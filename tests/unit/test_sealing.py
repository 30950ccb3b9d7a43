"""Evidence sealing and the safe on-disk names of evidence files (ledger/sealing.py)."""

from __future__ import annotations

import io
import os

import pytest

from ledger.errors import NotFoundError, VerificationError
from ledger.keys import Signer
from ledger.sealing import MAX_NAME, ciphertext_bounds, disk_name, seal, unseal

HOSTILE = [
    "../x",
    "../../etc/passwd",
    "/etc/passwd",
    "..",
    ".",
    ".bashrc",
    "a\x00b",
    "bell\x07\x1b[31mred",
    "C:\\Windows\\system32",
    "x" * 5000 + ".pdf",
    "Report.PDF",
    "report.pdf",
    "report.pdf",
    "",
    "   ",
    "e\u0301t\u00e9.txt",
    "\u202etxt.exe",
]


def test_hostile_names_become_distinct_plain_names_inside_the_directory() -> None:
    names = [disk_name(n, name) for n, name in enumerate(HOSTILE, start=1)]
    assert len(set(names)) == len(names)
    assert len({n.lower() for n in names}) == len(names)  # case-insensitive filesystems too
    for name in names:
        assert "/" not in name
        assert "\\" not in name
        assert name not in (".", "..")
        assert not name.startswith(".")
        assert all(c.isprintable() and c.isascii() for c in name)
        assert len(name) <= MAX_NAME + 8
    assert names[0] == "1-x"
    assert names[2] == "3-passwd"
    assert names[9].endswith(".pdf")


def test_an_ordinary_name_is_kept_after_its_index() -> None:
    assert disk_name(1, "posters-v2 (final).pdf") == "1-posters-v2 (final).pdf"


def test_only_the_members_keys_decrypt_and_a_cut_blob_is_refused(
    signers: dict[str, Signer],
) -> None:
    data = os.urandom(150_000)
    out = io.BytesIO()
    seal(io.BytesIO(data), out, [signers["acme"].public_key_line])  # type: ignore[arg-type]
    blob = out.getvalue()
    least, most = ciphertext_bounds(len(data))
    assert least <= len(blob) <= most
    plain = io.BytesIO()
    unseal(io.BytesIO(blob), plain, signers["acme"])  # type: ignore[arg-type]
    assert plain.getvalue() == data
    with pytest.raises(NotFoundError, match="not sealed to the key"):
        unseal(io.BytesIO(blob), io.BytesIO(), signers["burgerco"])  # type: ignore[arg-type]
    with pytest.raises(VerificationError):
        unseal(io.BytesIO(blob[:-100]), io.BytesIO(), signers["acme"])  # type: ignore[arg-type]
