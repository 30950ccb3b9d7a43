"""The rules of a collaboration: one deterministic state machine over signed entries.

``apply(state, entry)`` checks ``entry`` against every rule and, only when all of them hold,
advances ``state`` and returns it. A refused entry raises a :class:`~ledger.errors.LedgerError`
before anything in ``state`` changes, so a caller may keep using the state it had.
The same function runs when a command appends an entry, when an auditor replays a log and
under every projection; it trusts nothing the store says beyond the entry bytes themselves.

The package: ``state.py`` (what the rules know about a project), ``engine.py`` (the fold and
the signing keys), ``checks.py`` (checks the families share), one module per family of entry
types (``membership``, ``signers``, ``pledges``, ``approvals``, ``statements``, ``values``,
``disputes``) and
``types.py`` (the record that declares an entry type), ``registry.py`` (every entry type)
and ``schema.py`` (the exact shape and bounds of an entry, by type). This module is the
package's public API.
"""

from __future__ import annotations

from ledger.rules.checks import check_unit_spelling, refused_as_usage, require_open
from ledger.rules.engine import apply, check_unsigned, replay
from ledger.rules.membership import INVITE_HINT, check_invite
from ledger.rules.registry import TYPES, EntryType
from ledger.rules.schema import check_bounds, check_entry, check_numbers
from ledger.rules.state import (
    ABANDONED,
    ACCEPTED,
    ACTIVE,
    CANCELLED,
    CLOSED,
    CLOSED_SHORT,
    DECLINED,
    DISMISSED,
    INVITED,
    JOINED,
    OPEN,
    PENDING,
    PROPOSED,
    REJECTED,
    UPHELD,
    VOID,
    WITHDRAWN,
    Amendment,
    Decision,
    DecisionStatus,
    Deliverable,
    Dispute,
    DisputeStatus,
    Member,
    MemberStatus,
    Pledge,
    PledgeStatus,
    ProjectState,
    ProjectStatus,
    ShortClose,
    SignerSeat,
    Statement,
    ValueProposal,
    new_state,
)
from ledger.rules.statements import text_hash
from ledger.rules.types import entry_noun
from ledger.rules.values import agreed_values, reference_unit, value_approvers

__all__ = [
    "ABANDONED",
    "ACCEPTED",
    "ACTIVE",
    "CANCELLED",
    "CLOSED",
    "CLOSED_SHORT",
    "DECLINED",
    "DISMISSED",
    "INVITED",
    "INVITE_HINT",
    "JOINED",
    "OPEN",
    "PENDING",
    "PROPOSED",
    "REJECTED",
    "TYPES",
    "UPHELD",
    "VOID",
    "WITHDRAWN",
    "Amendment",
    "Decision",
    "DecisionStatus",
    "Deliverable",
    "Dispute",
    "DisputeStatus",
    "EntryType",
    "Member",
    "MemberStatus",
    "Pledge",
    "PledgeStatus",
    "ProjectState",
    "ProjectStatus",
    "ShortClose",
    "SignerSeat",
    "Statement",
    "ValueProposal",
    "agreed_values",
    "apply",
    "check_bounds",
    "check_entry",
    "check_invite",
    "check_numbers",
    "check_unit_spelling",
    "check_unsigned",
    "entry_noun",
    "new_state",
    "reference_unit",
    "refused_as_usage",
    "replay",
    "require_open",
    "text_hash",
    "value_approvers",
]
