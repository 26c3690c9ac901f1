"""agent offers, order discount

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 00:20:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import app.db

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agent_offer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('ref', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id'], name=op.f('fk_agent_offer_conversation_id_conversation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_agent_offer_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agent_offer')),
    sa.UniqueConstraint('conversation_id', 'kind', 'ref', name=op.f('uq_agent_offer_conversation_id_kind_ref'))
    )
    with op.batch_alter_table('agent_offer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_offer_shop_id_kind_ref'), ['shop_id', 'kind', 'ref'], unique=False)
    with op.batch_alter_table('order_link', schema=None) as batch_op:
        batch_op.add_column(sa.Column('discount', app.db.Money(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('order_link', schema=None) as batch_op:
        batch_op.drop_column('discount')
    with op.batch_alter_table('agent_offer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agent_offer_shop_id_kind_ref'))
    op.drop_table('agent_offer')
