"""A translator for LibreTranslate-compatible HTTP APIs (POST /translate, GET /languages)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from typing import Any, cast

import httpx

from tasks.translate.base import TranslatorError

DEFAULT_KEY_ENV = "LIBRETRANSLATE_API_KEY"
_RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
_AUTH_STATUS = frozenset({401, 402, 403})


class LibreTranslateTranslator:
    """Sends batches to a LibreTranslate server with a timeout and bounded retries.

    The API key comes from the environment variable named by `api_key_env` or from the Prefect Secret block named
    by `api_key_secret`; it is never accepted in settings, and never appears in errors or in this object's repr.
    """

    name = "libretranslate"

    def __init__(
        self,
        url: str = "http://127.0.0.1:5000",
        *,
        api_key_env: str = DEFAULT_KEY_ENV,
        api_key_secret: str | None = None,
        timeout: float = 30.0,
        retries: int = 2,
        backoff: float = 1.0,
        engine_version: str | None = None,
        api_key: object = None,
    ) -> None:
        if api_key is not None:
            raise ValueError(
                "libretranslate: do not put the API key in settings; set the environment variable named by "
                "api_key_env (default LIBRETRANSLATE_API_KEY) or name a Prefect Secret block in api_key_secret"
            )
        if timeout <= 0 or retries < 0 or backoff < 0:
            raise ValueError("libretranslate: timeout must be positive, retries and backoff non-negative")
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._key = _resolve_key(api_key_env, api_key_secret)
        self._version = engine_version
        self._version_known = engine_version is not None
        self._languages: dict[str, set[str]] | None = None
        self._lock = threading.Lock()
        self._client = httpx.Client(timeout=timeout)

    def __repr__(self) -> str:
        return f"LibreTranslateTranslator(url={self.url!r}, key={'set' if self._key else 'none'})"

    @property
    def version(self) -> str | None:
        """The server's API version from its OpenAPI document (/spec), unless set in the options."""
        with self._lock:
            if not self._version_known:
                self._version_known = True
                try:
                    spec = self._client.get(f"{self.url}/spec", timeout=min(self.timeout, 10.0)).json()
                    found = spec.get("info", {}).get("version") if isinstance(spec, dict) else None
                    self._version = str(found) if found else None
                except (httpx.HTTPError, ValueError):
                    self._version = None
            return self._version

    def supports(self, source: str, target: str) -> bool:
        """Whether the server lists the pair; when /languages cannot be read every pair is tried."""
        with self._lock:
            if self._languages is None:
                self._languages = self._read_languages()
        if not self._languages:
            return source != "und"
        return target in self._languages.get(source, set())

    def _read_languages(self) -> dict[str, set[str]]:
        try:
            response = self._client.get(f"{self.url}/languages")
            response.raise_for_status()
            entries = response.json()
        except (httpx.HTTPError, ValueError):
            return {}
        codes = {str(e["code"]) for e in entries if isinstance(e, dict) and "code" in e}
        return {
            str(e["code"]): {str(t) for t in e.get("targets", codes)}
            for e in entries
            if isinstance(e, dict) and "code" in e
        }

    def translate(self, texts: Sequence[str], *, source: str, target: str) -> list[str]:
        """Translations of `texts`, retrying timeouts, connection errors, 429 and 5xx a bounded number of times."""
        payload: dict[str, Any] = {"q": list(texts), "source": source, "target": target, "format": "text"}
        if self._key:
            payload["api_key"] = self._key
        problem = "no attempt made"
        attempts = self.retries + 1
        for attempt in range(attempts):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                response = self._client.post(f"{self.url}/translate", json=payload)
            except httpx.TimeoutException:
                problem = f"timed out after {self.timeout:g} s"
                continue
            except httpx.TransportError as exc:
                problem = self._redact(f"connection failed ({type(exc).__name__}: {exc})")
                continue
            if response.status_code == httpx.codes.OK:
                return self._parse(response, len(texts))
            problem = self._describe(response)
            if response.status_code in _AUTH_STATUS:
                raise TranslatorError(f"{problem}; check the API key", fatal=True)
            if response.status_code not in _RETRY_STATUS:
                raise TranslatorError(problem)
        raise TranslatorError(f"{problem} ({attempts} attempts)")

    def _parse(self, response: httpx.Response, expected: int) -> list[str]:
        try:
            translated = response.json()["translatedText"]
        except (ValueError, KeyError, TypeError):
            raise TranslatorError("the server answered 200 without translatedText") from None
        out = [translated] if isinstance(translated, str) else translated
        if not isinstance(out, list) or len(out) != expected or not all(isinstance(t, str) for t in out):
            raise TranslatorError(f"the server returned {len(out)} translations for {expected} texts")
        return out

    def _describe(self, response: httpx.Response) -> str:
        try:
            detail = response.json().get("error")
        except (ValueError, AttributeError):
            detail = None
        text = str(detail or response.text or response.reason_phrase)[:300]
        return self._redact(f"HTTP {response.status_code} from {self.url}/translate: {text}")

    def _redact(self, message: str) -> str:
        # Servers and transports may echo the request; the key must not reach rows or logs through them.
        return message.replace(self._key, "***") if self._key else message

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()


def _resolve_key(env_name: str, secret_block: str | None) -> str | None:
    if secret_block:
        from prefect.blocks.system import Secret  # lazy: only deployments that keep the key in Prefect need it

        # _sync: a plain value even when a flow runs this inside an event loop.
        block = cast("Secret[Any]", Secret.load(secret_block, _sync=True))  # type: ignore[call-arg]
        value = block.get()
        return str(value) if value else None
    return os.environ.get(env_name) or None
