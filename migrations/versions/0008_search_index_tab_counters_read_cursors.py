"""search index, tab counters, read cursors, attribution e-mail index

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 00:20:00

The SQL is frozen here on purpose (app/schema_extras.py is what create_all uses, and
tests/test_scale_schema.py checks both build the same objects).
"""

from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


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


def _sqlite_move(sign: str, row: str) -> str:
    return (
        f"UPDATE conversation_count SET open_count = open_count {sign} (({row}.status = 'open') + 0), "
        f"waiting_count = waiting_count {sign} (({row}.status = 'open' AND {row}.priority_at IS NOT NULL) + 0), "
        f"resolved_count = resolved_count {sign} (({row}.status = 'resolved') + 0) "
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

RECOUNT = (
    "DELETE FROM conversation_count",
    "INSERT INTO conversation_count (shop_id, open_count, waiting_count, resolved_count) "
    "SELECT shop_id, "
    "SUM(CASE WHEN status = 'open' THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN status = 'open' AND priority_at IS NOT NULL THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN status = 'resolved' THEN 1 ELSE 0 END) "
    "FROM conversation GROUP BY shop_id",
)

EMAIL_INDEX = "CREATE INDEX ix_visitor_shop_id_email_lower ON visitor (shop_id, lower(email))"

# The cursors start where the receipts so far reached: every message up to the newest
# read one was marked by that receipt.
READ_CURSORS = (
    "UPDATE conversation SET "
    "agent_read_up_to = COALESCE((SELECT MAX(m.id) FROM message m WHERE m.conversation_id = conversation.id "
    "AND m.author_kind = 'shopper' AND m.read_at IS NOT NULL), 0), "
    "shopper_read_up_to = COALESCE((SELECT MAX(m.id) FROM message m WHERE m.conversation_id = conversation.id "
    "AND m.author_kind <> 'shopper' AND m.read_at IS NOT NULL), 0)"
)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table('conversation_count',
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('open_count', sa.Integer(), nullable=False),
    sa.Column('waiting_count', sa.Integer(), nullable=False),
    sa.Column('resolved_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_conversation_count_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('shop_id', name=op.f('pk_conversation_count'))
    )
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agent_read_up_to', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('shopper_read_up_to', sa.BigInteger(), server_default='0', nullable=False))
    with op.batch_alter_table('cart_snapshot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cart_snapshot_created_at'), ['created_at'], unique=False)

    # After batch_alter_table: SQLite rebuilds `conversation` there, which would drop triggers.
    if dialect == "sqlite":
        statements = (*SQLITE_SEARCH, *SQLITE_SEARCH_BACKFILL, *SQLITE_COUNTS)
    elif dialect == "postgresql":
        statements = (*POSTGRESQL_SEARCH, *POSTGRESQL_COUNTS)
    else:
        statements = ()
    bind = op.get_bind()
    for statement in (*statements, EMAIL_INDEX, *RECOUNT, READ_CURSORS):
        if "{trgm}" in statement:
            trgm = bind.exec_driver_sql(TRGM_SCHEMA).scalar_one()
            statement = statement.replace("{trgm}", f'"{trgm}"')
        bind.exec_driver_sql(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.execute("DROP INDEX ix_visitor_shop_id_email_lower")
    if dialect == "sqlite":
        for trigger in (
            "message_fts_insert", "message_fts_delete", "message_fts_update",
            "visitor_fts_insert", "visitor_fts_delete", "visitor_fts_update",
            "conversation_count_insert", "conversation_count_delete", "conversation_count_update",
        ):
            op.execute(f"DROP TRIGGER {trigger}")
        op.execute("DROP TABLE message_fts")
        op.execute("DROP TABLE visitor_fts")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER conversation_count_update ON conversation")
        op.execute("DROP TRIGGER conversation_count_insert_delete ON conversation")
        op.execute("DROP FUNCTION parley_conversation_count()")
        op.execute("DROP INDEX ix_visitor_search_trgm")
        op.execute("DROP INDEX ix_message_body_trgm")
        # pg_trgm stays: other databases' objects or the operator's own may use it.
    with op.batch_alter_table('cart_snapshot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cart_snapshot_created_at'))
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.drop_column('shopper_read_up_to')
        batch_op.drop_column('agent_read_up_to')
    op.drop_table('conversation_count')
