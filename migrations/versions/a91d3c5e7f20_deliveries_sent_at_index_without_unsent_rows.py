"""deliveries: the sent_at index leaves out rows not sent yet

Revision ID: a91d3c5e7f20
Revises: b4f1c2d3e5a6
Create Date: 2026-12-02 13:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a91d3c5e7f20'
down_revision = 'b4f1c2d3e5a6'
branch_labels = None
depends_on = None


def upgrade():
    # The audience freeze inserts every delivery with sent_at NULL; the only reader of
    # this index asks for sent_at >= a time, so those rows need no entry in it.
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_digest_sent_at')
        batch_op.create_index(
            'ix_deliveries_digest_sent_at', ['digest_id', 'sent_at'], unique=False,
            postgresql_where=sa.text('sent_at IS NOT NULL'),
            sqlite_where=sa.text('sent_at IS NOT NULL'),
        )


def downgrade():
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_digest_sent_at')
        batch_op.create_index('ix_deliveries_digest_sent_at', ['digest_id', 'sent_at'], unique=False)
