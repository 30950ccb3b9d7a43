"""``accord project cancel``: the proposer ends a proposal that still waits; others cannot."""

from __future__ import annotations

from cli_helpers import Accord, assert_matches, assert_refused, fingerprint, unpinned


def propose(accord: Accord, slug: str = "spring") -> str:
    accord.ok(
        "project", "propose", slug, "--title", "Spring", "--member", "burgerco",
        "--member", f"veggie={fingerprint('veggie')}", "--as", "acme",
        stderr=unpinned("burgerco"),
    )  # fmt: skip
    return slug


def test_the_proposer_cancels_and_the_project_takes_nothing_more(initialised: Accord) -> None:
    slug = propose(initialised)
    initialised.ok("project", "join", slug, "--as", "veggie")
    result = initialised.ok("project", "cancel", slug, "--reason", "Wrong partners", "--as", "acme")
    assert_matches(
        result.stdout,
        "recorded spring seq 3 project.cancelled\nhash <hash>\n"
        'cancelled the proposal "Spring"; it no longer waits for burgerco\n'
        "project spring is cancelled\n",
    )
    shown = initialised.json("project", "show", slug)
    assert (shown["status"], shown["entries"], shown["waiting_for"]) == ("cancelled", 3, [])
    trail = initialised.json("trail", slug)
    assert trail[-1]["summary"] == "cancelled the proposal: Wrong partners"
    with initialised.unchanged():
        refused = initialised("project", "join", slug, "--as", "burgerco")
    assert_refused(
        refused,
        4,
        "project 'spring' was cancelled by its proposer (seq 3); nothing more can be added",
        "ask the proposer for a new proposal",
    )
    for party in ("acme", "burgerco", "veggie"):
        assert initialised.ok("todo", "--as", party).stdout == f"(nothing waits for {party})\n"
    assert initialised.ok("verify", slug).stdout.startswith("spring: sound, 3 entries, cancelled")


def test_only_the_proposer_and_only_while_proposed(initialised: Accord) -> None:
    slug = propose(initialised)
    initialised.ok("project", "join", slug, "--as", "veggie")
    with initialised.unchanged():
        refused = initialised("project", "cancel", slug, "--reason", "x", "--as", "veggie")
    assert_refused(
        refused,
        4,
        "only the proposer ('acme') can cancel project 'spring' (seq 3)",
        "ask acme to cancel it, or decline the invitation",
    )
    initialised.ok("project", "join", slug, "--as", "burgerco")
    with initialised.unchanged():
        refused = initialised("project", "cancel", slug, "--reason", "x", "--as", "acme")
    assert_refused(
        refused,
        4,
        "project 'spring' is active: only a proposal still waiting for its invitees can be "
        "cancelled (seq 4)",
        "end an active project with `accord close spring`",
    )


def test_a_cancellation_needs_a_reason(initialised: Accord) -> None:
    slug = propose(initialised)
    with initialised.unchanged():
        refused = initialised("project", "cancel", slug, "--reason", " ", "--as", "acme")
    assert refused.exit_code == 2
    assert refused.stderr.startswith("Error: the reason must not be empty\n")
    json_receipt = initialised.json(
        "project", "cancel", slug, "--reason", "Not now", "--as", "acme"
    )
    assert json_receipt["project_status"] == "cancelled"
    assert json_receipt["subject"] == {"project_title": "Spring", "waiting": ["burgerco", "veggie"]}
