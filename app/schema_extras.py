"""What the models cannot say: the search index, the tab counters' triggers and an
expression index, per backend.

Migration 0008 creates these on real databases (with its own frozen copy of the SQL);
`SQLModel.metadata.create_all` (a test's fresh SQLite file) creates them from here, after
the tables. tests/test_scale_schema.py checks both ways build the same objects.

- Search (SQLite): FTS5 tables with the trigram tokenizer, which folds case and needs no
  word boundaries, so Hebrew, Arabic, Cyrillic and Latin with diacritics are indexed
  alike. `message_fts` indexes `message.body` without a second copy of it (external
  content); `visitor_fts` holds the names and e-mails it indexes, and the visitor id so a
  deleted visitor's row can be found through the index. Triggers keep both in step with
  every insert, update and delete, cascades included; erasure then merges the index
  (app/chat/privacy.py) so no deleted text survives in an old segment.
- Search (PostgreSQL): pg_trgm GIN indexes, one on message bodies and one on a visitor's
  name and e-mails joined; deleted rows leave the index with the rows (VACUUM).
- Counts: `conversation_count` (a table in app/models.py) is moved by triggers in the
  very statement that moves a conversation, so no code path can forget it.
- Attribution: (shop_id, lower(email)) so the customer rule's comparison uses an index.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

# Objects the models do not declare: Alembic's comparison leaves them alone.
UNMANAGED_TABLE_PREFIXES = ("message_fts", "visitor_fts")
UNMANAGED_INDEXES = frozenset({"ix_message_body_trgm", "ix_visitor_search_trgm", "ix_visitor_shop_id_email_lower"})

EMAIL_INDEX = "CREATE INDEX ix_visitor_shop_id_email_lower ON visitor (shop_id, lower(email))"

# -- SQLite -----------------------------------------------------------------------------

SQLITE_SEARCH = (
    "CREATE VIRTUAL TABLE message_fts USING fts5(body, content='message', content_rowid='id', tokenize='trigram')",
    """CREATE TRIGGER message_fts_insert AFTER INSERT ON message BEGIN
  INSERT INTO message_fts(rowid, body) VALUES (new.id, new.body);
END""",
    """CREATE TRIGGER message_fts_delete AFTER DELETE ON message BEGIN
  INSERT INTO message_fts(message_fts, rowid, body) VALUES ('delete', old.id, old.body);
END""",
    """CREATE TRIGGER message_fts_update AFTER UPDATE OF body ON message BEGIN
  INSERT INTO message_fts(message_fts, rowid, body) VALUES ('delete', old.id, old.body);
  INSERT INTO message_fts(rowid, body) VALUES (new.id, new.body);
END""",
    "CREATE VIRTUAL TABLE visitor_fts USING fts5("
    "visitor_id, shop_id UNINDEXED, name, email, contact_email, tokenize='trigram')",
    """CREATE TRIGGER visitor_fts_insert AFTER INSERT ON visitor BEGIN
  INSERT INTO visitor_fts(visitor_id, shop_id, name, email, contact_email)
  VALUES (new.id, new.shop_id, new.name, new.email, new.contact_email);
END""",
    # The visitor id is indexed too (as trigrams): the one way to find the row again.
    """CREATE TRIGGER visitor_fts_delete AFTER DELETE ON visitor BEGIN
  DELETE FROM visitor_fts WHERE rowid IN (
    SELECT rowid FROM visitor_fts WHERE visitor_fts MATCH 'visitor_id : "' || old.id || '"'
  ) AND visitor_id = old.id;
END""",
    """CREATE TRIGGER visitor_fts_update AFTER UPDATE OF name, email, contact_email ON visitor BEGIN
  DELETE FROM visitor_fts WHERE rowid IN (
    SELECT rowid FROM visitor_fts WHERE visitor_fts MATCH 'visitor_id : "' || old.id || '"'
  ) AND visitor_id = old.id;
  INSERT INTO visitor_fts(visitor_id, shop_id, name, email, contact_email)
  VALUES (new.id, new.shop_id, new.name, new.email, new.contact_email);
END""",
)

SQLITE_SEARCH_BACKFILL = (
    "INSERT INTO message_fts(message_fts) VALUES ('rebuild')",
    "INSERT INTO visitor_fts(visitor_id, shop_id, name, email, contact_email) "
    "SELECT id, shop_id, name, email, contact_email FROM visitor",
)

_OPEN = "(({row}.status = 'open') + 0)"
_WAITING = "(({row}.status = 'open' AND {row}.priority_at IS NOT NULL) + 0)"
_RESOLVED = "(({row}.status = 'resolved') + 0)"


def _sqlite_move(sign: str, row: str) -> str:
    return (
        f"UPDATE conversation_count SET open_count = open_count {sign} {_OPEN.format(row=row)}, "
        f"waiting_count = waiting_count {sign} {_WAITING.format(row=row)}, "
        f"resolved_count = resolved_count {sign} {_RESOLVED.format(row=row)} "
        f"WHERE shop_id = {row}.shop_id;"
    )


_SQLITE_ENSURE = (
    "INSERT OR IGNORE INTO conversation_count(shop_id, open_count, waiting_count, resolved_count) "
    "VALUES (new.shop_id, 0, 0, 0);"
)

SQLITE_COUNTS = (
    f"""CREATE TRIGGER conversation_count_insert AFTER INSERT ON conversation BEGIN
  {_SQLITE_ENSURE}
  {_sqlite_move("+", "new")}
