"""Sending a digest: by SMTP (stdlib ``smtplib``) or as a webhook POST (``httpx``).

Each send either succeeds or raises :class:`SendError` with a plain cause (server down,
login refused, a non-2xx answer, a timeout); the caller records an item as sent only after
its send succeeded. Credentials come from the environment and never appear in a message.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from typing import TYPE_CHECKING

from ledger.errors import UsageError

if TYPE_CHECKING:
    from email.message import EmailMessage

    from commands.notify_config import Smtp

WEBHOOK_TIMEOUT = 20.0


class SendError(Exception):
    """A digest could not be delivered; ``cause`` says why in a few words."""

    def __init__(self, cause: str) -> None:
        super().__init__(cause)
        self.cause = cause


def smtp_password(smtp: Smtp) -> str | None:
    """The SMTP password, read from the environment variable the configuration names.

    Raises:
        UsageError: a user is configured but the variable is not set.
    """
    if smtp.user is None:
        return None
    name = smtp.password_env or "ACCORD_SMTP_PASSWORD"
    value = os.environ.get(name)
    if not value:
        raise UsageError(
            f"the SMTP password is not set: {name} is empty",
            hint=f"export {name}=... in the environment accord notify runs in",
        )
    return value


def send_mail(smtp: Smtp, message: EmailMessage, *, password: str | None) -> None:
    """Send ``message`` through ``smtp`` (STARTTLS, implicit TLS, or plain to loopback).

    Raises:
        SendError: the server cannot be reached, refuses the login or the message.
    """
    context = ssl.create_default_context()
    client: smtplib.SMTP | None = None
    try:
        if smtp.security == "tls":
            client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout, context=context)
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
        client.ehlo()
        if smtp.security == "starttls":
            client.starttls(context=context)
            client.ehlo()
        if smtp.user is not None and password is not None:
            client.login(smtp.user, password)
        client.send_message(message)
    except smtplib.SMTPAuthenticationError as exc:
        raise SendError(
            f"the SMTP server refused the login of {smtp.user!r} ({exc.smtp_code})"
        ) from None
    except smtplib.SMTPNotSupportedError as exc:
        raise SendError(f"the SMTP server does not support {exc}") from None
    except smtplib.SMTPRecipientsRefused:
        raise SendError("the SMTP server refused the recipient") from None
    except smtplib.SMTPResponseException as exc:
        raise SendError(f"the SMTP server answered {exc.smtp_code}") from None
    except smtplib.SMTPServerDisconnected as exc:
        if "timed out" in str(exc):  # smtplib reports a read timeout as a disconnection
            raise SendError(
                f"{smtp.host}:{smtp.port} did not answer in {smtp.timeout:g} s"
            ) from None
        raise SendError(f"{smtp.host}:{smtp.port} closed the connection") from None
    except smtplib.SMTPException as exc:
        raise SendError(f"SMTP failed: {exc.__class__.__name__}") from None
    except ssl.SSLError as exc:
        raise SendError(f"TLS with {smtp.host}:{smtp.port} failed: {exc.reason}") from None
    except TimeoutError:
        raise SendError(f"{smtp.host}:{smtp.port} did not answer in {smtp.timeout:g} s") from None
    except OSError as exc:
        raise SendError(
            f"cannot reach {smtp.host}:{smtp.port}: {exc.strerror or exc.__class__.__name__}"
        ) from None
    finally:
        if client is not None:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()


def post_webhook(url: str, body: bytes, *, timeout: float = WEBHOOK_TIMEOUT) -> None:
    """POST ``body`` (JSON) to ``url``; any 2xx answer is success.

    Raises:
        SendError: the receiver cannot be reached, times out or answers other than 2xx.
    """
    import httpx

    from commands.notify_config import is_loopback

    host = httpx.URL(url).host
    try:
        response = httpx.post(
            url,
            content=body,
            headers={"Content-Type": "application/json", "User-Agent": "accord-notify"},
            timeout=timeout,
            follow_redirects=False,
            trust_env=not is_loopback(host),
        )
    except httpx.TimeoutException:
        raise SendError(f"the webhook at {host} did not answer in {timeout:g} s") from None
    except httpx.HTTPError as exc:
        raise SendError(f"cannot reach the webhook at {host}: {exc.__class__.__name__}") from None
    if not 200 <= response.status_code < 300:
        raise SendError(f"the webhook at {host} answered HTTP {response.status_code}")
