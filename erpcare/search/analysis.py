"""Text analysis shared by indexing and querying, so both sides always agree.

A text becomes a list of *terms*: Chinese runs are segmented with jieba (plus an ERP user
dictionary), Latin runs are NFKC-normalised, lower-cased and Snowball-stemmed. Codes such
as ``ORA-00060`` or ``INC-2026-000123`` are kept whole (``ora00060``) and also split into
their parts, so either spelling finds them. Terms contain only letters and digits, so the
FTS5 ``unicode61`` tokenizer and the PostgreSQL vector builder (split on spaces) both see
exactly one token per term.

Queries are analysed into *groups*: one per word the user typed, each with alternatives
(the word itself, the whole code and its parts, synonyms, a prefix for the word being
typed) and weaker ones (the dictionary sub-words of a Chinese compound: 红字发票 → 发票),
which the search uses only when the strong ones find too little. A document matches a
group when it contains any alternative; an alternative of several terms is a phrase.
"""

from __future__ import annotations

import html
import logging
import re
import tempfile
import threading
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings

DATA_DIR = Path(__file__).resolve().parent / "data"

MAX_TERM_LENGTH = 64
MAX_QUERY_CHARS = 1000  # longer queries are cut: nobody types more, a paste is enough
MAX_GROUPS = 16
MAX_QUERY_TERMS = 32  # every term of every alternative, counted once
PREFIX = "*"  # an alternative term ending with it is matched as a prefix

# CJK unified ideographs (with extension A and the compatibility block; NFKC maps the
# latter onto the former) and the supplementary planes' extensions B–F.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
_JOIN = "-_./:\uff0d\uff0e\uff0f\uff1a\uff3f"  # joiners inside a code, also full-width
_TOKEN = re.compile(rf"(?P<cjk>[{_CJK}]+)|(?P<word>[^\W_{_CJK}]+(?:[{_JOIN}][^\W_{_CJK}]+)*)")
_SPLIT = re.compile(rf"[{_JOIN}]")
_MARKDOWN = re.compile(r"!\[[^\]]*\]\([^)]*\)|\]\([^)]*\)|[`*#>|~\[\]]+")
_SPACE = re.compile(r"\s+")

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------------
# Resources: stop words, stemmer, jieba — each loaded once per process
# ---------------------------------------------------------------------------


def _read_list(name: str) -> frozenset[str]:
    lines = (DATA_DIR / name).read_text(encoding="utf-8").splitlines()
    return frozenset(
        unicodedata.normalize("NFKC", line.strip()).lower()
        for line in lines
        if line.strip() and not line.startswith("#")
    )


@cache
def stop_words() -> frozenset[str]:
    return _read_list("stopwords_en.txt") | _read_list("stopwords_zh.txt")


@cache
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


_jieba_lock = threading.Lock()
_jieba: Any = None


def _cache_dir() -> Path:
    """jieba's prefix-dictionary cache (~1 s to build, ~0.3 s to load): under VAR_DIR when
    it is writable, else the system temp dir."""
    candidate = Path(settings.VAR_DIR) / "cache"
    try:
        candidate.mkdir(parents=True, exist_ok=True)
        probe = candidate / ".write-test"
        probe.touch()
        probe.unlink()
        return candidate
    except OSError:
        return Path(tempfile.gettempdir())


def tokenizer() -> Any:
    """A private ``jieba.Tokenizer`` with the ERP dictionary (the global one stays as is)."""
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                import jieba

                logging.getLogger("jieba").setLevel(logging.WARNING)
                instance = jieba.Tokenizer()
                instance.tmp_dir = str(_cache_dir())
                instance.initialize()
                instance.load_userdict(str(DATA_DIR / "erp_dict.txt"))
                _jieba = instance
    return _jieba


# ---------------------------------------------------------------------------
# Tokens and terms
# ---------------------------------------------------------------------------


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def _word_term(word: str) -> str | None:
    """One Latin word (already normalised) → its term, or None for stop words."""
    if not word or word in stop_words() or len(word) > MAX_TERM_LENGTH:
        return None
    if word.isalpha():
        if len(word) == 1:
            return None
        return str(_stemmer().stemWord(word))
    return word if word.isalnum() else None


def _cjk_term(word: str) -> str | None:
    word = normalize(word)
    if not word or word in stop_words() or not word.isalnum():
        return None
    return word


@dataclass(frozen=True)
class Token:
    """A word of the original text: where it is and the terms it stands for."""

    start: int
    end: int
    terms: tuple[str, ...]  # one term, or for a code: the whole code then its parts
    is_code: bool = False


def _code_terms(raw: str) -> tuple[str, ...]:
    parts = [normalize(part) for part in _SPLIT.split(raw) if part]
    whole = "".join(parts)
    terms: list[str] = []
    if whole.isalnum() and len(whole) <= MAX_TERM_LENGTH:
        terms.append(whole)
    for part in parts:
        term = _word_term(part)
        if term is not None and (term != whole or len(parts) == 1):
            terms.append(term)
    return tuple(terms)


