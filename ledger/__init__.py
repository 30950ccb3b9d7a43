"""The write side of accord: signed entries, keys, the rules, the event-sourced store."""

from __future__ import annotations

__version__ = "0.1.0"
