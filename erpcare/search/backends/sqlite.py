"""SQLite: an FTS5 table over the analysed terms, ranked with bm25().

The FTS5 table (columns: scope tokens, title, body) keeps no copy of the text
(``content=`` the entry table) and is kept in step by three triggers, so every write to
``search_searchentry`` — ORM, raw SQL, a test's flush — updates it in the same
transaction. ``unicode61`` splits on spaces only
because analysed terms hold nothing but letters and digits; diacritics are kept so a
term means the same as on PostgreSQL.

Django's SQLite schema editor rebuilds a table to alter it, which drops its triggers: a
migration that alters ``SearchEntry`` must call ``install`` again afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from erpcare.search.analysis import Alternative
from erpcare.search.backends.base import (
    SCOPE_MARK,
    TABLE,
    WINDOW,
    Backend,
    Filters,
    is_prefix,
    plain,
    run,
)

FTS = "search_fts"
VOCAB = "search_fts_vocab"
TITLE_WEIGHT = 4.0  # a term in the title counts four times one in the body
COLUMNS = "scope_terms, title_terms, body_terms"
OLD = {"new": "new.scope_terms, new.title_terms, new.body_terms",
       "old": "old.scope_terms, old.title_terms, old.body_terms"}  # fmt: skip

_DDL = [
    f"CREATE VIRTUAL TABLE {FTS} USING fts5({COLUMNS}, content='{TABLE}', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 0')",
    f"CREATE VIRTUAL TABLE {VOCAB} USING fts5vocab({FTS}, 'row')",
    f"CREATE TRIGGER search_fts_insert AFTER INSERT ON {TABLE} BEGIN "  # noqa: S608
    f"INSERT INTO {FTS}(rowid, {COLUMNS}) VALUES (new.id, {OLD['new']}); END",
    f"CREATE TRIGGER search_fts_delete AFTER DELETE ON {TABLE} BEGIN "  # noqa: S608
    f"INSERT INTO {FTS}({FTS}, rowid, {COLUMNS}) VALUES ('delete', old.id, {OLD['old']}); END",
    f"CREATE TRIGGER search_fts_update AFTER UPDATE OF {COLUMNS} ON {TABLE} BEGIN "  # noqa: S608
    f"INSERT INTO {FTS}({FTS}, rowid, {COLUMNS}) VALUES ('delete', old.id, {OLD['old']}); "
    f"INSERT INTO {FTS}(rowid, {COLUMNS}) VALUES (new.id, {OLD['new']}); END",
    # Entries written before the FTS table existed (re-installing after a table rebuild).
    f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')",  # noqa: S608
]


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


class SqliteBackend(Backend):
    vendor = "sqlite"

    def term(self, term: str, *, title_only: bool) -> str:
        text = _quote(plain(term)) + ("*" if is_prefix(term) else "")
        return f"title_terms : {text}" if title_only else text

    def phrase(self, terms: Sequence[str], *, title_only: bool) -> str:
        text = _quote(" ".join(plain(term) for term in terms))
        return f"title_terms : {text}" if title_only else text

    def scope_term(self, term: str) -> str:
        return f"scope_terms : {_quote(term)}"

    def any_of(self, parts: Sequence[str]) -> str:
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"

    def all_of(self, parts: Sequence[str]) -> str:
        return parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"

    def candidate_sql(
        self, match: str, expression: str, filters: Filters, limit: int
    ) -> tuple[str, list[Any]]:
        clauses, params = filters.where()
        where = " AND ".join(clauses) or "1 = 1"
        # FTS5 walks the matches newest first and stops at the window; bm25 is computed
        # for the window's rows only. The scope column has weight 0.
        sql = (
            f"SELECT {self.COLUMNS}, w.score AS score FROM ("  # noqa: S608
            f"SELECT rowid AS rid, -bm25({FTS}, 0.0, {TITLE_WEIGHT}, 1.0) AS score "
            f"FROM {FTS} WHERE {FTS} MATCH %s ORDER BY rowid DESC LIMIT %s"
            f") w JOIN {TABLE} e ON e.id = w.rid "
            f"WHERE {where} ORDER BY w.score DESC, e.id DESC LIMIT %s"
        )
        return sql, [match, WINDOW, *params, limit]

    def entries_match(self, entry_ids: Iterable[int], alternative: Alternative) -> bool:
        ids = list(entry_ids)
        if not ids:
            return False
        marks = ", ".join(["%s"] * len(ids))
        sql = f"SELECT 1 FROM {FTS} WHERE {FTS} MATCH %s AND rowid IN ({marks}) LIMIT 1"  # noqa: S608
        return bool(run(sql, [self.alternative(alternative, title_only=False), *ids]))

    def present_terms(self, terms: Iterable[str]) -> set[str]:
        found: set[str] = set()
        for term in set(terms):
            # fts5vocab answers "term = ?" from the index without a scan.
            if run(f"SELECT 1 FROM {VOCAB} WHERE term = %s", [term]):  # noqa: S608
                found.add(term)
        return found

    def vocabulary(self) -> Iterable[tuple[str, int]]:
        words = f"SELECT term, doc FROM {VOCAB} WHERE term NOT GLOB '*[0-9]*'"  # noqa: S608
        return [
            (str(term), int(doc))
            for term, doc in run(words, [])
            if not str(term).startswith(SCOPE_MARK)
        ]

    def install(self, schema_editor: Any) -> None:
        for statement in _DDL:
            schema_editor.execute(statement)

    def uninstall(self, schema_editor: Any) -> None:
        """Drops what any version of ``install`` created."""
        for name in ("search_fts_insert", "search_fts_delete", "search_fts_update"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
        schema_editor.execute(f"DROP TABLE IF EXISTS {VOCAB}")
        schema_editor.execute(f"DROP TABLE IF EXISTS {FTS}")
