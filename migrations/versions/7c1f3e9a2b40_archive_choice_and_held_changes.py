"""Which digests are public (in_archive) and changes held until a subscriber confirms

Revision ID: 7c1f3e9a2b40
Revises: 8c6b5c78cee8
Create Date: 2026-12-02 05:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c1f3e9a2b40'
down_revision = '8c6b5c78cee8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('digests', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('in_archive', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('held_changes', sa.JSON(), nullable=True))
    # Digests sent before the choice existed stay public if every list they went to is
    # public (the rule the send page now defaults to); cancelled ones are not public.
    op.execute(
        "UPDATE digests SET in_archive = (status <> 'cancelled' AND NOT EXISTS ("
        " SELECT 1 FROM digest_lists JOIN mailing_lists"
        " ON mailing_lists.id = digest_lists.list_id"
        " WHERE digest_lists.digest_id = digests.id AND NOT mailing_lists.is_public))"
        " WHERE status NOT IN ('draft', 'scheduled')"
    )


def downgrade():
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.drop_column('held_changes')
    with op.batch_alter_table('digests', schema=None) as batch_op:
        batch_op.drop_column('in_archive')