def tokens(text: str, *, for_search: bool) -> Iterator[Token]:
    """The tokens of ``text`` with their positions in it.

    ``for_search=True`` (indexing) emits every dictionary sub-word of a Chinese compound
    as its own token (记账凭证 → 记账, 凭证, 记账凭证) so a document is found by the
    compound and by its parts; ``False`` (queries) emits the compound once.
    """
    jieba = None
    for match in _TOKEN.finditer(text):
        if match.group("cjk") is not None:
            jieba = jieba or tokenizer()
            base = match.start()
            mode = "search" if for_search else "default"
            for word, start, end in jieba.tokenize(match.group(), mode=mode, HMM=False):
                term = _cjk_term(word)
                if term is not None:
                    yield Token(base + start, base + end, (term,))
        else:
            raw = match.group()
            if _SPLIT.search(raw):
                terms = _code_terms(raw)
                if terms:
                    yield Token(match.start(), match.end(), terms, is_code=True)
            else:
                term = _word_term(normalize(raw))
                if term is not None:
                    yield Token(match.start(), match.end(), (term,))


def index_terms(text: str) -> list[str]:
    """The terms to index for ``text``, in order (positions matter for phrases)."""
    return [term for token in tokens(text, for_search=True) for term in token.terms]


def sub_words(word: str) -> list[str]:
    """Dictionary words inside a Chinese word (记账凭证 → 记账, 凭证), without the word."""
    found = []
    for piece, _start, _end in tokenizer().tokenize(word, mode="search", HMM=False):
        term = _cjk_term(piece)
        if term is not None and term != word and len(term) > 1 and term not in found:
            found.append(term)
    return found


# ---------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------

Alternative = tuple[str, ...]  # one term, or a phrase of several


@dataclass
class Group:
    """One word of the query and everything that counts as that word."""

    primary: Alternative
    alternatives: list[Alternative] = field(default_factory=list)
    weak: list[Alternative] = field(default_factory=list)  # sub-words: a broader match
    raw: str = ""  # what the user typed, for "showing results for …"
    is_latin: bool = False
    corrected: str | None = None  # the term a typo was corrected to

    def __post_init__(self) -> None:
        if self.primary not in self.alternatives:
            self.alternatives.insert(0, self.primary)

    def add(self, alternative: Alternative) -> None:
        if alternative and alternative not in self.alternatives:
            self.alternatives.append(alternative)

    def terms(self) -> list[str]:
        return [term for alternative in (*self.alternatives, *self.weak) for term in alternative]


def parse_query(text: str, *, prefix_last: bool = False) -> list[Group]:
    """Analyse a query into groups (see the module docstring); never raises.

    With ``prefix_last`` the last word, if the text does not end with a space, also
    matches as a prefix (search as you type).
    """
    text = (text or "")[:MAX_QUERY_CHARS]
    groups: list[Group] = []
    last_end = -1
    last_raw = ""
    for token in tokens(text, for_search=False):
        raw = text[token.start : token.end]
        if token.is_code:
            group = Group(primary=token.terms[:1], raw=raw, is_latin=True)
            if len(token.terms) > 1:
                group.add(token.terms[1:])
        else:
            term = token.terms[0]
            is_latin = not _is_cjk(term)
            group = Group(primary=(term,), raw=raw, is_latin=is_latin)
            if not is_latin and len(term) > 2:
                group.weak = [(sub,) for sub in sub_words(term)]
        groups.append(group)
        last_end, last_raw = token.end, raw
    if prefix_last and groups and last_end == len(text):
        group = groups[-1]
        typed = normalize(last_raw)
        if len(typed) >= 2 or (typed and _is_cjk(typed)):
            for stem in dict.fromkeys([typed, group.primary[0]]):
                if stem.isalnum():
                    group.add((stem + PREFIX,))
    return cap_groups(groups)


def cap_groups(groups: list[Group]) -> list[Group]:
    """At most MAX_GROUPS groups and MAX_QUERY_TERMS distinct terms: a pasted page must
    not become a 5,000-term query. Every kept word keeps its own term; its other
    alternatives (sub-words, synonyms, prefixes) are dropped first when over budget."""
    unique: dict[tuple[Alternative, ...], Group] = {}
    for group in groups:
        unique.setdefault(tuple(group.alternatives), group)  # the same word typed twice
    seen: set[str] = set()
    kept: list[Group] = []
    for group in list(unique.values())[:MAX_GROUPS]:
        new = set(group.primary) - seen
        if len(seen) + len(new) > MAX_QUERY_TERMS:
            break
        seen.update(new)
        kept.append(group)
    for group in kept:
        alternatives = [group.primary]
        for alternative in group.alternatives:
            if alternative == group.primary:
                continue
            new = set(alternative) - seen
            if len(seen) + len(new) <= MAX_QUERY_TERMS:
                seen.update(new)
                alternatives.append(alternative)
        group.alternatives = alternatives
        weak = []
        for alternative in group.weak:
            new = set(alternative) - seen
            if alternative not in alternatives and len(seen) + len(new) <= MAX_QUERY_TERMS:
                seen.update(new)
                weak.append(alternative)
        group.weak = weak
    return kept


