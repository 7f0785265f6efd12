"""The libretranslate translator against a LibreTranslate-compatible server on 127.0.0.1 started by the tests."""

# Korean and Japanese test texts use full-width punctuation on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import polars as pl
import pytest

from tasks.schemas import TRANSLATIONS
from tasks.translate import TranslatorError, get_translator, translate_articles
from tasks.translate.libretranslate import LibreTranslateTranslator

OPEN, CLOSE = "\u27e6", "\u27e7"  # brackets the fake wraps translations in; absent from the test texts
KEY = "sk-test-7f3a9c-never-log-me"
KEY_ENV = "NG_TEST_LIBRETRANSLATE_KEY"


def fake_translation(text: str, source: str, target: str) -> str:
    """Deterministic stand-in for MT: the text bracketed and tagged with the language pair."""
    return f"{OPEN}{source}>{target} {text}{CLOSE}"


def unwrap(translated: str) -> str:
    """Undo fake_translation on a joined text, so tests can compare with the source exactly."""
    out = []
    rest = translated
    while OPEN in rest:
        before, _, after = rest.partition(OPEN)
        inner, _, rest = after.partition(CLOSE)
        out.append(before + inner.split(" ", 1)[1])
    return "".join(out) + rest


@dataclass
class FakeLibreTranslate:
    """State and fault switches of the loopback server; tests flip them between calls."""

    api_key: str | None = None
    languages: tuple[str, ...] = ("en", "ko", "ja")
    char_limit: int | None = None
    fail_first: int = 0  # answer the next N /translate requests with 500
    fail_when: str | None = None  # answer 500 to any request containing this text
    delay: float = 0.0  # seconds to wait before answering /translate
    version: str = "fake-1.4"
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, path: str, payload: dict[str, Any]) -> tuple[int, Any]:  # noqa: PLR0911 - one branch per fault
        """Status and JSON body for one request."""
        if path == "/languages":
            return 200, [
                {"code": c, "name": c, "targets": [t for t in self.languages if t != c]} for c in self.languages
            ]
        if path == "/spec":
            return 200, {"swagger": "2.0", "info": {"title": "LibreTranslate", "version": self.version}}
        if path != "/translate":
            return 404, {"error": "not found"}
        with self.lock:
            self.requests.append(payload)
            failing = self.fail_first > 0
            self.fail_first -= int(failing)
        if self.delay:
            time.sleep(self.delay)
        if self.api_key is not None and payload.get("api_key") != self.api_key:
            return 403, {"error": "Invalid API key"}
        q = payload.get("q")
        texts = q if isinstance(q, list) else [q]
        if failing or (self.fail_when and any(self.fail_when in t for t in texts)):
            return 500, {"error": "Cannot translate text: internal error"}
        if self.char_limit is not None and sum(len(t) for t in texts) > self.char_limit:
            return 400, {"error": f"Invalid request: request exceeds text limit ({self.char_limit})"}
        source, target = payload.get("source"), payload.get("target")
        if source not in self.languages or target not in self.languages:
            return 400, {"error": f"{source} -> {target} is not supported"}
        out = [fake_translation(t, source, target) for t in texts]
        return 200, {"translatedText": out if isinstance(q, list) else out[0]}

    @property
    def texts(self) -> list[str]:
        """Every text the server was asked to translate, in arrival order."""
        return [t for r in self.requests for t in (r["q"] if isinstance(r["q"], list) else [r["q"]])]


class _Handler(BaseHTTPRequestHandler):
    server: Any

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout tests)

    def do_GET(self) -> None:
        self._send(*self.server.fake.answer(self.path, {}))

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        if self.headers.get("Content-Type", "").startswith("application/json"):
            payload = json.loads(raw)
        else:  # LibreTranslate also takes form posts; q may repeat
            form = parse_qs(raw)
            payload = {k: (v if k == "q" and len(v) > 1 else v[0]) for k, v in form.items()}
        self._send(*self.server.fake.answer(self.path, payload))

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class names it so
        pass


@contextmanager
def serve_libretranslate(**config: Any) -> Iterator[FakeLibreTranslate]:
    """A running FakeLibreTranslate on 127.0.0.1 (random port) for the duration of the block."""
    fake = FakeLibreTranslate(**config)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.fake = fake  # type: ignore[attr-defined]
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def lt() -> Iterator[FakeLibreTranslate]:
    with serve_libretranslate() as fake:
        yield fake


