"""A session's fields are declared once: the model, the staff form, what staff enter and
what the importer reads all have the same ones."""

from __future__ import annotations

import dataclasses
from datetime import date

import sqlalchemy as sa

from newsletter.sessions.fields import FACTS, Kind, SessionFacts, specs
from newsletter.sessions.importer import ParsedSession
from newsletter.sessions.models import DialogueSession
from newsletter.sessions.services import SessionData
from newsletter.web.staff.forms import ImportedSessionForm, SessionForm


def test_every_fact_is_a_column_of_the_declared_type():
    columns = DialogueSession.__table__.columns
    for name, spec in FACTS:
        assert name in columns, name
        if spec.kind is Kind.LINE:
            assert isinstance(columns[name].type, sa.String)
            assert columns[name].type.length == spec.limit, name
        assert columns[name].nullable == (spec.kind in (Kind.NUMBER, Kind.DATE)), name


def test_parsed_and_entered_sessions_share_the_facts():
    facts = {item.name for item in dataclasses.fields(SessionFacts)}
    assert facts == {name for name, _ in FACTS}
    assert facts < {item.name for item in dataclasses.fields(ParsedSession)}
    assert {item.name for item in dataclasses.fields(SessionData)} == facts | {
        "series_name",
        "is_published",
    }


def test_the_staff_form_has_a_field_for_each_and_gives_back_what_it_was_filled_with(app):
    data = SessionData(
        series_name="Track 2 Dialogue",
        title="A title",
        number=4,
        held_on=date(2020, 6, 8),
        host="A host",
        supporters=["One", "Two"],
        partners=["Partner"],
        participant_countries=["Afghanistan", "Pakistan"],
        notable_attendees=[],
        narrative="First paragraph.\n\nSecond.",
        is_published=True,
    )
    with app.test_request_context():
        for form_class in (SessionForm, ImportedSessionForm):
            form = form_class(formdata=None)
            assert {name for name, _ in specs(SessionData)} <= {field.name for field in form}
            form.fill_from(data)
            assert form.to_session_data() == data
