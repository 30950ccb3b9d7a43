"""``accord notify``: send each recipient a digest of what waits, by e-mail and/or webhook.

One run sends what is due and exits (for cron). The configuration (``accord notify config``)
and the sent-log are local files of the home (:mod:`commands.notify_config`); the ledger is
only read. See docs/notify.md.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from commands.digest import Digest, email_message, webhook_payload
from commands.mailer import SendError, post_webhook, send_mail, smtp_password
from commands.notify_config import (
    FORMS,
    SECURITIES,
    NotifyConfig,
    Recipient,
    Smtp,
    check_days,
    check_email,
    check_env_name,
    check_host,
    check_name,
    check_web_url,
    check_webhook,
    load_config,
    load_sent,
    save_config,
    save_sent,
    with_recipient,
)
from commands.options import AppContext, fresh_read, ledger_option
from commands.output import echo, output_options, render, render_object
from commands.reports import _days
from ledger.errors import (
    NotFoundError,
    ProjectNotFoundError,
    StorageUnavailableError,
    UsageError,
)
from ledger.normalise import normalise_handle
from projections.reminders import Sent, Waiting, due, waiting
from projections.replay import Replay

if TYPE_CHECKING:
    from ledger.application import Ledger

RECIPIENT_HEADERS = ["name", "party", "email", "webhook", "form", "first", "every"]


def parse_now(value: str | None) -> datetime:
    """The clock of the run: ``--now`` (ISO 8601; UTC when no offset) or the wall clock.

    Raises:
        UsageError: ``value`` is not a date and time.
    """
    if value is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"--now {value!r} is not a date and time", hint="write e.g. 2026-12-01T09:00:00Z"
        ) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


@click.group(name="notify", invoke_without_command=True)
@click.option("--dry-run", is_flag=True, help="Print what would be sent; send and record nothing.")
@click.option(
    "--recipient",
    "only",
    metavar="NAME",
    multiple=True,
    help="Only this recipient (repeatable) [default: every configured one].",
)
@click.option(
    "--within",
    metavar="DAYS",
    default="14d",
    show_default=True,
    help="Remind of one's own pledges due within DAYS (14d, 2w); overdue ones always.",
)
@click.option(
    "--web-url",
    metavar="URL",
    help="Base URL of `accord web`: each item links to URL/projects/SLUG/SEQ.",
)
@click.option("--now", hidden=True, envvar="ACCORD_NOW", help="The run's clock (tests).")
@ledger_option
@fresh_read
@click.pass_context
def notify(
    ctx: click.Context,
    dry_run: bool,
    only: tuple[str, ...],
    within: str,
    web_url: str | None,
    now: str | None,
) -> None:
    """Send each recipient a digest of what waits for their party (e-mail, webhook).

    Cron-friendly: one run sends the reminders that are due and exits. An item is due
    when it has waited the recipient's --first days and, once sent, again every --every
    days while it still waits. An item is recorded as sent only after its send succeeded,
    so a rerun sends nothing twice; a failed send (server down, login refused, a webhook
    answering other than 2xx) exits 6 and records nothing for that channel. Recipients
    and the SMTP server are set with `accord notify config` (docs/notify.md).

    \b
        accord notify --dry-run
        accord notify --web-url https://accord.example.org   # in a cron line
    """
    if ctx.invoked_subcommand is not None:
        return
    app = ctx.ensure_object(AppContext)
    clock = parse_now(now)
    days = _days(within)
    if web_url is not None:
        check_web_url(web_url)
    config = load_config()
    recipients = _chosen(config, only)
    if not dry_run:
        needs_mail = any(r.email for r in recipients)
        if needs_mail and config.smtp is None:
            raise UsageError(
                "no SMTP server is configured for the e-mail recipients",
                hint="accord notify config smtp --host smtp.example.org --from accord@example.org",
            )
        password = smtp_password(config.smtp) if needs_mail and config.smtp else None
        hooks = {r.name: _webhook_url(r) for r in recipients}
    else:
        password, hooks = None, {}
    lists = _waiting_lists(app.ledger(), {r.party for r in recipients}, clock, days)
    sent = load_sent()
    failures: list[str] = []
    count = 0
    for recipient in recipients:
        for channel in ("email", "webhook"):
            target = recipient.email if channel == "email" else hooks.get(recipient.name, "")
            if channel == "webhook" and recipient.webhook is None and not recipient.webhook_env:
                continue
            if channel == "email" and target is None:
                continue
            key = f"{recipient.name}/{channel}"
            items = due(
                lists[recipient.party], recipient=key, sent=sent, policy=recipient.policy, now=clock
            )
            if not items:
                continue
            digest = Digest(recipient.name, recipient.party, items, clock, web_url)
            where = _where(recipient, channel)
            if dry_run:
                _show(digest, recipient, channel, config)
                count += 1
                continue
            try:
                if channel == "email":
                    assert config.smtp is not None  # noqa: S101 - checked above
                    message = email_message(digest, sender=config.smtp.sender, to=str(target))
                    send_mail(config.smtp, message, password=password)
                else:
                    post_webhook(str(target), webhook_payload(digest, recipient.form))
            except SendError as error:
                failures.append(f"{recipient.name} by {where}: {error.cause}")
                continue
            for item in items:
                previous = sent.get(item.key(key))
                sent[item.key(key)] = Sent(clock, (previous.count if previous else 0) + 1)
            save_sent(sent)  # after the send succeeded, before the next one
            count += 1
            echo(f"sent {_items(len(items))} to {recipient.name} by {where}")
    if not count and not failures:
        echo("nothing is due: no reminder to send")
    if failures:
        raise StorageUnavailableError(
            f"{len(failures)} digest{'s were' if len(failures) != 1 else ' was'} not sent: "
            + "; ".join(failures),
            hint="nothing was recorded as sent for them: fix the server or the configuration "
            "(`accord notify config list`), then run accord notify again",
        )


def _items(count: int) -> str:
    return f"{count} item{'s' if count != 1 else ''}"


def _where(recipient: Recipient, channel: str) -> str:
    if channel == "email":
        return f"e-mail to {recipient.email}"
    row = recipient.as_row()
    return f"webhook {row['webhook']} ({recipient.form})"


def _chosen(config: NotifyConfig, only: tuple[str, ...]) -> list[Recipient]:
    if not config.recipients:
        raise UsageError(
            "no recipients are configured",
            hint="accord notify config add alice --party acme --email alice@example.org",
        )
    for name in only:
        if config.recipient(name) is None:
            raise NotFoundError(
                f"no recipient {name!r}", hint="`accord notify config list` lists them"
            )
    return [r for r in config.recipients if not only or r.name in only]


def _webhook_url(recipient: Recipient) -> str:
    """The webhook URL of ``recipient`` (from its environment variable when it names one).

    Raises:
        UsageError: the variable is empty or holds no webhook URL.
    """
    if recipient.webhook_env is None:
        return recipient.webhook or ""
    import os

    value = os.environ.get(recipient.webhook_env, "")
    if not value:
        raise UsageError(
            f"the webhook of {recipient.name} is not set: {recipient.webhook_env} is empty",
            hint=f"export {recipient.webhook_env}=https://... where accord notify runs",
        )
    try:
        return check_webhook(value)
    except UsageError:
        raise UsageError(
            f"{recipient.webhook_env} holds no webhook URL accord posts to",
            hint="give an https:// URL (plain http:// only to localhost)",
        ) from None


def _waiting_lists(
    ledger: Ledger, parties: set[str], clock: datetime, days: int
) -> dict[str, list[Waiting]]:
    """What waits for each of ``parties`` in every project of the ledger."""
    lists: dict[str, list[Waiting]] = {party: [] for party in parties}
    for slug in ledger.list_slugs():
        try:
            replay = Replay.build(ledger, slug)
        except ProjectNotFoundError:
            continue  # listed a moment ago, gone now: nothing waits there
        for party in sorted(parties):
            lists[party].extend(waiting(replay, party, clock.date(), days))
    return lists


def _show(digest: Digest, recipient: Recipient, channel: str, config: NotifyConfig) -> None:
    """Print what a dry run would send on ``channel``."""
    where = _where(recipient, channel)
    echo(f"would send {_items(len(digest.items))} to {recipient.name} by {where}:")
    if channel == "email":
        sender = config.smtp.sender if config.smtp else "(no SMTP server configured)"
        echo(f"  From: {sender}")
        echo(f"  To: {recipient.email}")
        echo(f"  Subject: {digest.subject()}")
        for line in digest.text().splitlines():
            echo(f"  | {line}")
    else:
        echo("  " + webhook_payload(digest, recipient.form).decode("ascii"))


# accord notify config ------------------------------------------------------------------------


@notify.group(name="config")
def notify_config() -> None:
    """Set up who is notified and how: recipients and the SMTP server (local to this home).

    The configuration is a file of this home (mode 0600), never written into a ledger nor
    sent to a relay. Secrets stay in the environment: the file names the variables.

    \b
        accord notify config add alice --party acme --email alice@example.org
        accord notify config list
    """


@notify_config.command(name="add")
@click.argument("name")
@click.option("--party", required=True, metavar="HANDLE", help="Whose to-do list they get.")
@click.option("--email", metavar="ADDRESS", help="Send the digest to this e-mail address.")
@click.option("--webhook", metavar="URL", help="POST the digest to this https URL.")
@click.option("--webhook-env", metavar="VAR", help="POST to the URL in this environment variable.")
@click.option(
    "--form",
    type=click.Choice(FORMS),
    default="json",
    show_default=True,
    help="The webhook's JSON: accord's own, Slack's {text}, or a Teams Adaptive Card.",
)
@click.option("--first", default="0d", show_default=True, metavar="DAYS",
              help="First reminder once an item has waited DAYS.")  # fmt: skip
@click.option("--every", default="7d", show_default=True, metavar="DAYS",
              help="Then again every DAYS while it waits (0: only once).")  # fmt: skip
def notify_config_add(
    name: str,
    party: str,
    email: str | None,
    webhook: str | None,
    webhook_env: str | None,
    form: str,
    first: str,
    every: str,
) -> None:
    """Add a recipient (or replace the one of that NAME) for a party's to-do list.

    \b
        accord notify config add alice --party acme --email alice@example.org --first 2d
        accord notify config add team --party acme --webhook-env ACME_SLACK_HOOK --form slack
    """
    if webhook is not None and webhook_env is not None:
        raise UsageError(
            "give --webhook or --webhook-env, not both",
            hint="--webhook-env keeps a URL that holds a token out of the file",
        )
    if email is None and webhook is None and webhook_env is None:
        raise UsageError(
            "give --email, --webhook or --webhook-env: where the digest goes",
            hint=f"accord notify config add {name} --party {party} --email ADDRESS",
        )
    recipient = Recipient(
        name=check_name(name),
        party=normalise_handle(party, "party"),
        email=check_email(email) if email is not None else None,
        webhook=check_webhook(webhook) if webhook is not None else None,
        webhook_env=check_env_name(webhook_env, "--webhook-env") if webhook_env else None,
        form=form,
        first=check_days(first, "--first"),
        every=check_days(every, "--every"),
    )
    path = save_config(with_recipient(load_config(), recipient))
    echo(f"recipient {recipient.name} gets what waits for {recipient.party} ({path})")


@notify_config.command(name="list")
@output_options
def notify_config_list(output_format: str) -> None:
    """List the recipients (a webhook shows its host only).

    \b
        accord notify config list --format json
    """
    config = load_config()
    render(
        [r.as_row() for r in config.recipients],
        output_format=output_format,
        headers=RECIPIENT_HEADERS,
        empty="(no recipients: `accord notify config add` adds one)",
    )


@notify_config.command(name="remove")
@click.argument("name")
def notify_config_remove(name: str) -> None:
    """Remove the recipient NAME (and what the sent-log holds for it).

    \b
        accord notify config remove alice
    """
    config = load_config()
    if config.recipient(name) is None:
        raise NotFoundError(f"no recipient {name!r}", hint="`accord notify config list` lists them")
    save_config(replace(config, recipients=[r for r in config.recipients if r.name != name]))
    sent = load_sent()
    kept = {k: v for k, v in sent.items() if not k.startswith(f"{name}/")}
    if kept != sent:
        save_sent(kept)
    echo(f"removed recipient {name}")


@notify_config.command(name="smtp")
@click.option("--host", metavar="HOST", help="The SMTP server.")
@click.option("--port", type=click.IntRange(1, 65535), help="[default: 587, 465 with tls]")
@click.option(
    "--security",
    type=click.Choice(SECURITIES),
    default="starttls",
    show_default=True,
    help="STARTTLS, implicit TLS, or none (a server on this machine only).",
)
@click.option("--from", "sender", metavar="ADDRESS", help="The sender address.")
@click.option("--user", metavar="NAME", help="Log in as NAME (the password from --password-env).")
@click.option(
    "--password-env",
    metavar="VAR",
    default="ACCORD_SMTP_PASSWORD",
    show_default=True,
    help="The environment variable holding the password (never stored).",
)
@click.option("--timeout", type=click.FloatRange(0.1, 600), default=20.0, show_default=True,
              help="Seconds to wait for the server.")  # fmt: skip
@output_options
def notify_config_smtp(
    host: str | None,
    port: int | None,
    security: str,
    sender: str | None,
    user: str | None,
    password_env: str,
    timeout: float,
    output_format: str,
) -> None:
    """Set the SMTP server e-mail digests go through (without --host: show it).

    \b
        accord notify config smtp --host smtp.example.org --from accord@example.org \\
            --user accord --password-env ACCORD_SMTP_PASSWORD
    """
    config = load_config()
    if host is None:
        if config.smtp is None:
            raise NotFoundError(
                "no SMTP server is configured",
                hint="accord notify config smtp --host smtp.example.org --from ADDRESS",
            )
        render_object(_smtp_row(config.smtp), output_format=output_format)
        return
    if sender is None:
        raise UsageError(
            "give the sender address with --from", hint="e.g. --from accord@example.org"
        )
    smtp = Smtp(
        host=check_host(host, security),
        port=port or (465 if security == "tls" else 587),
        security=security,
        sender=check_email(sender),
        user=user,
        password_env=check_env_name(password_env, "--password-env") if user else None,
        timeout=timeout,
    )
    if user is not None and (not user or any(ord(c) < 0x21 for c in user)):
        raise UsageError(f"--user {user!r} is not a user name")
    path = save_config(replace(config, smtp=smtp))
    echo(f"e-mail goes through {smtp.host}:{smtp.port} ({smtp.security}) ({path})")


def _smtp_row(smtp: Smtp) -> dict[str, Any]:
    return {
        "host": smtp.host,
        "port": smtp.port,
        "security": smtp.security,
        "from": smtp.sender,
        "user": smtp.user,
        "password_env": smtp.password_env,
        "timeout": smtp.timeout,
    }
