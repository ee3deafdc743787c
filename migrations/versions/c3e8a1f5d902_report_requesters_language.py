"""report requesters' language

Revision ID: c3e8a1f5d902
Revises: 25d8932a94c6
Create Date: 2026-12-02 14:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3e8a1f5d902'
down_revision = '25d8932a94c6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('report_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=35), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('report_requests', schema=None) as batch_op:
        batch_op.drop_column('language')
