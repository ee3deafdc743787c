"""On PostgreSQL the staff list's queries read the indexes the migration made: a prefix
search, a substring search, the keyset pages (sorted and filtered) never scan the
table. The plans are printed (``pytest -s``) as the figures' evidence.

The table is small here, so the planner is told to avoid sequential scans: what is
checked is that each query, as the code spells it, can be answered from its index (a
query written a little differently from the index's expression cannot)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from newsletter.extensions import db
from newsletter.subscriptions import directory, roster
from newsletter.subscriptions.lists import create_list
from newsletter.subscriptions.models import Subscriber
from tests.conftest import TEST_DATABASE_URL

pytestmark = pytest.mark.skipif(not TEST_DATABASE_URL, reason="the plans are PostgreSQL's")


def _plan(query: sa.Select) -> str:
    compiled = str(query.compile(db.engine, compile_kwargs={"literal_binds": True}))
    # written for the driver as is (it reads the "%%" of a pattern as "%")
    sql = "EXPLAIN " + compiled
    return "\n".join(db.session.connection().exec_driver_sql(sql).scalars())


@pytest.mark.parametrize(
    ("args", "index"),
    [
        ({}, "ix_subscribers_created"),
        ({"sort": "oldest"}, "ix_subscribers_created"),
        ({"sort": "email"}, "uq_subscribers_email_key"),
        ({"status": "bounced"}, "ix_subscribers_status_created"),
        ({"source": "import"}, "ix_subscribers_source_created"),
        ({"q": "reader12"}, "ix_subscribers_email_prefix"),
        ({"q": "reader12"}, "ix_subscribers_name_prefix"),
        ({"q": "reader12"}, "ix_subscribers_organisation_prefix"),
        ({"q": "der12@exa", "match": "contains"}, "ix_subscribers_search_trgm"),
    ],
)
def test_each_query_reads_its_index(app, args, index):
    with app.app_context():
        mailing_list = create_list("digest", "Digest", default=True)
        for number in range(300):
            roster.add_subscriber(
                f"reader{number}@example.org", lists=[mailing_list], consent_note="x"
            )
        # a rare status and a rare source, as they are in a real list
        db.session.execute(
            sa.update(Subscriber).where(Subscriber.id % 50 == 0).values(status="bounced")
        )
        db.session.execute(
            sa.update(Subscriber).where(Subscriber.id % 40 == 0).values(source="import")
        )
        db.session.commit()
        db.session.execute(sa.text("ANALYZE subscribers"))
        db.session.execute(sa.text("SET LOCAL enable_seqscan = off"))
        if args.get("match") == "contains":
            # how a million rows are read: the trigram index's bitmap, then the page's
            # sort (on 300 rows walking the date index and filtering looks cheaper)
            db.session.execute(sa.text("SET LOCAL enable_indexscan = off"))
        wanted = directory.parse_filter(args)
        plan = _plan(directory.statement(wanted))
        print(f"\n{args}:\n{plan}")
        assert index in plan
        assert "Seq Scan on subscribers" not in plan
        # a page deep in the list starts from its cursor, in the same index
        first = directory.page(wanted, size=5)
        if first.next_cursor:
            deeper = _plan(directory.statement(wanted, first.next_cursor))
            assert index in deeper
        db.session.rollback()
