"""What an invitee reads before it joins: its invitation, and the invitations pinned to a key.

* :func:`invitation` answers ``GET /v1/projects/{slug}/invitations/{handle}``, read with the
  seat's invite key (``relay/auth.py``): the proposal row, the head the invitee's join or
  decline follows (seq and entry hash) and the relay's latest signed checkpoint (its tree
  size is that seq). Nothing else of the log: no entry after the proposal, no cosignature.
* :func:`pinned` answers ``GET /v1/invitations``, signed by any key: the proposals still
  waiting for a seat pinned to that key's fingerprint, newest first, at most
  :data:`MAX_INVITATIONS` and :data:`MAX_INVITATION_BYTES` of proposal rows (always at least
  one). Whoever signs learns only what concerns its own key.

The proposals pinned to each fingerprint are found through :class:`InvitationIndex`, which
follows the store's notification log (each stored proposal is read once per relay process)
instead of scanning every project per request; every candidate it names is then checked
against the relay's verified state, and one whose seat is settled (joined, declined, or the
project no longer proposed) is dropped from the index for good.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import TYPE_CHECKING, Any

from ledger import rules
from ledger.errors import LedgerError, StorageUnavailableError
from ledger.format import FINGERPRINT_RE, SLUG_RE, text_size
from relay import reads
from relay.errors import NotReadableError, RelayStateError
from relay.wire import MAX_PAGE_BYTES

if TYPE_CHECKING:
    from relay.store import RelayStore

log = logging.getLogger("accord.relay")

MAX_INVITATIONS = 100  # invitations in one answer of GET /v1/invitations (newest first)
MAX_INVITATION_BYTES = MAX_PAGE_BYTES  # and their proposal rows, at most 4 MiB (at least one)
# Stored proposals read at a time while the index catches up: anyone may propose, and a
# proposal may be 512 KiB, so a page of them holds at most 8 MiB (as reads.READ_BATCH).
INDEX_PAGE = reads.READ_BATCH


class InvitationIndex:
    """Which projects' proposals pin which fingerprints (a hint, verified before use).

    Shared by the worker threads of a relay process. It follows the store's notification
    log of ``project.proposed`` rows: a request first reads the proposals stored since the
    last one (by any relay process sharing the store), so the index costs each proposal one
    read per process, never a scan of every project per request.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._after = 0  # the last notification id read
        self._pinned: dict[str, dict[str, None]] = {}  # fingerprint -> slugs, oldest first

    def catch_up(self, store: RelayStore) -> None:
        """Read the proposals stored since the last call into the index.

        Raises:
            StorageUnavailableError: the store cannot be read.
        """
        with self._lock:
            while True:
                found = store.ledger.rows.proposals(after=self._after, limit=INDEX_PAGE)
                for notification_id, row in found:
                    self._after = max(self._after, notification_id)
                    for fingerprint, slug in _pins(row.text) if row.damage is None else ():
                        self._pinned.setdefault(fingerprint, {})[slug] = None
                if len(found) < INDEX_PAGE:
                    return

    def candidates(self, fingerprint: str) -> list[str]:
        """The projects whose stored proposal pins ``fingerprint``, newest first."""
        with self._lock:
            return list(reversed(self._pinned.get(fingerprint, {})))

    def settled(self, fingerprint: str, slug: str) -> None:
        """Forget ``slug`` for ``fingerprint``: that seat no longer waits (never again)."""
        with self._lock:
            slugs = self._pinned.get(fingerprint)
            if slugs is not None:
                slugs.pop(slug, None)
                if not slugs:
                    del self._pinned[fingerprint]


def _pins(text: str) -> list[tuple[str, str]]:
    """The (pinned fingerprint, slug) pairs a stored proposal's text names (unverified)."""
    try:
        data = json.loads(text)
        slug = data["project"]
        members = data["body"]["members"]
        pins = [(m["key"], slug) for m in members if m["handle"] != data["by"]]
    except (ValueError, RecursionError, KeyError, TypeError):
        return []
    return [
        (key, slug)
        for key, slug in pins
        if isinstance(key, str)
        and FINGERPRINT_RE.match(key)
        and isinstance(slug, str)
        and SLUG_RE.match(slug)
    ]


def waiting_seat(state: rules.ProjectState, fingerprint: str) -> str | None:
    """The handle of the seat pinned to ``fingerprint`` that still waits, if any."""
    if state.status != rules.PROPOSED:
        return None
    return next(
        (
            m.handle
            for m in state.members.values()
            if m.pinned == fingerprint and m.status == rules.INVITED
        ),
        None,
    )


def proposal_row(store: RelayStore, slug: str) -> dict[str, Any]:
    """The verified proposal of ``slug`` as a bundle row object (``entry``, ``sig``, ``hash``)."""
    row: dict[str, Any] = json.loads(reads.entries(store, slug, after=0, limit=1))
    return row


def invitation(store: RelayStore, slug: str) -> dict[str, Any]:
    """The invitation to ``slug``: its proposal, the head to follow and the signed checkpoint.

    The caller has authenticated the invitee (``relay.auth.authenticate_invite``).

    Raises:
        NotReadableError: no such project.
        RelayStateError: the store contradicts what the relay verified.
    """
    checkpoint = store.latest(slug)
    head = store.hashes(slug, checkpoint.size, checkpoint.size)[0].hex()
    return {
        "project": slug,
        "proposal": proposal_row(store, slug),
        "head": {"seq": checkpoint.size, "hash": head},
        "checkpoint": checkpoint.note,
    }


def pinned(store: RelayStore, index: InvitationIndex, fingerprint: str) -> dict[str, Any]:
    """The proposals still waiting for a seat pinned to ``fingerprint`` (newest first).

    Each is checked against the relay's verified state; a settled one is dropped from the
    index, and so is one that does not verify (logged): it is never offered. One the store
    contradicts for now (logged) is left out of this answer only.

    Raises:
        StorageUnavailableError: the store cannot be read.
    """
    index.catch_up(store)
    found: list[dict[str, Any]] = []
    size = 0
    for slug in index.candidates(fingerprint):
        if len(found) >= MAX_INVITATIONS:
            break
        try:
            state = store.state(slug)
            handle = waiting_seat(state, fingerprint)
            row = proposal_row(store, slug) if handle is not None else None
        except NotReadableError:
            handle = row = None  # the store holds no such project (any more)
        except RelayStateError as exc:  # the store contradicts the relay: not offered now
            # Not settled: it may be another relay process's append not yet in the shared
            # verified state; the next request checks it again.
            log.warning("left %r out of these invitations: %s", slug, exc.message)
            continue
        except StorageUnavailableError:
            raise
        except LedgerError as exc:  # a stored proposal that does not verify
            log.warning("left %r out of the invitations: %s", slug, exc.message)
            handle = row = None
        if handle is None or row is None:
            index.settled(fingerprint, slug)
            continue
        size += text_size(json.dumps(row, ensure_ascii=False, separators=(",", ":")))
        if found and size > MAX_INVITATION_BYTES:
            break  # the rest waits for the next request, once these are answered
        found.append({"project": slug, "handle": handle, "proposal": row})
    return {"invitations": found}
