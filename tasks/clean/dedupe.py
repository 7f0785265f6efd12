"""Duplicates: content hashes and MinHash signatures per article, clusters over the whole article set."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import polars as pl

from tasks.clean.text import word_characters

# Signature size and LSH banding: 16 bands of 4 values make pairs with Jaccard >= 0.7 candidates with ~99 %
# probability and pairs at 0.3 with ~12 %; candidates are then verified on the whole signature.
SIGNATURE_SIZE = 64
BANDS = 16
ROWS = SIGNATURE_SIZE // BANDS
SHINGLE_CHARS = 5
# Estimated Jaccard similarity of character 5-gram sets above which two articles are near-duplicates
# (syndicated copies, updated versions); different articles about one event stay well below it.
NEAR_DUPLICATE = 0.7
_BIN_SHIFT = np.uint64(64 - 6)  # 2**6 = SIGNATURE_SIZE bins, one-permutation hashing
_VALUE_MASK = np.uint64((1 << 58) - 1)
_PRIME = np.uint64(0x100000001B3)


def content_key(body: str) -> str:
    """Body reduced for exact-duplicate detection: case-folded, without whitespace and punctuation."""
    return word_characters(body)  # not norm_key: bodies are not worth caching


def content_hash(body: str, key: str | None = None) -> str:
    """SHA-256 of the content key: equal for bodies that differ only in case, spacing or punctuation."""
    return hashlib.sha256((content_key(body) if key is None else key).encode("utf-8")).hexdigest()


def _mix(h: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    # splitmix64 finaliser: spreads the polynomial hashes over all 64 bits (wrapping arithmetic is intended).
    h = h ^ (h >> np.uint64(30))
    h = h * np.uint64(0xBF58476D1CE4E5B9)
    h = h ^ (h >> np.uint64(27))
    h = h * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


def signature(body: str, key: str | None = None) -> list[int]:
    """MinHash signature (one-permutation hashing, 64 bins) of the body's character 5-grams.

    Character shingles work for Korean and Japanese, where whitespace tokens do not; the hash is pure arithmetic,
    so a signature is the same in every process and run.
    """
    key = (content_key(body) if key is None else key) or body
    codes = np.frombuffer(key.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    n = max(1, codes.size - SHINGLE_CHARS + 1)
    hashes = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(min(SHINGLE_CHARS, codes.size)):
            hashes = hashes * _PRIME + codes[j : j + n]
        hashes = np.sort(_mix(hashes))
    bins = (hashes >> _BIN_SHIFT).astype(np.int64)
    first = np.searchsorted(bins, np.arange(SIGNATURE_SIZE))
    present = first < hashes.size
    present[present] = bins[first[present]] == np.arange(SIGNATURE_SIZE)[present]
    values = np.zeros(SIGNATURE_SIZE, dtype=np.uint64)
    values[present] = (hashes[first[present]] & _VALUE_MASK) >> np.uint64(26)
    if not present.all():
        # Densify empty bins from the next filled bin (rotation), offset by the distance, so short texts compare.
        filled = np.flatnonzero(present)
        for b in np.flatnonzero(~present):
            nxt = filled[np.searchsorted(filled, b) % filled.size]
            distance = (nxt - b) % SIGNATURE_SIZE
            values[b] = (values[nxt] + np.uint64(distance) * np.uint64(0x9E3779B1)) & np.uint64(0xFFFFFFFF)
    return values.astype(np.uint32).tolist()


def signatures(bodies: Sequence[str]) -> list[list[int]]:
    """Signatures of several bodies."""
    return [signature(b) for b in bodies]


def _components(n: int, pairs: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Connected-component label (smallest member) of each of n nodes joined by `pairs`."""
    labels = np.arange(n, dtype=np.int64)
    if pairs.size == 0:
        return labels
    a, b = pairs[:, 0], pairs[:, 1]
    while True:
        # Pull both ends of every edge to the smaller label, then jump pointers until labels settle.
        low = np.minimum(labels[a], labels[b])
        before = labels.copy()
        np.minimum.at(labels, a, low)
        np.minimum.at(labels, b, low)
        labels = labels[labels]
        if np.array_equal(labels, before):
            return labels


