"""Deterministic identifiers: derived from content or identity, never from fetched text used as a path."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime


def sha256_hex(data: bytes | str) -> str:
    """Hex SHA-256 of bytes, or of a string's UTF-8 encoding."""
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def article_id(identity: str) -> str:
    """Stable article id from a canonical identity (canonical URL or source-relative path)."""
    return "a" + sha256_hex(identity)[:19]


def new_run_id(now: datetime | None = None) -> str:
    """Sortable, unique run id: UTC time plus random suffix."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)
