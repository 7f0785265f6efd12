"""Canonical URLs: one identity per article however it was reached (tracking parameters, AMP, mobile hosts)."""

from __future__ import annotations

import posixpath
import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

# Query parameters that only say how a reader arrived, never which document it is.
_TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "ttclid",
        "igshid",
        "igsh",
        "mc_cid",
        "mc_eid",
        "mkt_tok",
        "_ga",
        "_gl",
        "_hsenc",
        "_hsmi",
        "hsctatracking",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
        "cmpid",
        "ocid",
        "sr_share",
        "ref_src",
        "ref_url",
        "spm",
        "s_cid",
        "amp",
        "amp_js_v",
        "amp_gsa",
        "usqp",
        "outputtype",
    }
)
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "at_", "__twitter_impression")
_MOBILE_HOST = re.compile(r"^(?:m|mobile|amp|www)\.(?=[^.]+\.[^.]+)")
_AMP_PATH = re.compile(r"(?:/amp/?$|/amp(?=/)|\.amp(?=$|\.html?$))", re.IGNORECASE)
_UNRESERVED = "-._~"


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in _TRACKING_PARAMS or lowered.startswith(_TRACKING_PREFIXES)


def _clean_path(path: str) -> str:
    # Decode then re-encode so %7E and ~ (or %e3 and %E3) compare equal; keep reserved characters encoded.
    path = quote(unquote(path), safe="/:@!$&'()*+,;=" + _UNRESERVED)
    path = _AMP_PATH.sub("", path) or "/"
    normal = posixpath.normpath(path) if path not in {"", "/"} else "/"
    return "/" + normal.lstrip("/")


def canonical_url(url: str) -> str:
    """The canonical form of an http(s) URL: lower-case host without www./m./amp., no tracking, sorted query."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return url.strip()  # not a URL we can normalise; the fetch will reject it with the reason
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    host = _MOBILE_HOST.sub("", host)
    netloc = host if port is None or (scheme, port) in {("http", 80), ("https", 443)} else f"{host}:{port}"
    if ":" in host and not host.startswith("["):
        netloc = f"[{host}]" + (f":{port}" if port and (scheme, port) not in {("http", 80), ("https", 443)} else "")
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k and not _is_tracking(k))
    # http and https serve the same article; identity does not depend on which one a link used.
    return urlunsplit(
        ("https" if scheme in {"http", "https"} else scheme, netloc, _clean_path(parts.path), urlencode(query), "")
    )


def same_site(a: str, b: str) -> bool:
    """Whether two URLs are on the same site (hosts equal after canonicalisation, or one a subdomain of the other)."""
    ha, hb = urlsplit(canonical_url(a)).hostname or "", urlsplit(canonical_url(b)).hostname or ""
    return bool(ha) and (ha == hb or ha.endswith("." + hb) or hb.endswith("." + ha))


def preferred_identity(fetched_url: str, declared: str | None) -> str:
    """The page's declared canonical URL when it is plausible (same site, not the home page), else the fetched one."""
    if declared:
        declared_parts = urlsplit(declared)
        if (
            declared_parts.scheme in {"http", "https"}
            and same_site(fetched_url, declared)
            and (declared_parts.path.strip("/") or not urlsplit(fetched_url).path.strip("/"))
        ):
            return canonical_url(declared)
    return canonical_url(fetched_url)
