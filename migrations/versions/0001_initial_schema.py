"""initial schema

Revision ID: 0001
Revises: -
Create Date: 2026-11-23 09:04:24.374500
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import app.db

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('shop',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.Enum('shopify', 'saleor', name='platform', native_enum=False, length=20), nullable=False),
    sa.Column('domain', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('install_state', sa.Enum('installed', 'uninstalled', name='installstate', native_enum=False, length=20), nullable=False),
    sa.Column('scopes', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('access_token_enc', sa.Text(), nullable=True),
    sa.Column('access_token_expires_at', app.db.UTCDateTime(), nullable=True),
    sa.Column('refresh_token_enc', sa.Text(), nullable=True),
    sa.Column('refresh_token_expires_at', app.db.UTCDateTime(), nullable=True),
    sa.Column('token_version', sa.Integer(), nullable=False),
    sa.Column('installed_at', app.db.UTCDateTime(), nullable=True),
    sa.Column('uninstalled_at', app.db.UTCDateTime(), nullable=True),
    sa.Column('created_at', app.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shop')),
    sa.UniqueConstraint('platform', 'domain', name=op.f('uq_shop_platform_domain'))
    )
    op.create_table('webhook_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.Enum('shopify', 'saleor', name='platform', native_enum=False, length=20), nullable=False),
    sa.Column('event_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('topic', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('shop_domain', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('received_at', app.db.UTCDateTime(), nullable=False),
    sa.Column('processed_at', app.db.UTCDateTime(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_event')),
    sa.UniqueConstraint('platform', 'event_id', name=op.f('uq_webhook_event_platform_event_id'))
    )
    with op.batch_alter_table('webhook_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_event_processed_at_received_at'), ['processed_at', 'received_at'], unique=False)

    op.create_table('data_export',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('request_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('customer_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('customer_email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_data_export_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_export'))
    )
    with op.batch_alter_table('data_export', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_data_export_shop_id_created_at'), ['shop_id', 'created_at'], unique=False)

    op.create_table('shop_setting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('updated_at', app.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_shop_setting_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shop_setting')),
    sa.UniqueConstraint('shop_id', 'key', name=op.f('uq_shop_setting_shop_id_key'))
    )
    op.create_table('visitor',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('locale', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('created_at', app.db.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', app.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_visitor_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visitor'))
    )
    with op.batch_alter_table('visitor', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visitor_shop_id_customer_id'), ['shop_id', 'customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visitor_shop_id_email'), ['shop_id', 'email'], unique=False)

    op.create_table('conversation',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('visitor_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('status', sa.Enum('open', 'resolved', name='conversationstatus', native_enum=False, length=20), nullable=False),
    sa.Column('assignee', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('waiting_since', app.db.UTCDateTime(), nullable=True),
    sa.Column('cart_value', app.db.Money(), nullable=True),
    sa.Column('cart_currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=True),
    sa.Column('last_message_at', app.db.UTCDateTime(), nullable=True),
    sa.Column('unread_by_agent', sa.Integer(), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(), nullable=False),
    sa.Column('first_response_at', app.db.UTCDateTime(), nullable=True),
    sa.Column('resolved_at', app.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_conversation_shop_id_shop'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['visitor_id'], ['visitor.id'], name=op.f('fk_conversation_visitor_id_visitor'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation'))
    )
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversation_shop_id_status_last_message_at'), ['shop_id', 'status', 'last_message_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_conversation_shop_id_status_waiting_since'), ['shop_id', 'status', 'waiting_since'], unique=False)
        batch_op.create_index(batch_op.f('ix_conversation_visitor_id_created_at'), ['visitor_id', 'created_at'], unique=False)

    op.create_table('cart_snapshot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('cart_token', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=True),
    sa.Column('total', app.db.Money(), nullable=True),
    sa.Column('item_count', sa.Integer(), nullable=False),
    sa.Column('lines', sa.JSON(), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id'], name=op.f('fk_cart_snapshot_conversation_id_conversation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_cart_snapshot_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cart_snapshot'))
    )
    with op.batch_alter_table('cart_snapshot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cart_snapshot_conversation_id_created_at'), ['conversation_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_cart_snapshot_shop_id_cart_token'), ['shop_id', 'cart_token'], unique=False)

    op.create_table('message',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('author_kind', sa.Enum('shopper', 'agent', 'bot', 'system', name='authorkind', native_enum=False, length=20), nullable=False),
    sa.Column('author_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('client_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('internal', sa.Boolean(), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(), nullable=False),
    sa.Column('read_at', app.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id'], name=op.f('fk_message_conversation_id_conversation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_message_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message')),
    sa.UniqueConstraint('conversation_id', 'client_id', name=op.f('uq_message_conversation_id_client_id'))
    )
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_shop_id_id'), ['shop_id', 'id'], unique=False)

    op.create_table('order_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('order_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('order_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('customer_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('rule', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('total', app.db.Money(), nullable=True),
    sa.Column('refunded', app.db.Money(), nullable=True),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=True),
    sa.Column('financial_status', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True),
    sa.Column('cancelled_at', app.db.UTCDateTime(), nullable=True),
    sa.Column('ordered_at', app.db.UTCDateTime(), nullable=True),
    sa.Column('source_updated_at', app.db.UTCDateTime(), nullable=True),
    sa.Column('created_at', app.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id'], name=op.f('fk_order_link_conversation_id_conversation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_order_link_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_link')),
    sa.UniqueConstraint('shop_id', 'order_id', name=op.f('uq_order_link_shop_id_order_id'))
    )
    with op.batch_alter_table('order_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_link_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_order_link_shop_id_ordered_at'), ['shop_id', 'ordered_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('order_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_link_shop_id_ordered_at'))
        batch_op.drop_index(batch_op.f('ix_order_link_conversation_id'))

    op.drop_table('order_link')
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_shop_id_id'))

    op.drop_table('message')
    with op.batch_alter_table('cart_snapshot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cart_snapshot_shop_id_cart_token'))
        batch_op.drop_index(batch_op.f('ix_cart_snapshot_conversation_id_created_at'))

    op.drop_table('cart_snapshot')
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversation_visitor_id_created_at'))
        batch_op.drop_index(batch_op.f('ix_conversation_shop_id_status_waiting_since'))
        batch_op.drop_index(batch_op.f('ix_conversation_shop_id_status_last_message_at'))

    op.drop_table('conversation')
    with op.batch_alter_table('visitor', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visitor_shop_id_email'))
        batch_op.drop_index(batch_op.f('ix_visitor_shop_id_customer_id'))

    op.drop_table('visitor')
    op.drop_table('shop_setting')
    with op.batch_alter_table('data_export', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_data_export_shop_id_created_at'))

    op.drop_table('data_export')
    with op.batch_alter_table('webhook_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_event_processed_at_received_at'))

    op.drop_table('webhook_event')
    op.drop_table('shop')
