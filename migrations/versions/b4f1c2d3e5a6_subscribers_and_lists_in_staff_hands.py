"""subscribers and lists in staff's hands: source, archived lists, exports, search indexes

Revision ID: b4f1c2d3e5a6
Revises: 7e23c873371a
Create Date: 2026-12-02 13:05:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b4f1c2d3e5a6'
down_revision = '7e23c873371a'
branch_labels = None
depends_on = None

SEARCH_TEXT = "email_key || ' ' || lower(name) || ' ' || lower(organisation)"


def upgrade():
    postgres = op.get_bind().dialect.name == 'postgresql'
    with op.batch_alter_table('mailing_lists', schema=None) as batch_op:
        batch_op.add_column(sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'source', sa.Enum('form', 'import', 'cli', 'report', 'staff',
                              name='subscribersource', native_enum=False, length=16),
            nullable=False, server_default='form'))
    # Existing people: how they came is read from their first consent evidence (an
    # import or a command left its own); everyone else came through the form.
    first = (
        "(SELECT e.action || ':' || e.note FROM consent_events e"
        " WHERE e.subscriber_id = subscribers.id ORDER BY e.at, e.id LIMIT 1)"
    )
    op.execute(
        "UPDATE subscribers SET source = CASE"
        f" WHEN {first} LIKE 'imported:%' OR {first} = 'requested:imported by staff; confirmation asked'"
        " THEN 'import'"
        f" WHEN {first} LIKE 'added:%' OR {first} = 'requested:added by staff; confirmation asked'"
        " THEN 'cli' ELSE 'form' END"
    )
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.alter_column('source', server_default=None)
        batch_op.drop_index('ix_subscribers_status')
        batch_op.create_index('ix_subscribers_created', ['created_at', 'id'], unique=False)
        batch_op.create_index(
            'ix_subscribers_status_created', ['status', 'created_at', 'id'], unique=False)
        batch_op.create_index(
            'ix_subscribers_source_created', ['source', 'created_at', 'id'], unique=False)

    # The searches: on PostgreSQL with pattern operator classes (a prefix search reads
    # the index, whatever the database's collation) and a trigram index for substrings.
    if postgres:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_subscribers_email_prefix ON subscribers (email_key text_pattern_ops)")
        op.execute("CREATE INDEX ix_subscribers_name_prefix ON subscribers (lower(name) text_pattern_ops)")
        op.execute(
            "CREATE INDEX ix_subscribers_organisation_prefix"
            " ON subscribers (lower(organisation) text_pattern_ops)")
        op.execute(
            f"CREATE INDEX ix_subscribers_search_trgm ON subscribers USING gin (({SEARCH_TEXT}) gin_trgm_ops)")

    op.create_table('subscriber_exports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('staff_user_id', sa.Integer(), nullable=True),
    sa.Column('staff_label', sa.String(length=254), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('filters', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['staff_user_id'], ['staff_users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('subscriber_exports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subscriber_exports_at'), ['at'], unique=False)


def downgrade():
    with op.batch_alter_table('subscriber_exports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subscriber_exports_at'))
    op.drop_table('subscriber_exports')
    if op.get_bind().dialect.name == 'postgresql':
        for name in ('ix_subscribers_search_trgm', 'ix_subscribers_organisation_prefix',
                     'ix_subscribers_name_prefix', 'ix_subscribers_email_prefix'):
            op.execute(f"DROP INDEX {name}")
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.drop_index('ix_subscribers_source_created')
        batch_op.drop_index('ix_subscribers_status_created')
        batch_op.drop_index('ix_subscribers_created')
        batch_op.create_index('ix_subscribers_status', ['status'], unique=False)
        batch_op.drop_column('source')
    with op.batch_alter_table('mailing_lists', schema=None) as batch_op:
        batch_op.drop_column('archived_at')
