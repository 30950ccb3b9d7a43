"""The home's notify configuration and sent-log: local files, never in a ledger or at a relay.

``ACCORD_HOME/notify.json`` holds the SMTP server (host, port, security, sender, user name
and the *name* of the environment variable that holds the password) and the recipients
(a name, the party whose to-do list they get, an e-mail address and/or a webhook, and the
reminder policy). ``ACCORD_HOME/notify-sent.json`` is the sent-log: per recipient and item,
when it was last sent and how often. Both are written with mode 0600 by a fresh temporary
file renamed into place. No secret is ever stored: a password or a webhook URL that holds a
token is named by an environment variable (``--password-env``, ``--webhook-env``).
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ledger import keys as key_store
from ledger.errors import UsageError
from projections.reminders import Policy, Sent

if TYPE_CHECKING:
    from pathlib import Path

CONFIG_FILE = "notify.json"
SENT_FILE = "notify-sent.json"
FORMS = ("json", "slack", "teams")
SECURITIES = ("starttls", "tls", "none")
MAX_DAYS = 3650
_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})*"
)
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,39}")
_ENV = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")
_HOST = re.compile(r"[A-Za-z0-9.:-]{1,253}")


@dataclass(frozen=True)
class Smtp:
    """The SMTP server digests are sent through."""

    host: str
    port: int
    security: str = "starttls"  # starttls | tls (implicit, "SMTPS") | none (loopback only)
    sender: str = ""
    user: str | None = None
    password_env: str | None = None
    timeout: float = 20.0


@dataclass(frozen=True)
class Recipient:
    """Who gets the digest of one party's to-do list, and how."""

    name: str
    party: str
    email: str | None = None
    webhook: str | None = None
    webhook_env: str | None = None
    form: str = "json"
    first: int = 0
    every: int = 7

    @property
    def policy(self) -> Policy:
        """The reminder policy of this recipient."""
        return Policy(first=self.first, every=self.every)

    def as_row(self) -> dict[str, Any]:
        """JSON-ready row for ``notify config list`` (a webhook shows its host only)."""
        hook = None
        if self.webhook is not None:
            parts = urlsplit(self.webhook)
            hook = f"{parts.scheme}://{parts.netloc}/..."
        elif self.webhook_env is not None:
            hook = f"${self.webhook_env}"
        return {
            "name": self.name,
            "party": self.party,
            "email": self.email,
            "webhook": hook,
            "form": self.form if hook else None,
            "first": f"{self.first}d",
            "every": f"{self.every}d" if self.every else "once",
        }


@dataclass
class NotifyConfig:
    """Everything in ``notify.json``."""

    smtp: Smtp | None = None
    recipients: list[Recipient] = field(default_factory=list)

    def recipient(self, name: str) -> Recipient | None:
        """The recipient called ``name``, if any."""
        return next((r for r in self.recipients if r.name == name), None)


def config_path(home: Path | None = None) -> Path:
    """Where the notify configuration lives."""
    return (home or key_store.accord_home()) / CONFIG_FILE


def sent_path(home: Path | None = None) -> Path:
    """Where the sent-log lives."""
    return (home or key_store.accord_home()) / SENT_FILE


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    try:
        return json.loads(text)
    except ValueError:
        raise UsageError(
            f"{path} is not valid JSON", hint="fix it, or remove it and configure again"
        ) from None


def _write_json(path: Path, data: Any) -> None:
    """Replace ``path`` with ``data`` as JSON, mode 0600, in one rename.

    Raises:
        UsageError: the home cannot be written.
    """
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, indent=2, sort_keys=True)
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None


def load_config(home: Path | None = None) -> NotifyConfig:
    """Read ``notify.json`` (an empty configuration when there is none).

    Raises:
        UsageError: the file cannot be read or is malformed.
    """
    path = config_path(home)
    data = _read_json(path)
    if data is None:
        return NotifyConfig()
    try:
        smtp = Smtp(**data["smtp"]) if data.get("smtp") else None
        recipients = [Recipient(**item) for item in data.get("recipients", [])]
    except (TypeError, KeyError, AttributeError):
        raise UsageError(
            f"{path} is not an accord notify configuration",
            hint="fix it, or remove it and configure again with `accord notify config`",
        ) from None
    return NotifyConfig(smtp=smtp, recipients=recipients)


def save_config(config: NotifyConfig, home: Path | None = None) -> Path:
    """Write ``notify.json`` (mode 0600); return its path.

    Raises:
        UsageError: the home cannot be written.
    """
    path = config_path(home)
    data = {
        "smtp": asdict(config.smtp) if config.smtp else None,
        "recipients": [asdict(r) for r in config.recipients],
    }
    _write_json(path, data)
    return path


