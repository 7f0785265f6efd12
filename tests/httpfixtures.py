"""A real HTTP server on 127.0.0.1 (ephemeral port) for fetch tests: pages, feeds, sitemaps, encodings and faults.

Routes are plain data (status, headers, body) or small handler functions; every request is recorded so tests can
assert what was asked (conditional headers, User-Agent, how many times a URL was hit).
"""

from __future__ import annotations

import gzip
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

Handler = Callable[[BaseHTTPRequestHandler, int], None]  # (request handler, hit number starting at 1)


@dataclass(slots=True)
class Seen:
    """One request the server received."""

    path: str
    headers: dict[str, str]


@dataclass(slots=True)
class LoopbackServer:
    """Routes by exact path (with its query, else without); unknown paths are 404."""

    routes: dict[str, Handler] = field(default_factory=dict)
    requests: list[Seen] = field(default_factory=list)
    port: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _hits: dict[str, int] = field(default_factory=dict)
    _httpd: ThreadingHTTPServer | None = None

    def url(self, path: str) -> str:
        """Absolute URL of `path` on this server."""
        return f"http://127.0.0.1:{self.port}{path}"

    def hits(self, path: str) -> int:
        """How many requests `path` received."""
        with self._lock:
            return self._hits.get(path, 0)

    def seen(self, path: str) -> list[Seen]:
        """The requests `path` received, in order."""
        with self._lock:
            return [r for r in self.requests if r.path == path]

    # -- routes -----------------------------------------------------------------------------------------------

    def page(
        self,
        path: str,
        body: bytes | str,
        *,
        content_type: str = "text/html; charset=utf-8",
        status: int = 200,
        headers: dict[str, str] | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> None:
        """Serve fixed bytes (answering conditional requests with 304 when an etag/last_modified is given)."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        extra = dict(headers or {})

        def handle(h: BaseHTTPRequestHandler, _: int) -> None:
            if etag and h.headers.get("If-None-Match") == etag:
                h.send_response(304)
                h.send_header("ETag", etag)
                h.end_headers()
                return
            if last_modified and h.headers.get("If-Modified-Since") == last_modified:
                h.send_response(304)
                h.end_headers()
                return
            h.send_response(status)
            h.send_header("Content-Type", content_type)
            h.send_header("Content-Length", str(len(data)))
            if etag:
                h.send_header("ETag", etag)
            if last_modified:
                h.send_header("Last-Modified", last_modified)
            for k, v in extra.items():
                h.send_header(k, v)
            h.end_headers()
            h.wfile.write(data)

        self.routes[path] = handle

    def gzipped(self, path: str, compressed: bytes, *, content_type: str = "text/html; charset=utf-8") -> None:
        """Serve already-gzipped bytes with Content-Encoding: gzip."""

        def handle(h: BaseHTTPRequestHandler, _: int) -> None:
            h.send_response(200)
            h.send_header("Content-Type", content_type)
            h.send_header("Content-Encoding", "gzip")
            h.send_header("Content-Length", str(len(compressed)))
            h.end_headers()
            h.wfile.write(compressed)

        self.routes[path] = handle

    def flaky(
        self, path: str, body: str, *, failures: int = 1, status: int = 500, retry_after: str | None = None
    ) -> None:
        """Fail `failures` times with `status` (and Retry-After), then serve `body`."""

        def handle(h: BaseHTTPRequestHandler, hit: int) -> None:
            if hit <= failures:
                h.send_response(status)
                if retry_after is not None:
                    h.send_header("Retry-After", retry_after)
                h.send_header("Content-Length", "0")
                h.end_headers()
                return
            data = body.encode("utf-8")
            h.send_response(200)
            h.send_header("Content-Type", "text/html; charset=utf-8")
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)

        self.routes[path] = handle

    def hang(self, path: str, seconds: float) -> None:
        """Accept the request and say nothing for `seconds` (past the client's timeout)."""

        def handle(h: BaseHTTPRequestHandler, _: int) -> None:
            time.sleep(seconds)
            h.close_connection = True

        self.routes[path] = handle

    def truncated(self, path: str, *, declared: int = 5000, sent: int = 100) -> None:
        """Declare `declared` bytes, send `sent`, then close the connection."""

        def handle(h: BaseHTTPRequestHandler, _: int) -> None:
            h.send_response(200)
            h.send_header("Content-Type", "text/html; charset=utf-8")
            h.send_header("Content-Length", str(declared))
            h.end_headers()
            h.wfile.write(b"<html><body><p>" + b"x" * max(0, sent - 15))
            h.wfile.flush()
            h.close_connection = True

        self.routes[path] = handle

    def huge(self, path: str, size: int, *, declare_length: bool = True) -> None:
        """Stream `size` bytes of HTML (with or without a Content-Length saying so)."""
        chunk = b"<p>" + b"a" * 1021

        def handle(h: BaseHTTPRequestHandler, _: int) -> None:
            h.send_response(200)
            h.send_header("Content-Type", "text/html; charset=utf-8")
            if declare_length:
                h.send_header("Content-Length", str(size))
            h.end_headers()
            h.close_connection = True
            sent = 0
            try:
                while sent < size:
                    h.wfile.write(chunk)
                    sent += len(chunk)
            except (BrokenPipeError, ConnectionResetError):
                return

        self.routes[path] = handle

    def gzip_bomb(self, path: str, expanded: int) -> None:
        """A small gzip body that expands to `expanded` bytes of zeros-and-tags."""
        z = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        block = b"<p>" + b"\0" * (1 << 20)
        parts = [z.compress(block) for _ in range(max(1, expanded // len(block)))]
        self.gzipped(path, b"".join(parts) + z.flush())

    def redirect(self, path: str, location: str, *, status: int = 302) -> None:
        """Redirect `path` to `location`."""

        def handle(h: BaseHTTPRequestHandler, _: int) -> None:
            h.send_response(status)
            h.send_header("Location", location)
            h.send_header("Content-Length", "0")
            h.end_headers()

        self.routes[path] = handle

    def evaldata_pages(self, folder: Path, prefix: str = "/bench/") -> list[str]:
        """Serve every html/<id>.html.gz of the extraction benchmark gzip-encoded; returns their ids."""
        ids = []
        for gz in sorted((folder / "html").glob("*.html.gz")):
            item = gz.name.removesuffix(".html.gz")
            self.gzipped(f"{prefix}{item}.html", gz.read_bytes())
            ids.append(item)
        return ids

    # -- server -----------------------------------------------------------------------------------------------

    def _dispatch(self, h: BaseHTTPRequestHandler) -> None:
        path = h.path
        with self._lock:
            self.requests.append(Seen(path, dict(h.headers.items())))
            hit = self._hits[path] = self._hits.get(path, 0) + 1
        route = self.routes.get(path) or self.routes.get(path.split("?", 1)[0])
        if route is None:
            h.send_response(404)
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        route(h, hit)

    @contextmanager
    def running(self) -> Iterator[LoopbackServer]:
        """Serve in a background thread until the block ends."""
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                server._dispatch(self)

            def log_message(self, *args: object) -> None:
                pass

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        httpd.daemon_threads = True
        self._httpd = httpd
        self.port = httpd.server_address[1]
        thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            httpd.shutdown()
            httpd.server_close()


def sources_toml(server: LoopbackServer, body: str, **http: object) -> str:
    """A sources file text for `server`: loopback allowed, no politeness delay, quick retries, plus `body`."""
    policy = {
        "allowed_networks": ["127.0.0.1/32"],
        "per_host_delay_seconds": 0,
        "backoff_seconds": 0.05,
        "max_retries": 2,
        "timeout_seconds": 2,
        "reuse_within_hours": 0,
        **http,
    }
    lines = ['user_agent = "newsgraph-test/1.0 (+https://example.invalid/tests)"', "", "[http]"]
    for key, value in policy.items():
        if isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'}")
        elif isinstance(value, list):
            lines.append(f"{key} = [{', '.join(repr(v).replace(chr(39), chr(34)) for v in value)}]")
        else:
            lines.append(f"{key} = {value}")
    return "\n".join(lines) + "\n\n" + body.strip() + "\n"


ROBOTS = "User-agent: *\nDisallow: /private/\n"

ARTICLE_EN = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title} | Daily Tech</title>
<meta property="og:site_name" content="Daily Tech">
<meta property="article:published_time" content="2024-03-05T09:30:00+09:00">
<meta name="author" content="Kim Minji">{canonical}</head>
<body><nav><a href="/">Home</a> <a href="/news">News</a> <a href="/about">About</a></nav>
<article><h1>{title}</h1>
<p>{para1}</p>
<p>{para2}</p>
<p>The programme will run until the end of 2026, officials said on Tuesday, and is open to local companies.</p>
</article>
<aside><h3>Related</h3><ul><li><a href="/x">Other story one</a></li>
<li><a href="/y">Other story two</a></li></ul></aside>
<footer>Copyright 2024 Daily Tech. All rights reserved.</footer></body></html>"""


def article_html(title: str, para1: str, para2: str, *, canonical: str | None = None) -> str:
    """A small news page with navigation, a related list and a footer around the article."""
    link = f'\n<link rel="canonical" href="{canonical}">' if canonical else ""
    return ARTICLE_EN.format(title=title, para1=para1, para2=para2, canonical=link)


KO_TEXT = (
    "성남시와 카이스트는 4일 인공지능 연구센터 설립을 위한 업무협약을 체결했다고 밝혔다. "
    "이번 협약에 따라 두 기관은 판교 제2테크노밸리에서 공동 연구를 진행한다."
)
JA_TEXT = (
    "東京都は5日、人工知能の研究開発を支援する新たな計画を発表した。"
    "都内の中小企業を対象に、最大で一千万円の補助金を交付するという。"
)


def cjk_page(text: str, charset: str, *, declare_in_meta: bool = True, lang: str = "ko") -> bytes:
    """An HTML page in `charset`, declaring it in a <meta> tag or not at all."""
    meta = f'<meta charset="{charset}">' if declare_in_meta else ""
    html = (
        f'<html lang="{lang}"><head>{meta}<title>{text[:12]}</title></head><body><article>'
        f"<p>{text}</p><p>{text[::-1][:40]}。{text[:30]}</p></article></body></html>"
    )
    return html.encode(charset)


def gzip_bytes(data: bytes) -> bytes:
    """gzip-compressed `data`."""
    return gzip.compress(data)
