"""Helpers of the ``accord web`` tests: a project between real homes and one real relay."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from starlette.testclient import TestClient

from commands.web.access import WebConfig
from commands.web.server import create_app
from ledger import keys as key_store

BASE = "http://127.0.0.1:8480"
TOKEN = "test-token-0123456789abcdef"
HOSTS = frozenset({"127.0.0.1:8480", "localhost:8480"})


@dataclass
class Web:
    """An ``accord web`` app in process for one party, and its browser session."""

    client: TestClient
    config: WebConfig

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, **kwargs)

    def csrf(self, path: str) -> str:
        page = self.get(path)
        found = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert found, page.text
        return found.group(1)

    def post(self, path: str, data: dict[str, str], **kwargs: Any) -> Any:
        return self.client.post(path, data=data, **kwargs)


def web_for(party: Any, monkeypatch: Any, *, sign: bool = True, login: bool = True) -> Web:
    """The web app of ``party`` (its home and replica), logged in with the token."""
    monkeypatch.setenv("ACCORD_HOME", str(party.home))
    monkeypatch.setenv("ACCORD_PASSPHRASE", "correct horse battery")
    monkeypatch.delenv("ACCORD_PARTY", raising=False)
    monkeypatch.delenv("ACCORD_REMOTE", raising=False)
    signer = key_store.load_signer(party.handle, party.handle, "correct horse battery")
    config = WebConfig(
        url=str(party.ledger),
        party=party.handle,
        signer=signer,
        sign=sign,
        token=TOKEN,
        cookie="cookie-" + party.handle,
        csrf="csrf-" + party.handle,
        hosts=HOSTS,
    )
    client = TestClient(create_app(config), base_url=BASE, follow_redirects=False)
    if login:
        answer = client.get(f"/?token={TOKEN}")
        assert answer.status_code == 303, answer.text
    return Web(client, config)
