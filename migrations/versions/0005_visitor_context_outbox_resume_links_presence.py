"""visitor context, contact e-mail, due times, message channel, outbox, resume links, staff presence

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 21:12:37.369170
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import app.db

# Existing messages were all typed in the chat: channel gets "chat" through the server default.


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('staff_presence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('conversation_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.Column('seen_at', app.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_staff_presence_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_presence')),
    sa.UniqueConstraint('shop_id', 'user_id', name=op.f('uq_staff_presence_shop_id_user_id'))
    )
    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('recipient', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('dedupe_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', app.db.UTCDateTime(), nullable=False),
    sa.Column('sent_at', app.db.UTCDateTime(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', app.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id'], name=op.f('fk_outbox_conversation_id_conversation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_outbox_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('shop_id', 'dedupe_key', name=op.f('uq_outbox_shop_id_dedupe_key'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_status_next_attempt_at'), ['status', 'next_attempt_at'], unique=False)

    op.create_table('resume_link',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('visitor_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('conversation_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('expires_at', app.db.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', app.db.UTCDateTime(), nullable=True),
    sa.Column('claims', sa.Integer(), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id'], name=op.f('fk_resume_link_conversation_id_conversation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_resume_link_shop_id_shop'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['visitor_id'], ['visitor.id'], name=op.f('fk_resume_link_visitor_id_visitor'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resume_link'))
    )
    with op.batch_alter_table('resume_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resume_link_visitor_id'), ['visitor_id'], unique=False)

    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_at', app.db.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_conversation_shop_id_status_due_at'), ['shop_id', 'status', 'due_at'], unique=False)

    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False, server_default='chat'))

    with op.batch_alter_table('visitor', schema=None) as batch_op:
        batch_op.add_column(sa.Column('page_url', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('contact_email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True))
        batch_op.add_column(sa.Column('contact_consent_at', app.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('email_undeliverable_at', app.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('unsubscribed_at', app.db.UTCDateTime(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('visitor', schema=None) as batch_op:
        batch_op.drop_column('unsubscribed_at')
        batch_op.drop_column('email_undeliverable_at')
        batch_op.drop_column('contact_consent_at')
        batch_op.drop_column('contact_email')
        batch_op.drop_column('timezone')
        batch_op.drop_column('page_url')

    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_column('channel')

    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversation_shop_id_status_due_at'))
        batch_op.drop_column('due_at')

    with op.batch_alter_table('resume_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resume_link_visitor_id'))

    op.drop_table('resume_link')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_status_next_attempt_at'))
        batch_op.drop_index(batch_op.f('ix_outbox_conversation_id'))

    op.drop_table('outbox')
    op.drop_table('staff_presence')
