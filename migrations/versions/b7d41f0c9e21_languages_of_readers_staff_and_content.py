"""languages of readers, staff and content

Revision ID: b7d41f0c9e21
Revises: a91d3c5e7f20
Create Date: 2026-12-02 13:05:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d41f0c9e21'
down_revision = 'a91d3c5e7f20'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=35), server_default='', nullable=False))
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=35), server_default='', nullable=False))
    with op.batch_alter_table('dialogue_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('translations', sa.JSON(), nullable=True))
    with op.batch_alter_table('summary_points', schema=None) as batch_op:
        batch_op.add_column(sa.Column('translations', sa.JSON(), nullable=True))
    with op.batch_alter_table('digests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('variants', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('archived_variants', sa.JSON(), nullable=True))
    with op.batch_alter_table('digest_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('translations', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('digest_items', schema=None) as batch_op:
        batch_op.drop_column('translations')
    with op.batch_alter_table('digests', schema=None) as batch_op:
        batch_op.drop_column('archived_variants')
        batch_op.drop_column('variants')
    with op.batch_alter_table('summary_points', schema=None) as batch_op:
        batch_op.drop_column('translations')
    with op.batch_alter_table('dialogue_sessions', schema=None) as batch_op:
        batch_op.drop_column('translations')
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.drop_column('language')
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.drop_column('language')
