"""SQLite: an FTS5 table over the analysed terms, ranked with bm25().

The FTS5 table keeps no copy of the text (``content=`` the entry table) and is kept in
step by three triggers, so every write to ``search_searchentry`` — ORM, raw SQL, a
test's flush — updates it in the same transaction. ``unicode61`` splits on spaces only
because analysed terms hold nothing but letters and digits; diacritics are kept so a
term means the same as on PostgreSQL.

Django's SQLite schema editor rebuilds a table to alter it, which drops its triggers: a
migration that alters ``SearchEntry`` must call ``install`` again afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from erpcare.search.analysis import Alternative
from erpcare.search.backends.base import TABLE, Backend, Filters, is_prefix, plain, run

FTS = "search_fts"
VOCAB = "search_fts_vocab"
TITLE_WEIGHT = 4.0  # a term in the title counts four times one in the body

_DDL = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS} USING fts5(title_terms, body_terms, "
    f"content='{TABLE}', content_rowid='id', tokenize='unicode61 remove_diacritics 0')",
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {VOCAB} USING fts5vocab({FTS}, 'row')",
    f"CREATE TRIGGER IF NOT EXISTS search_fts_insert AFTER INSERT ON {TABLE} BEGIN "  # noqa: S608
    f"INSERT INTO {FTS}(rowid, title_terms, body_terms) "
    f"VALUES (new.id, new.title_terms, new.body_terms); END",
    f"CREATE TRIGGER IF NOT EXISTS search_fts_delete AFTER DELETE ON {TABLE} BEGIN "  # noqa: S608
    f"INSERT INTO {FTS}({FTS}, rowid, title_terms, body_terms) "
    f"VALUES ('delete', old.id, old.title_terms, old.body_terms); END",
    f"CREATE TRIGGER IF NOT EXISTS search_fts_update AFTER UPDATE OF title_terms, body_terms "  # noqa: S608
    f"ON {TABLE} BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, title_terms, body_terms) "
    f"VALUES ('delete', old.id, old.title_terms, old.body_terms); "
    f"INSERT INTO {FTS}(rowid, title_terms, body_terms) "
    f"VALUES (new.id, new.title_terms, new.body_terms); END",
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

    def any_of(self, parts: Sequence[str]) -> str:
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"

    def all_of(self, parts: Sequence[str]) -> str:
        return parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"

    def candidate_sql(self, expression: str, filters: Filters, limit: int) -> tuple[str, list[Any]]:
        clauses, params = filters.where()
        where = "".join(f" AND {clause}" for clause in clauses)
        rank = f"bm25({FTS}, {TITLE_WEIGHT}, 1.0)"
        sql = (
            f"SELECT {self.COLUMNS}, -{rank} AS score "  # noqa: S608
            f"FROM {FTS} JOIN {TABLE} e ON e.id = {FTS}.rowid "
            f"WHERE {FTS} MATCH %s{where} ORDER BY {rank}, e.id DESC LIMIT %s"
        )
        return sql, [expression, *params, limit]

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
        return [(str(term), int(doc)) for term, doc in run(words, [])]

    def install(self, schema_editor: Any) -> None:
        for statement in _DDL:
            schema_editor.execute(statement)

    def uninstall(self, schema_editor: Any) -> None:
        for name in ("search_fts_insert", "search_fts_delete", "search_fts_update"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
        schema_editor.execute(f"DROP TABLE IF EXISTS {VOCAB}")
        schema_editor.execute(f"DROP TABLE IF EXISTS {FTS}")
