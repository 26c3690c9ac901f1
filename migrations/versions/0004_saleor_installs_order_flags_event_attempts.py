"""saleor installs, order flags, event attempts

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 12:56:09.454501
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import app.db

# Existing webhook events get attempts = 0 through the server default.


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cart_snapshot', schema=None) as batch_op:
        batch_op.add_column(sa.Column('checkout_url', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('source_updated_at', app.db.UTCDateTime(), nullable=True))

    with op.batch_alter_table('order_link', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flag', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))

    with op.batch_alter_table('shop', schema=None) as batch_op:
        batch_op.add_column(sa.Column('app_id', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True))
        batch_op.add_column(sa.Column('jwks', sa.Text(), nullable=True))

    with op.batch_alter_table('webhook_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))



def downgrade() -> None:
    with op.batch_alter_table('webhook_event', schema=None) as batch_op:
        batch_op.drop_column('attempts')

    with op.batch_alter_table('shop', schema=None) as batch_op:
        batch_op.drop_column('jwks')
        batch_op.drop_column('app_id')

    with op.batch_alter_table('order_link', schema=None) as batch_op:
        batch_op.drop_column('flag')

    with op.batch_alter_table('cart_snapshot', schema=None) as batch_op:
        batch_op.drop_column('source_updated_at')
        batch_op.drop_column('checkout_url')

