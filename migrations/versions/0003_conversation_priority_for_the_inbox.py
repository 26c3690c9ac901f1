"""conversation priority for the inbox

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 09:40:30.427914
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import app.db

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('priority_at', app.db.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_conversation_shop_id_status_priority_at'), ['shop_id', 'status', 'priority_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversation_shop_id_status_priority_at'))
        batch_op.drop_column('priority_at')

