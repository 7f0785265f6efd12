"""A polite, guarded HTTP client over httpx: robots.txt, per-host pacing, retries, size caps, no private addresses.

Every failure comes back as a `FetchFailure` with a short machine-readable reason (http_404, timeout, too_large,
private_address, robots_disallowed, ...) so the caller can turn it into a rejects row; nothing here raises on a bad
URL or a misbehaving server.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import httpcore
import httpx

if TYPE_CHECKING:
    from tasks.fetch.sources import HttpPolicy

_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
_REDIRECT_STATUS = frozenset({301, 302, 303, 307, 308})
_ROBOTS_MAX_BYTES = 512_000
_MAX_CRAWL_DELAY = 30.0


class FetchFailure(Exception):  # noqa: N818 - a result kind, not an error the caller handles as such
    """A URL that could not be fetched: `reason` is the rejects reason, `detail` the human-readable cause."""

    def __init__(self, reason: str, detail: str, *, retryable: bool = False, retry_after: float | None = None) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.retryable = retryable
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Fetched:
    """A response: final URL after redirects, status (200 or 304), headers that matter, and the decoded body."""

    url: str
    final_url: str
    status: int
    body: bytes | None
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class AddressGuard:
    """Which IP addresses requests may connect to."""

    allow_private: bool = False
    allowed: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    @classmethod
    def from_policy(cls, policy: HttpPolicy) -> AddressGuard:
        """The guard a sources file's HTTP policy asks for."""
        nets = tuple(ipaddress.ip_network(n, strict=False) for n in policy.allowed_networks)
        return cls(policy.allow_private_networks, nets)

    def permits(self, address: str) -> bool:
        """Whether connecting to `address` is allowed."""
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if any(ip in net for net in self.allowed):
            return True
        public = ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)
        return public or (self.allow_private and not ip.is_multicast and not ip.is_unspecified)


class PrivateAddressError(Exception):
    """The host resolves only to addresses the guard refuses."""


class _GuardedBackend(httpcore.SyncBackend):
    # Resolving here and connecting to the vetted address closes the DNS-rebinding gap a pre-check would leave.
    def __init__(self, guard: AddressGuard) -> None:
        self.guard = guard

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,  # noqa: ANN401 - httpcore's own signature
    ) -> httpcore.NetworkStream:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        allowed = [a for a in addresses if self.guard.permits(a)]
        if not allowed:
            raise PrivateAddressError(f"{host} resolves to non-public addresses {addresses}")
        last: Exception | None = None
        for address in allowed:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        raise last or httpcore.ConnectError(f"cannot connect to {host}")


class _GuardedTransport(httpx.HTTPTransport):
    def __init__(self, guard: AddressGuard) -> None:
        super().__init__(trust_env=False, retries=0)
        # httpx does not expose the network backend; swap the pool for one built on the guarded backend.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=_GuardedBackend(guard),
        )


class _Inflater:
    """Incremental Content-Encoding decoder with an output cap (a gzip bomb stops at the cap, not in memory)."""

    def __init__(self, encoding: str, limit: int) -> None:
        self.limit = limit
        self.size = 0
        encoding = encoding.strip().lower()
        if encoding in {"", "identity"}:
            self._z = None
        elif encoding in {"gzip", "x-gzip"}:
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._z = zlib.decompressobj(zlib.MAX_WBITS + 32)  # zlib or gzip header, auto-detected
        else:
            raise FetchFailure("unsupported_encoding", f"Content-Encoding {encoding!r}")

    def feed(self, chunk: bytes) -> bytes:
        """Decoded bytes of `chunk`; raises FetchFailure(too_large) past the cap."""
        if self._z is None:
            out = chunk
        else:
            try:
                # max_length bounds each step's output, so a tiny chunk cannot expand past the cap at once.
                out = self._z.decompress(chunk, self.limit - self.size + 1)
                while self._z.unconsumed_tail and self.size + len(out) <= self.limit:
                    out += self._z.decompress(self._z.unconsumed_tail, self.limit - self.size - len(out) + 1)
            except zlib.error as exc:
                raise FetchFailure("bad_encoding", f"corrupt compressed body: {exc}") from exc
        self.size += len(out)
        if self.size > self.limit:
            raise FetchFailure("too_large", f"body exceeds {self.limit} bytes after decompression")
        return out


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds a Retry-After header value (delta-seconds or HTTP date) asks to wait."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@dataclass(slots=True)
class _Host:
    slots: threading.Semaphore
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_start: float = 0.0
    delay: float = 0.0


