"""Choosing the event store: the one place that speaks eventsourcing's settings.

A file path selects SQLite (``eventsourcing.sqlite``); a ``postgresql://`` URL selects
PostgreSQL (``eventsourcing.postgres``, psycopg 3). ``?schema=NAME`` in the URL selects a
PostgreSQL schema. The default ledger is ``./accord.db``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlparse

from ledger.application import Ledger
from ledger.errors import LedgerNotFoundError, StorageUnavailableError, UsageError

if TYPE_CHECKING:
    from collections.abc import Callable

    from ledger.upstream import Upstream

DEFAULT_LEDGER = "accord.db"
POSTGRES_SCHEMES = ("postgresql", "postgres")


def default_url() -> str:
    """Return ``ACCORD_LEDGER`` or the default ``./accord.db``."""
    return os.environ.get("ACCORD_LEDGER") or DEFAULT_LEDGER


def is_postgres(url: str) -> bool:
    """Return True when ``url`` names a PostgreSQL database."""
    return urlparse(url).scheme in POSTGRES_SCHEMES


def settings(url: str, *, create: bool = True) -> dict[str, str]:
    """Translate a ledger path or URL into eventsourcing's environment settings.

    ``create`` lets PostgreSQL create its tables (``accord init``); creating them from
    several processes at once races in the catalog, so other commands do not.

    Raises:
        UsageError: the URL is malformed.
    """
    if is_postgres(url):
        parsed = urlparse(url)
        query = parse_qs(parsed.query)
        dbname = unquote(parsed.path.lstrip("/"))
        if not dbname or not parsed.hostname:
            raise UsageError(
                f"PostgreSQL URL {redact(url)!r} needs a host and a database",
                hint="write postgresql://USER@HOST:PORT/DBNAME",
            )
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": dbname,
            "POSTGRES_HOST": parsed.hostname,
            "POSTGRES_PORT": str(parsed.port or 5432),
            "POSTGRES_USER": unquote(parsed.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parsed.password or ""),
            "POSTGRES_CONNECT_TIMEOUT": query.get("connect_timeout", ["5"])[0],
            "POSTGRES_POOL_SIZE": "2",
            "POSTGRES_MAX_OVERFLOW": "2",
            "CREATE_TABLE": "y" if create else "n",
        }
        if "schema" in query:
            env["POSTGRES_SCHEMA"] = query["schema"][0]
        return env
    if url.startswith("sqlite:///"):
        url = url[len("sqlite:///") :]
    if ":" in url.split("/")[0] and "://" in url:
        raise UsageError(
            f"ledger {url!r} is neither a file path nor a postgresql:// URL",
            hint="use a path such as ./accord.db or postgresql://postgres@127.0.0.1/test",
        )
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(Path(url)),
        "SQLITE_LOCK_TIMEOUT": "30",
        "CREATE_TABLE": "y",
    }


def redact(url: str) -> str:
    """Return ``url`` without its password, for messages."""
    parsed = urlparse(url)
    if parsed.password:
        return url.replace(f":{parsed.password}@", ":***@")
    return url


def source_of(url: str) -> str:
    """The ledger's identity for the verified state: a resolved path or a redacted URL."""
    if is_postgres(url):
        return redact(url)
    if url.startswith("sqlite:///"):
        url = url[len("sqlite:///") :]
    return str(Path(url).resolve())


def open_ledger(
    url: str | None = None,
    *,
    create: bool = False,
    cached: int | None = None,
    cls: type[Ledger] = Ledger,
    upstream: Upstream[Ledger] | None = None,
    progress: Callable[[str, int], Any] | None = None,
) -> Ledger:
    """Open the ledger at ``url`` (default: ``ACCORD_LEDGER`` or ``./accord.db``).

    Args:
        url: a file path (SQLite) or a ``postgresql://`` URL.
        create: create a missing SQLite file (``accord init``); otherwise a missing file is
            an error, so a typo never silently starts an empty ledger.
        cached: keep up to this many aggregates in memory between reads (a long-running
            process: the relay). A cached aggregate is brought forward with the events stored
            after it on every read, so other writers' appends are never missed; the write
            path still checks it against the verified head.
        cls: the ``Ledger`` class to open (a subclass that a long-running process extends).
        upstream: a relay that orders the ledger's writes first (``ledger/upstream.py``).
        progress: a progress bar for long verifications (the CLI's).

    Raises:
        UsageError: the URL is malformed.
        LedgerNotFoundError: the SQLite file does not exist and ``create`` is false.
        StorageUnavailableError: the store cannot be opened or reached.
    """
    url = url or default_url()
    env = settings(url, create=create)
    if not is_postgres(url):
        path = Path(env["SQLITE_DBNAME"])
        if not path.exists() and not create:
            raise LedgerNotFoundError(
                f"no ledger at {path}",
                hint="run `accord init` here, or point --ledger / ACCORD_LEDGER at your ledger",
            )
        if create and not path.exists():
            directory = path.parent if str(path.parent) else Path()
            if not directory.is_dir() or not os.access(directory, os.W_OK):
                raise StorageUnavailableError(
                    f"cannot create the ledger {path}: directory {directory} is not writable",
                    hint="choose a writable location with --ledger",
                )
    if is_postgres(url) and create and env.get("POSTGRES_SCHEMA"):
        _create_schema(env)
    try:
        return cls(
            env,
            source=source_of(url),
            cached=cached or 0,
            upstream=upstream,
            progress=progress,
        )
    except StorageUnavailableError as exc:
        raise StorageUnavailableError(
            f"cannot open the ledger {redact(url)}: {exc.message.split(': ', 1)[-1]}",
            hint=exc.hint,
        ) from None
    except OSError as exc:
        raise StorageUnavailableError(
            f"cannot open the ledger {redact(url)}: {exc}",
            hint="check the path and its permissions",
        ) from None


def _create_schema(env: dict[str, str]) -> None:
    """Create the PostgreSQL schema named in the URL (``accord init`` only)."""
    try:
        import psycopg
        from psycopg import sql
    except ImportError:  # pragma: no cover - the postgres extra is missing
        raise StorageUnavailableError(
            "PostgreSQL support is not installed", hint="pip install 'accord-ledger[postgres]'"
        ) from None
    try:
        with psycopg.connect(
            dbname=env["POSTGRES_DBNAME"],
            host=env["POSTGRES_HOST"],
            port=int(env["POSTGRES_PORT"]),
            user=env["POSTGRES_USER"],
            password=env["POSTGRES_PASSWORD"] or None,
            connect_timeout=int(env["POSTGRES_CONNECT_TIMEOUT"]),
            autocommit=True,
        ) as conn:
            conn.execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                    sql.Identifier(env["POSTGRES_SCHEMA"])
                )
            )
    except psycopg.Error as exc:
        raise StorageUnavailableError(
            f"cannot reach PostgreSQL at {env['POSTGRES_HOST']}:{env['POSTGRES_PORT']}: "
            f"{str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}",
            hint="check that the server is running and the URL is right",
        ) from None