END""",
    f"""CREATE TRIGGER conversation_count_delete AFTER DELETE ON conversation BEGIN
  {_sqlite_move("-", "old")}
END""",
    f"""CREATE TRIGGER conversation_count_update AFTER UPDATE OF status, priority_at, shop_id ON conversation
WHEN old.status IS NOT new.status OR (old.priority_at IS NULL) <> (new.priority_at IS NULL)
  OR old.shop_id <> new.shop_id
BEGIN
  {_SQLITE_ENSURE}
  {_sqlite_move("-", "old")}
  {_sqlite_move("+", "new")}
END""",
)

# -- PostgreSQL -------------------------------------------------------------------------

# The operator class named with the schema pg_trgm lives in ({trgm}), which need not be on
# the search path of the schema being built.
POSTGRESQL_SEARCH = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_message_body_trgm ON message USING gin (body {trgm}.gin_trgm_ops)",
    "CREATE INDEX ix_visitor_search_trgm ON visitor USING gin ("
    "(coalesce(name, '') || ' ' || coalesce(email, '') || ' ' || coalesce(contact_email, '')) {trgm}.gin_trgm_ops)",
)
TRGM_SCHEMA = (
    "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'"
)

POSTGRESQL_COUNTS = (
    """CREATE FUNCTION parley_conversation_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    UPDATE conversation_count SET
      open_count = open_count - (OLD.status = 'open')::int,
      waiting_count = waiting_count - (OLD.status = 'open' AND OLD.priority_at IS NOT NULL)::int,
      resolved_count = resolved_count - (OLD.status = 'resolved')::int
    WHERE shop_id = OLD.shop_id;
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') THEN
    INSERT INTO conversation_count AS c (shop_id, open_count, waiting_count, resolved_count)
    VALUES (NEW.shop_id, (NEW.status = 'open')::int,
            (NEW.status = 'open' AND NEW.priority_at IS NOT NULL)::int, (NEW.status = 'resolved')::int)
    ON CONFLICT (shop_id) DO UPDATE SET
      open_count = c.open_count + EXCLUDED.open_count,
      waiting_count = c.waiting_count + EXCLUDED.waiting_count,
      resolved_count = c.resolved_count + EXCLUDED.resolved_count;
  END IF;
  RETURN NULL;
END
$$""",
    "CREATE TRIGGER conversation_count_insert_delete AFTER INSERT OR DELETE ON conversation "
    "FOR EACH ROW EXECUTE FUNCTION parley_conversation_count()",
    "CREATE TRIGGER conversation_count_update AFTER UPDATE OF status, priority_at, shop_id ON conversation "
    "FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status "
    "OR (OLD.priority_at IS NULL) <> (NEW.priority_at IS NULL) OR OLD.shop_id <> NEW.shop_id) "
    "EXECUTE FUNCTION parley_conversation_count()",
)

# Counting once, from the rows: the repair the migration runs, and `recount` in app/chat/inbox.py.
RECOUNT = (
    "DELETE FROM conversation_count",
    "INSERT INTO conversation_count (shop_id, open_count, waiting_count, resolved_count) "
    "SELECT shop_id, "
    "SUM(CASE WHEN status = 'open' THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN status = 'open' AND priority_at IS NOT NULL THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN status = 'resolved' THEN 1 ELSE 0 END) "
    "FROM conversation GROUP BY shop_id",
)


def statements(dialect: str) -> Sequence[str]:
    """Everything to create after the tables, in order, for an empty database."""
    if dialect == "sqlite":
        return (*SQLITE_SEARCH, *SQLITE_COUNTS, EMAIL_INDEX)
    if dialect == "postgresql":
        return (*POSTGRESQL_SEARCH, *POSTGRESQL_COUNTS, EMAIL_INDEX)
    return (EMAIL_INDEX,)


def create_after_tables(target: sa.MetaData, connection: Connection, **_: Any) -> None:
    """metadata `after_create` listener (create_all)."""
    tables = {"message", "visitor", "conversation", "conversation_count"}
    if not tables <= set(target.tables):
        return
    for statement in statements(connection.dialect.name):
        if "{trgm}" in statement:
            trgm = connection.exec_driver_sql(TRGM_SCHEMA).scalar_one()
            statement = statement.replace("{trgm}", f'"{trgm}"')
        connection.exec_driver_sql(statement)


def include_name(name: str | None, type_: str, _parent: Any) -> bool:
    """Alembic's `include_name`: skip what this module creates (and FTS5's shadow tables)."""
    if name is None:
        return True
    if type_ == "table":
        return not name.startswith(UNMANAGED_TABLE_PREFIXES)
    if type_ == "index":
        return name not in UNMANAGED_INDEXES
    return True