def _group_pairs(keys: npt.NDArray[np.uint64], members: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Pairs (first member, other member) for every group of equal keys."""
    order = np.argsort(keys, kind="stable")
    k, m = keys[order], members[order]
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    group_first = np.repeat(m[starts], np.diff(np.r_[starts, k.size]))
    mask = group_first != m
    return np.stack([group_first[mask], m[mask]], axis=1)


_PAIRS_PER_SLICE = 100_000


def near_duplicate_pairs(sigs: npt.NDArray[np.uint32], rows: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Pairs of row numbers whose signatures agree on at least NEAR_DUPLICATE of their values."""
    if len(rows) < 2:  # noqa: PLR2004 - a pair needs two
        return np.empty((0, 2), dtype=np.int64)
    bands = sigs.reshape(len(rows), BANDS, ROWS).astype(np.uint64)
    with np.errstate(over="ignore"):
        keys = np.zeros((len(rows), BANDS), dtype=np.uint64)
        for r in range(ROWS):
            keys = keys * _PRIME + bands[:, :, r]
        keys = _mix((keys + np.arange(BANDS, dtype=np.uint64)).astype(np.uint64))
    pairs = _group_pairs(keys.ravel(), np.repeat(np.arange(len(rows)), BANDS))
    if pairs.size == 0:
        return pairs
    # One pair per article pair (they meet in several bands): unique on a 1-D key is far faster than on rows.
    n = np.int64(len(rows))
    joined = np.unique(pairs[:, 0] * n + pairs[:, 1])
    pairs = np.stack([joined // n, joined % n], axis=1)
    # Compared a slice of pairs at a time: a corpus of syndicated copies has millions of candidate pairs, and
    # gathering both signatures of all of them at once took over a gigabyte at 100k articles.
    similar = np.concatenate(
        [
            (sigs[chunk[:, 0]] == sigs[chunk[:, 1]]).mean(axis=1) >= NEAR_DUPLICATE
            for chunk in np.array_split(pairs, max(1, len(pairs) // _PAIRS_PER_SLICE))
        ]
    )
    found: npt.NDArray[np.int64] = rows[pairs[similar]]
    return found


def assign_duplicates(articles: pl.DataFrame) -> pl.DataFrame:
    """ARTICLES with duplicate_cluster_id and is_canonical: exact (content hash) and near (MinHash) duplicates.

    The canonical member is the earliest published (then the longest, then the first fetched); its article_id
    is the cluster id. Articles without a signature (older snapshots) cluster by content hash only.
    """
    if articles.height == 0:
        return articles
    order = articles.with_row_index("_row").sort(
        pl.col("published_at"), -pl.col("body_chars"), pl.col("fetched_at"), pl.col("article_id"), nulls_last=True
    )
    n = order.height
    hashes = order["content_sha256"].hash(seed=0).to_numpy().astype(np.uint64)
    pairs = [_group_pairs(hashes, np.arange(n, dtype=np.int64))]
    if "minhash" in order.columns:
        has_sig = order["minhash"].list.len() == SIGNATURE_SIZE
        rows = np.flatnonzero(has_sig.fill_null(value=False).to_numpy())
        if rows.size:
            sigs = order["minhash"].gather(rows).list.to_array(SIGNATURE_SIZE).to_numpy().astype(np.uint32)
            pairs.append(near_duplicate_pairs(sigs, rows.astype(np.int64)))
    # Rows are in canonical order and a component's label is its smallest row: its canonical member.
    canonical_row = _components(n, np.concatenate(pairs))
    ids = order["article_id"].to_numpy()
    result = order.with_columns(
        pl.Series("duplicate_cluster_id", ids[canonical_row], dtype=pl.String),
        pl.Series("is_canonical", canonical_row == np.arange(n), dtype=pl.Boolean),
    )
    return result.sort("_row").drop("_row").select(articles.columns)