def query_terms(text: str) -> list[str]:
    """Every term a query looks for (no prefixes, no synonyms), without duplicates."""
    terms: dict[str, None] = {}
    for group in parse_query(text):
        for term in group.terms():
            terms.setdefault(term, None)
    return list(terms)


def surface(raw: str, term: str) -> str:
    """A word as a person writes it whose term is ``term``, made from ``raw`` with one
    edit when possible ("recievable" → "receivable"); else the term itself. For showing
    a typo correction: terms are stems ("receiv")."""
    word = normalize(raw)
    if _word_term(word) == term:
        return word
    letters = "abcdefghijklmnopqrstuvwxyz"
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    # In the order typists err: swapped, left out, wrong, then extra letters.
    edits = dict.fromkeys(
        [a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1]
        + [a + c + b for a, b in splits for c in letters]
        + [a + c + b[1:] for a, b in splits if b for c in letters]
        + [a + b[1:] for a, b in splits if b]
    )
    stemmer = _stemmer()
    for candidate in edits:
        if candidate.isalpha() and stemmer.stemWord(candidate) == term:
            return candidate
    return term


def _is_cjk(term: str) -> bool:
    return bool(re.match(f"[{_CJK}]", term))


# ---------------------------------------------------------------------------
# Highlighting
# ---------------------------------------------------------------------------


def plain_text(text: str) -> str:
    """Markdown source → readable one-line text for snippets (links keep their words)."""
    return _SPACE.sub(" ", _MARKDOWN.sub(" ", text or "")).strip()


def _matches(term_set: frozenset[str], prefixes: Sequence[str], term: str) -> bool:
    return term in term_set or any(term.startswith(prefix) for prefix in prefixes)


def match_spans(text: str, terms: Iterable[str]) -> list[tuple[int, int, str]]:
    """(start, end, term) of every word of ``text`` that one of ``terms`` matches; a term
    ending with ``*`` matches as a prefix."""
    exact = frozenset(term for term in terms if not term.endswith(PREFIX))
    prefixes = [term[:-1] for term in terms if term.endswith(PREFIX) and len(term) > 1]
    if not exact and not prefixes:
        return []
    spans = []
    for token in tokens(text, for_search=True):
        for term in token.terms:
            if _matches(exact, prefixes, term):
                spans.append((token.start, token.end, term))
                break
    return _merge(spans)


def _merge(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Sub-word tokens overlap their compound (记账 inside 记账凭证): keep the widest."""
    spans.sort(key=lambda span: (span[0], -span[1]))
    merged: list[tuple[int, int, str]] = []
    for span in spans:
        if merged and span[0] < merged[-1][1]:
            if span[1] > merged[-1][1]:
                merged[-1] = (merged[-1][0], span[1], merged[-1][2])
            continue
        merged.append(span)
    return merged


def highlight(text: str, terms: Iterable[str], max_len: int = 200) -> str:
    """An escaped HTML snippet of ``text``: the ``max_len`` characters that show the most
    different matched terms, with ``<mark>`` around each match and "…" where cut.

    Done in Python so both backends highlight identically.
    """
    text = plain_text(text)
    if not text:
        return ""
    terms = list(terms)
    spans = match_spans(text, terms)[:500]
    if len(text) <= max_len:
        start, end = 0, len(text)
    else:
        start = _best_window(text, spans, max_len)
        end = min(len(text), start + max_len)
    pieces = ["…"] if start > 0 else []
    cursor = start
    for span_start, span_end, _term in spans:
        if span_start < start or span_end > end:
            continue
        pieces.append(html.escape(text[cursor:span_start]))
        pieces.append(f"<mark>{html.escape(text[span_start:span_end])}</mark>")
        cursor = span_end
    pieces.append(html.escape(text[cursor:end]))
    if end < len(text):
        pieces.append("…")
    return "".join(pieces)


def _best_window(text: str, spans: list[tuple[int, int, str]], max_len: int) -> int:
    """Where the window starts: a little before a match, chosen so that the window holds
    the most different terms (then the most matches); ties go to the earliest."""
    if not spans:
        return 0
    lead = min(40, max_len // 4)  # some words before the match, for context
    best_start, best_key = 0, (-1, 0)
    for index, (span_start, _end, _term) in enumerate(spans):
        start = max(0, span_start - lead)
        space = text.find(" ", start, span_start)
        if space != -1 and start > 0:
            start = space + 1  # begin with a whole word
        end = start + max_len
        inside: list[str] = []
        for other in spans[index:]:
            if other[0] >= end:
                break
            if other[1] <= end:
                inside.append(other[2])
        key = (len(set(inside)), len(inside))
        if key > best_key:
            best_start, best_key = start, key
    return best_start