def load_sent(home: Path | None = None) -> dict[str, Sent]:
    """Read the sent-log: item key to when it was last sent and how often.

    Raises:
        UsageError: the file cannot be read or is malformed.
    """
    path = sent_path(home)
    data = _read_json(path)
    if data is None:
        return {}
    try:
        return {
            key: Sent(datetime.fromisoformat(value["last"]), int(value["count"]))
            for key, value in data["sent"].items()
        }
    except (TypeError, KeyError, ValueError, AttributeError):
        raise UsageError(
            f"{path} is not an accord notify sent-log",
            hint="remove it: every item that waits is then sent again once",
        ) from None


def save_sent(sent: dict[str, Sent], home: Path | None = None) -> None:
    """Write the sent-log (mode 0600).

    Raises:
        UsageError: the home cannot be written.
    """
    data = {
        "sent": {
            key: {"last": value.last.isoformat(), "count": value.count}
            for key, value in sorted(sent.items())
        }
    }
    _write_json(sent_path(home), data)


# Checking what the user configures -----------------------------------------------------------


def check_name(name: str) -> str:
    """A recipient's name: lower-case letters, digits, ``.``, ``_`` and ``-``.

    Raises:
        UsageError: it is not.
    """
    if not _NAME.fullmatch(name):
        raise UsageError(
            f"recipient name {name!r} is not valid",
            hint="use lower-case letters, digits, '.', '_' and '-' (at most 40), e.g. alice",
        )
    return name


def check_email(address: str) -> str:
    """One plain e-mail address (no display name, no list, no line break).

    Raises:
        UsageError: it is not one.
    """
    if len(address) > 254 or not _EMAIL.fullmatch(address):
        raise UsageError(
            f"{address!r} is not an e-mail address",
            hint="give one plain address, e.g. alice@example.org",
        )
    return address


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine (``localhost`` or a loopback address)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_webhook(url: str) -> str:
    """A webhook URL: https, or http to this machine only.

    Raises:
        UsageError: it is not.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        parts, host = None, ""
    if (
        parts is None
        or not host
        or any(c.isspace() or ord(c) < 0x20 for c in url)
        or not (parts.scheme == "https" or (parts.scheme == "http" and is_loopback(host)))
    ):
        raise UsageError(
            f"{url!r} is not a webhook URL accord posts to",
            hint="give an https:// URL (plain http:// only to localhost)",
        )
    return url


def check_web_url(url: str) -> str:
    """The base URL of ``accord web`` for the links in a digest: http(s), one line.

    Raises:
        UsageError: it is not one.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        parts, host = None, ""
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not host
        or any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url)
    ):
        raise UsageError(
            f"--web-url {url!r} is not an http(s) URL",
            hint="e.g. --web-url https://accord.example.org",
        )
    return url


def check_env_name(name: str, option: str) -> str:
    """The name of an environment variable.

    Raises:
        UsageError: it is not one.
    """
    if not _ENV.fullmatch(name):
        raise UsageError(
            f"{option} {name!r} is not the name of an environment variable",
            hint=f"give the variable's name, e.g. {option} ACCORD_SMTP_PASSWORD",
        )
    return name


def check_host(host: str, security: str) -> str:
    """An SMTP host name; plain (unencrypted) SMTP only to this machine.

    Raises:
        UsageError: it is not a host name, or ``none`` is asked for a remote host.
    """
    if not _HOST.fullmatch(host):
        raise UsageError(f"{host!r} is not a host name", hint="e.g. --host smtp.example.org")
    if security == "none" and not is_loopback(host):
        raise UsageError(
            "--security none sends in clear text: only to a server on this machine",
            hint="use --security starttls (port 587) or --security tls (port 465)",
        )
    return host


def check_days(value: str, option: str) -> int:
    """A number of days (``3``, ``3d``, ``2w``).

    Raises:
        UsageError: it is not one, or more than ten years.
    """
    match = re.fullmatch(r"([0-9]{1,5})\s*([dw]?)", value.strip())
    days = int(match.group(1)) * (7 if match.group(2) == "w" else 1) if match else -1
    if not 0 <= days <= MAX_DAYS:
        raise UsageError(
            f"{option} {value!r} is not a number of days (at most {MAX_DAYS})",
            hint=f"write e.g. {option} 3d or {option} 2w",
        )
    return days


def with_recipient(config: NotifyConfig, recipient: Recipient) -> NotifyConfig:
    """``config`` with ``recipient`` added, or replacing the one of the same name."""
    others = [r for r in config.recipients if r.name != recipient.name]
    return replace(config, recipients=sorted([*others, recipient], key=lambda r: r.name))