KO_BODY = (
    '광주시는 인공지능 산업을 육성하겠다고 밝혔다. 시장은 "AI 도시를 만들겠다"고 말했다.\n\n'
    "협약은 10월 4일 체결됐다.이어 양측은 연구센터를 세우기로 했다. 좋아요!"
)
JA_BODY = "光州市は協約を締結した。市長は「AIの都市にする」と述べた！\n\n次の会議は11月だ。本当か？はい。"
EN_BODY = "Gwangju signed an MOU. Mr. Lee said the U.S. office opens on Jan. 3.\n\nIt costs 3.5 billion won."


def articles(n_ko: int = 1, n_ja: int = 1, n_en: int = 1) -> pl.DataFrame:
    rows = (
        [("ko", f"광주 AI 기사 {i}", KO_BODY) for i in range(n_ko)]
        + [("ja", f"光州AI記事{i}", JA_BODY) for i in range(n_ja)]
        + [("en", f"Gwangju AI story {i}", EN_BODY) for i in range(n_en)]
    )
    return pl.DataFrame(
        {
            "article_id": [f"a{i:03d}" for i in range(len(rows))],
            "language": [r[0] for r in rows],
            "title": [r[1] for r in rows],
            "body": [r[2] for r in rows],
        }
    )


def options(fake: FakeLibreTranslate, **extra: Any) -> dict[str, Any]:
    """translator_options for the fake: engine table plus step limits, fast retries."""
    engine = {"url": fake.url, "timeout": 2.0, "retries": 2, "backoff": 0.0, "api_key_env": KEY_ENV}
    engine.update({k: extra.pop(k) for k in list(extra) if k in {"timeout", "retries", "url"}})
    return {"libretranslate": engine, **extra}


def run(frame: pl.DataFrame, fake: FakeLibreTranslate, **extra: Any) -> pl.DataFrame:
    out = translate_articles(frame, engine="libretranslate", options=options(fake, **extra))
    assert TRANSLATIONS.check(out) == []
    return out.sort("article_id")


def test_translates_ko_and_ja_rows_and_copies_english(lt):
    frame = articles()
    out = run(frame, lt)
    assert out["status"].to_list() == ["translated", "translated", "source_is_target"]
    assert out["engine"].unique().to_list() == ["libretranslate"]
    assert out["engine_version"].unique().to_list() == ["fake-1.4"]
    assert out["source_language"].to_list() == ["ko", "ja", "en"]
    assert out["error"].null_count() == 3
    for row, src in zip(out.head(2).iter_rows(named=True), frame.head(2).iter_rows(named=True), strict=True):
        assert f"{OPEN}{src['language']}>en" in row["body_en"]
        assert unwrap(row["body_en"]) == src["body"]  # every character came back, in order, layout kept
        assert unwrap(row["title_en"]) == src["title"]
        assert row["body_en"].count("\n\n") == src["body"].count("\n\n")
    assert out["body_en"][2] == EN_BODY
    assert not any(t.startswith("Gwangju") for t in lt.texts)  # English is never sent


def test_requests_respect_batch_limits_and_long_bodies_are_split_not_truncated(lt):
    long_body = " ".join(f"문장 번호 {i}는 광주의 인공지능 정책을 설명한다." for i in range(120))
    frame = pl.DataFrame(
        {"article_id": ["k1", "k2"], "language": ["ko", "ko"], "title": ["제목", None], "body": [long_body, KO_BODY]}
    )
    out = run(frame, lt, chunk_chars=200, batch_chars=600, batch_texts=4)
    assert out["status"].to_list() == ["translated", "translated"]
    assert unwrap(out["body_en"][0]) == long_body
    assert out["title_en"][1] is None  # no title in, no title out
    assert len(lt.requests) > 1
    for request in lt.requests:
        assert len(request["q"]) <= 4
        assert sum(len(t) for t in request["q"]) <= 600
        assert all(len(t) <= 200 for t in request["q"])
        assert request["format"] == "text"
    assert all(t.rstrip().endswith(("다.", "다")) for t in lt.texts if t.startswith("문장"))


def test_budget_leaves_rows_over_it_pending(lt):
    frame = articles(n_ko=3, n_ja=0, n_en=1)
    per_row = len(KO_BODY) + len("광주 AI 기사 0")
    out = run(frame, lt, char_budget=2 * per_row + 5)
    assert out["status"].to_list() == ["translated", "translated", "pending", "source_is_target"]
    assert out.filter(pl.col("status") == "pending")["body_en"].to_list() == [None]
    assert sum(len(t) for t in lt.texts) <= 2 * per_row + 5


def test_server_errors_are_retried_within_bounds(lt):
    lt.fail_first = 2
    out = run(articles(n_ko=1, n_ja=0, n_en=0), lt)
    assert out["status"].to_list() == ["translated"]
    assert len(lt.requests) == 3


