"""The final ranking, in Python, shared by both backends.

Two passes. The *first pass* orders every candidate by the backend's own score
(bm25 on SQLite, ts_rank_cd on PostgreSQL), normalised to the best candidate's, plus the
boosts below. The *second pass* re-scores the first RESCORE candidates with a BM25
computed here from the stored terms and the vocabulary snapshot's document counts —
the same numbers on both databases — so both backends put the same documents on top
even though their native scores disagree (ts_rank_cd has no idf and rewards terms that
stand close together; bm25 does not care about distance).

Final score = W_TEXT·text + W_COVER·share of query words matched + W_TITLE·share of
query words in the title + W_FRESH·freshness + W_HELPFUL·helpfulness; the weights sum to 1.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from erpcare.search.analysis import PREFIX, Alternative, Group
from erpcare.search.models import SearchEntry

W_TEXT = 0.50
W_COVER = 0.20  # every query word (or a synonym of it) found
W_TITLE = 0.18  # the query words in the title
W_FRESH = 0.06  # half as much after FRESH_HALF_LIFE_DAYS
W_HELPFUL = 0.06  # share of "helpful" votes (0.5 when unknown)
FRESH_HALF_LIFE_DAYS = 365.0

RESCORE = 100  # candidates re-scored in the second pass
TITLE_TF = 4.0  # a title occurrence counts like four in the body
WEAK = 0.5  # a match by a Chinese compound's sub-word counts half
K1 = 1.2
B = 0.5
AVG_LENGTH = 250.0  # terms in a typical entry (title + body)


@dataclass
class Ranked:
    score: float
    entry: SearchEntry


# ---------------------------------------------------------------------------
# Shared features
# ---------------------------------------------------------------------------


def _count(alternative: Alternative, counts: Counter[str], words: Sequence[str]) -> int:
    """How often ``alternative`` occurs: a term, a prefix, or a phrase (in order)."""
    if len(alternative) == 1:
        term = alternative[0]
        if term.endswith(PREFIX):
            stem = term[:-1]
            return sum(n for word, n in counts.items() if word.startswith(stem))
        return counts.get(term, 0)
    if any(term not in counts for term in alternative if not term.endswith(PREFIX)):
        return 0
    first, rest = alternative[0], alternative[1:]
    if first.endswith(PREFIX):
        starts: Sequence[int] = [i for i, word in enumerate(words) if _same(word, first)]
    else:
        starts = _positions(words, first, counts.get(first, 0))
    return sum(
        1
        for start in starts
        if start + len(rest) < len(words)
        and all(_same(words[start + 1 + i], term) for i, term in enumerate(rest))
    )


def _positions(words: Sequence[str], term: str, expected: int) -> list[int]:
    """Where ``term`` occurs, found with list.index (C speed) rather than a Python loop."""
    found: list[int] = []
    start = 0
    index = words.index if isinstance(words, list) else list(words).index
    for _ in range(expected):
        try:
            start = index(term, start)
        except ValueError:
            break
        found.append(start)
        start += 1
    return found


def _same(word: str, term: str) -> bool:
    return word.startswith(term[:-1]) if term.endswith(PREFIX) else word == term


def _has(group: Group, counts: Counter[str], words: Sequence[str]) -> bool:
    return any(_count(alt, counts, words) for alt in group.alternatives)


def title_share(groups: Sequence[Group], title_terms: str) -> float:
    if not groups:
        return 0.0
    words = title_terms.split()
    counts = Counter(words)
    return sum(1 for group in groups if _has(group, counts, words)) / len(groups)


def freshness(updated_at: datetime, now: datetime) -> float:
    age_days = max(0.0, (now - updated_at).total_seconds() / 86400)
    return float(0.5 ** (age_days / FRESH_HALF_LIFE_DAYS))


def _boosts(entry: SearchEntry, groups: Sequence[Group], now: datetime) -> float:
    return (
        W_TITLE * title_share(groups, entry.title_terms)
        + W_FRESH * freshness(entry.updated_at, now)
        + W_HELPFUL * entry.helpfulness
    )


def _order(ranked: list[Ranked]) -> list[Ranked]:
    ranked.sort(
        key=lambda r: (-r.score, -r.entry.updated_at.timestamp(), r.entry.kind, r.entry.object_id)
    )
    return ranked


# ---------------------------------------------------------------------------
# The two passes
# ---------------------------------------------------------------------------


def first_pass(
    entries: Sequence[SearchEntry], groups: Sequence[Group], *, all_words: set[int], now: datetime
) -> list[Ranked]:
    """Every candidate by the backend's normalised score; ``all_words`` holds the ids of
    entries that matched every group."""
    best = max((float(getattr(e, "score", 0.0) or 0.0) for e in entries), default=0.0)
    ranked = []
    for entry in entries:
        text = float(getattr(entry, "score", 0.0) or 0.0) / best if best > 0 else 0.0
        cover = 1.0 if entry.pk in all_words else 0.0
        score = W_TEXT * text + W_COVER * cover + _boosts(entry, groups, now)
        ranked.append(Ranked(round(score, 6), entry))
    return _order(ranked)


def bm25(
    groups: Sequence[Group],
    title_terms: str,
    body_terms: str,
    idf: Mapping[str, float],
) -> tuple[float, float]:
    """(text score, share of groups matched) of one entry. Each group scores by its best
    alternative: tf saturated BM25-style × the alternative's idf (a phrase: its rarest
    term's); weak alternatives count half."""
    title = title_terms.split()
    body = body_terms.split()
    title_counts, body_counts = Counter(title), Counter(body)
    length_norm = 1 - B + B * (len(title) + len(body)) / AVG_LENGTH
    total = 0.0
    matched = 0.0
    for group in groups:
        best, best_match = 0.0, 0.0
        weighted = [(alt, 1.0) for alt in group.alternatives] + [(alt, WEAK) for alt in group.weak]
        for alternative, weight in weighted:
            tf = TITLE_TF * _count(alternative, title_counts, title) + _count(
                alternative, body_counts, body
            )
            if not tf:
                continue
            rarity = max(idf.get(term.rstrip(PREFIX), 0.0) for term in alternative)
            value = weight * rarity * tf * (K1 + 1) / (tf + K1 * length_norm)
            if value > best:
                best = value
            best_match = max(best_match, weight)
        total += best
        matched += best_match
    return total, (matched / len(groups) if groups else 0.0)


def second_pass(
    ranked: Sequence[Ranked],
    groups: Sequence[Group],
    *,
    bodies: Mapping[int, str],
    idf: Mapping[str, float],
    now: datetime,
) -> list[Ranked]:
    """The first-pass leaders re-scored with ``bm25`` (``bodies``: entry id → body terms)."""
    scored = []
    for item in ranked:
        entry = item.entry
        text, cover = bm25(groups, entry.title_terms, bodies.get(entry.pk, ""), idf)
        scored.append((text, cover, entry))
    best = max((text for text, _cover, _entry in scored), default=0.0)
    result = []
    for text, cover, entry in scored:
        normalised = text / best if best > 0 else 0.0
        score = W_TEXT * normalised + W_COVER * cover + _boosts(entry, groups, now)
        result.append(Ranked(round(score, 6), entry))
    return _order(result)
