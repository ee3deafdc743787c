"""Fixtures of the report tests (a plugin of the root conftest, so that the browser
tests use them too): a published session with a report on file, and readers of rows."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from newsletter.extensions import db
from newsletter.reports import files
from newsletter.reports.models import (
    ApprovalRule,
    ReportEvent,
    ReportGrant,
    ReportRequest,
)
from newsletter.reports.record import Actor
from newsletter.sessions import services as sessions
from tests.reports.helpers import PDF


@pytest.fixture
def make_session(app: Flask) -> Callable[..., str]:
    """A session (published unless told), with the test PDF as its report unless
    ``report=False``; returns its slug."""

    def make(
        title: str = "Political agreement in Kabul",
        *,
        published: bool = True,
        report: bool = True,
        rule: ApprovalRule = ApprovalRule.STAFF,
        domains: str = "",
    ) -> str:
        from datetime import date

        with app.app_context():
            data = sessions.SessionData(
                series_name="Track 2 dialogue",
                title=title,
                number=2,
                held_on=date(2020, 6, 8),
                is_published=published,
            )
            session = sessions.create_session(data, ["A first point."])
            if report:
                files.upload(session, io.BytesIO(PDF), "report.pdf", Actor.operator())
            if rule != ApprovalRule.STAFF:
                files.set_rule(session, rule, domains, Actor.operator())
            db.session.commit()
            return session.slug

    return make


@pytest.fixture
def slug(make_session: Callable[..., str]) -> str:
    return make_session()


def requests_of(app: Flask) -> list[ReportRequest]:
    with app.app_context():
        found = list(db.session.scalars(sa.select(ReportRequest).order_by(ReportRequest.id)))
        db.session.expunge_all()
        return found


def events_of(app: Flask) -> list[ReportEvent]:
    with app.app_context():
        found = list(db.session.scalars(sa.select(ReportEvent).order_by(ReportEvent.id)))
        db.session.expunge_all()
        return found


def actions(app: Flask) -> list[str]:
    return [event.action.value for event in events_of(app) if event.request_id is not None]


def expire_grants(app: Flask) -> None:
    """As if the links' time had passed."""
    from datetime import timedelta

    with app.app_context():
        for grant in db.session.scalars(sa.select(ReportGrant)):
            grant.expires_at = grant.created_at - timedelta(seconds=1)
        db.session.commit()


def set_status(app: Flask, request_id: int, **values: Any) -> None:
    with app.app_context():
        found = db.session.get(ReportRequest, request_id)
        for name, value in values.items():
            setattr(found, name, value)
        db.session.commit()