@dataclass(slots=True)
class _Robots:
    parser: RobotFileParser | None  # None: fetch everything
    failure: FetchFailure | None = None  # robots.txt unreachable: fetch nothing on that host


class HttpClient:
    """GETs with conditional headers, redirects, robots.txt, per-host pacing, bounded retries and size caps."""

    def __init__(self, policy: HttpPolicy, user_agent: str) -> None:
        self.policy = policy
        self.user_agent = user_agent
        self._client = httpx.Client(
            transport=_GuardedTransport(AddressGuard.from_policy(policy)),
            timeout=httpx.Timeout(policy.timeout_seconds),
            follow_redirects=False,
            trust_env=False,
            headers={
                "User-Agent": user_agent,
                "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,text/plain;q=0.8,*/*;q=0.5",
                "Accept-Encoding": "gzip, deflate",
            },
        )
        self._hosts: dict[str, _Host] = {}
        self._robots: dict[str, _Robots] = {}
        self._lock = threading.Lock()
        self._robots_locks: dict[str, threading.Lock] = {}
        self.requests = 0

    def close(self) -> None:
        """Close pooled connections."""
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> Fetched:
        """Fetch `url` following redirects; 304 comes back with body None. Raises FetchFailure."""
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current = url
        visited = {url}
        for _ in range(self.policy.max_redirects + 1):
            _check_scheme(current)
            if self.policy.respect_robots:
                self._check_robots(current)
            status, resp_headers, body = self._with_retries(current, headers)
            if status in _REDIRECT_STATUS and resp_headers.get("location"):
                target = urljoin(current, resp_headers["location"])
                if target in visited:
                    raise FetchFailure("redirect_loop", f"{current} redirects back to {target}")
                visited.add(target)
                current = target
                continue
            if status == 304:  # noqa: PLR2004
                return Fetched(url, current, 304, None, etag=etag, last_modified=last_modified)
            if status >= 300:  # noqa: PLR2004
                raise FetchFailure(f"http_{status}", f"HTTP {status} from {current}")
            return Fetched(
                url,
                current,
                status,
                body,
                content_type=resp_headers.get("content-type"),
                etag=resp_headers.get("etag"),
                last_modified=resp_headers.get("last-modified"),
            )
        raise FetchFailure("too_many_redirects", f"more than {self.policy.max_redirects} redirects from {url}")

    def _with_retries(self, url: str, headers: Mapping[str, str]) -> tuple[int, Mapping[str, str], bytes | None]:
        policy = self.policy
        last: FetchFailure | None = None
        for attempt in range(policy.max_retries + 1):
            wait = min(policy.backoff_seconds * 2**attempt, policy.max_backoff_seconds)
            try:
                status, resp_headers, body = self._once(url, headers)
            except FetchFailure as exc:
                if not exc.retryable:
                    raise
                last = exc
            else:
                if status not in _RETRY_STATUS:
                    return status, resp_headers, body
                asked = retry_after_seconds(resp_headers.get("retry-after"))
                last = FetchFailure(f"http_{status}", f"HTTP {status} from {url}", retryable=True, retry_after=asked)
                if asked is not None:
                    if asked > policy.max_retry_after_seconds:
                        raise FetchFailure(
                            f"http_{status}", f"HTTP {status}; Retry-After {asked:.0f}s exceeds the configured limit"
                        )
                    wait = max(asked, wait) if status != 429 else asked  # noqa: PLR2004
            if attempt < policy.max_retries:
                time.sleep(wait)
        assert last is not None  # noqa: S101 - the loop ran at least once and only falls through after a failure
        raise FetchFailure(last.reason, f"{last.detail} (after {policy.max_retries} retries)")

    def _once(  # noqa: C901 - one ladder mapping each transport failure to its reason
        self, url: str, headers: Mapping[str, str]
    ) -> tuple[int, Mapping[str, str], bytes | None]:
        policy = self.policy
        host = urlsplit(url).netloc.lower()
        with self._slot(host):
            self.requests += 1
            deadline = time.monotonic() + policy.max_request_seconds
            try:
                with self._client.stream("GET", url, headers=dict(headers)) as resp:
                    resp_headers = {k.lower(): v for k, v in resp.headers.items()}
                    if resp.status_code != 200:  # noqa: PLR2004 - only a 200 body is ever used
                        return resp.status_code, resp_headers, None
                    declared = resp_headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > policy.max_bytes:
                        raise FetchFailure("too_large", f"Content-Length {declared} exceeds {policy.max_bytes}")
                    inflater = _Inflater(resp_headers.get("content-encoding", ""), policy.max_bytes)
                    chunks = []
                    for raw in resp.iter_raw():
                        chunks.append(inflater.feed(raw))
                        if time.monotonic() > deadline:
                            raise FetchFailure(
                                "timeout", f"body not complete after {policy.max_request_seconds}s", retryable=True
                            )
                    return 200, resp_headers, b"".join(chunks)
            except PrivateAddressError as exc:
                raise FetchFailure("private_address", str(exc)) from exc
            except httpx.TimeoutException as exc:
                raise FetchFailure(
                    "timeout", f"{type(exc).__name__} after {policy.timeout_seconds}s", retryable=True
                ) from exc
            except httpx.RemoteProtocolError as exc:
                raise FetchFailure("truncated_body", str(exc) or "connection closed early", retryable=True) from exc
            except httpx.UnsupportedProtocol as exc:
                raise FetchFailure("unsupported_scheme", str(exc)) from exc
            except httpx.InvalidURL as exc:
                raise FetchFailure("invalid_url", str(exc)) from exc
            except httpx.TransportError as exc:
                raise FetchFailure("connection_error", f"{type(exc).__name__}: {exc}", retryable=True) from exc
            except (httpx.HTTPError, ValueError) as exc:
                # Anything else httpx refuses about this URL or response is this URL's problem, not the run's.
                raise FetchFailure("invalid_url", f"{type(exc).__name__}: {exc}") from exc

    @contextmanager
    def _slot(self, host: str) -> Iterator[None]:
        with self._lock:
            state = self._hosts.get(host)
            if state is None:
                state = _Host(threading.Semaphore(self.policy.per_host_concurrency))
                state.delay = self.policy.per_host_delay_seconds
                self._hosts[host] = state
        with state.slots:
            with state.lock:
                now = time.monotonic()
                start = max(now, state.next_start)
                state.next_start = start + state.delay
            if start > now:
                time.sleep(start - now)
            yield

    def _check_robots(self, url: str) -> None:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc.lower()}"
        with self._lock:
            lock = self._robots_locks.setdefault(origin, threading.Lock())
        with lock:
            robots = self._robots.get(origin)
            if robots is None:
                robots = self._load_robots(origin)
                self._robots[origin] = robots
        if robots.failure is not None:
            raise FetchFailure(robots.failure.reason, robots.failure.detail)
        if robots.parser is not None and not robots.parser.can_fetch(self.user_agent, url):
            raise FetchFailure("robots_disallowed", f"robots.txt of {origin} disallows {parts.path or '/'}")

    def _load_robots(self, origin: str) -> _Robots:
        url = origin + "/robots.txt"
        try:
            for _ in range(5):  # RFC 9309: follow at least five redirects
                status, headers, body = self._with_retries(url, {})
                if status in _REDIRECT_STATUS and headers.get("location"):
                    url = urljoin(url, headers["location"])
                    _check_scheme(url)
                    continue
                break
        except FetchFailure as exc:
            # RFC 9309: an unreachable robots.txt means "assume complete disallow". A server error is reported as
            # such; a host that cannot be reached at all keeps its own reason (connection_error, timeout, ...).
            reason = "robots_unreachable" if exc.reason.startswith("http_") else exc.reason
            return _Robots(None, FetchFailure(reason, f"{url}: {exc.detail}"))
        if status == 200 and body is not None:  # noqa: PLR2004
            parser = RobotFileParser(url)
            parser.parse(body[:_ROBOTS_MAX_BYTES].decode("utf-8", "replace").splitlines())
            delay = parser.crawl_delay(self.user_agent)
            if delay:
                host = urlsplit(origin).netloc
                with self._lock:
                    state = self._hosts.setdefault(host, _Host(threading.Semaphore(self.policy.per_host_concurrency)))
                    state.delay = max(self.policy.per_host_delay_seconds, min(float(delay), _MAX_CRAWL_DELAY))
            return _Robots(parser)
        if 400 <= status < 500:  # noqa: PLR2004 - RFC 9309: robots.txt unavailable means no restrictions
            return _Robots(None)
        return _Robots(None, FetchFailure("robots_unreachable", f"{url}: HTTP {status}"))


def _check_scheme(url: str) -> None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for an invalid port
    except ValueError as exc:
        raise FetchFailure("invalid_url", f"{url!r}: {exc}") from exc
    if parts.scheme not in {"http", "https"}:
        raise FetchFailure("unsupported_scheme", f"only http and https are fetched, not {parts.scheme or 'none'!r}")
    if not parts.hostname:
        raise FetchFailure("invalid_url", f"no host in {url!r}")
