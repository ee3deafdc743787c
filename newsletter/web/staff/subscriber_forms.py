"""Forms of the subscriber and list pages. Limits here give quick feedback; the
services validate again."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from newsletter.web.public.forms import ListChoiceField

CONSENT_CHOICES = [
    SelectChoice("note", _l("They consented already: I record how (kept as evidence)")),
    SelectChoice("confirm", _l("Send them a confirmation: they stay pending until they confirm")),
]


class ConsentForm(FlaskForm):
    consent = RadioField(_l("Consent"), choices=CONSENT_CHOICES, default="confirm")
    consent_note = TextAreaField(
        _l("How and when they consented"),
        validators=[Length(max=2000)],
        description=_l("For example: asked to be added at the 2026 conference, in writing."),
        render_kw={"rows": 3},
    )

    def note(self) -> str | None:
        """The consent note, or None for a confirmation; refuses a missing note."""
        if self.consent.data == "confirm":
            return None
        note = (self.consent_note.data or "").strip()
        if not note:
            self.consent_note.errors = [_("Say how they consented, or send a confirmation.")]
            return ""
        return note


class SubscriberAddForm(ConsentForm):
    email = StringField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    name = StringField(_l("Name"), validators=[Length(max=200)])
    organisation = StringField(_l("Organisation"), validators=[Length(max=200)])
    lists = ListChoiceField(_l("Lists"), choices=[])


class SubscriberListsForm(FlaskForm):
    lists = ListChoiceField(_l("Lists"), choices=[])


class UnsubscribeForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason (kept in the history)"), validators=[Length(max=2000)], render_kw={"rows": 2}
    )


class ResubscribeForm(ConsentForm):
    pass


class ListForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    description = TextAreaField(
        _l("Description"), validators=[Length(max=5000)], render_kw={"rows": 3}
    )
    is_public = BooleanField(_l("Public (offered on the subscribe form)"))
    is_default = BooleanField(_l("Default (joined when someone picks no list)"))


class NewListForm(ListForm):
    slug = StringField(
        _l("Slug"),
        validators=[DataRequired(), Length(max=64)],
        description=_l("Lower-case letters, digits and hyphens; part of the List-Id header."),
    )