def test_persistent_failure_marks_rows_failed_and_the_run_continues(lt):
    lt.fail_when = "光州"  # every request with Japanese text fails; Korean ones succeed
    out = run(articles(n_ko=2, n_ja=1, n_en=1), lt, batch_texts=3, retries=1)
    by_lang = dict(zip(out["source_language"], out["status"], strict=True))
    assert out.filter(pl.col("source_language") == "ko")["status"].to_list() == ["translated", "translated"]
    assert by_lang["ja"] == "failed"
    assert by_lang["en"] == "source_is_target"
    failed = out.filter(pl.col("status") == "failed")
    assert failed["error"][0].startswith("HTTP 500")
    assert "2 attempts" in failed["error"][0]
    assert failed["body_en"][0] is None


def test_slow_server_times_out_and_rows_fail(lt):
    lt.delay = 0.6
    started = time.perf_counter()
    out = run(articles(n_ko=1, n_ja=0, n_en=0), lt, timeout=0.2, retries=1)
    assert out["status"].to_list() == ["failed"]
    assert "timed out" in out["error"][0]
    assert len(lt.requests) == 2
    assert time.perf_counter() - started < 5


def test_consecutive_failures_stop_the_run_and_untried_rows_stay_pending(lt):
    lt.fail_first = 1000
    out = run(articles(n_ko=6, n_ja=0, n_en=0), lt, batch_texts=2, retries=0, max_consecutive_failures=2)
    assert out["status"].value_counts().sort("status").rows() == [("failed", 2), ("pending", 4)]
    assert len(lt.requests) == 2


def test_bad_key_is_fatal_and_never_leaks(monkeypatch, caplog):
    monkeypatch.setenv(KEY_ENV, KEY)
    caplog.set_level(logging.DEBUG)
    with serve_libretranslate(api_key="the-right-key") as fake:
        out = run(articles(n_ko=3, n_ja=0, n_en=0), fake, batch_texts=2)
    assert fake.requests[0]["api_key"] == KEY  # the key was sent ...
    assert len(fake.requests) == 1  # ... once: 403 is not retried and stops the run
    assert out["status"].to_list() == ["failed", "pending", "pending"]
    assert "403" in out["error"][0]
    assert "API key" in out["error"][0]
    rendered = out.write_csv() + repr(get_translator("libretranslate", options(fake)["libretranslate"]))
    assert KEY not in rendered  # ... and appears nowhere we write or log
    assert KEY not in caplog.text
    assert "403" in caplog.text


def test_correct_key_is_sent_and_translation_succeeds(monkeypatch, caplog):
    monkeypatch.setenv(KEY_ENV, KEY)
    caplog.set_level(logging.DEBUG)
    with serve_libretranslate(api_key=KEY) as fake:
        out = run(articles(n_ko=1, n_ja=1, n_en=0), fake)
    assert out["status"].to_list() == ["translated", "translated"]
    assert {r["api_key"] for r in fake.requests} == {KEY}
    assert KEY not in caplog.text


def test_key_in_settings_is_refused_without_echoing_it(lt):
    with pytest.raises(ValueError, match="environment variable") as info:
        get_translator("libretranslate", {"url": lt.url, "api_key": KEY})
    assert KEY not in str(info.value)


def test_error_text_echoing_the_key_is_redacted(monkeypatch):
    monkeypatch.setenv(KEY_ENV, KEY)
    with serve_libretranslate(char_limit=5) as fake:
        fake.answer = lambda _path, payload: (400, {"error": f"bad request {payload.get('api_key')}"})  # type: ignore[method-assign]
        translator = LibreTranslateTranslator(fake.url, api_key_env=KEY_ENV, retries=0)
        with pytest.raises(TranslatorError) as info:
            translator.translate(["x"], source="ko", target="en")
    assert KEY not in str(info.value)
    assert "***" in str(info.value)


def test_unsupported_pair_stays_pending(lt):
    lt.languages = ("en", "ko")
    out = run(articles(n_ko=1, n_ja=1, n_en=0), lt)
    assert out["status"].to_list() == ["translated", "pending"]
    assert not any("光州" in t for t in lt.texts)


def test_unreachable_server_fails_rows_with_a_clear_error():
    with serve_libretranslate() as fake:
        url = fake.url
    frame = articles(n_ko=1, n_ja=0, n_en=1)
    out = translate_articles(
        frame,
        engine="libretranslate",
        options={"libretranslate": {"url": url, "retries": 1, "backoff": 0.0, "timeout": 1.0}},
        now=datetime(2026, 1, 1, tzinfo=UTC),
    ).sort("article_id")
    assert out["status"].to_list() == ["failed", "source_is_target"]
    assert "connection failed" in out["error"][0]
    assert out["engine_version"].to_list() == [None, None]
