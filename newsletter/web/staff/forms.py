"""Staff forms. Limits here give quick feedback; the services validate again."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from newsletter.auth.models import Role
from newsletter.sessions.importer import MAX_CHARS
from newsletter.web.public.forms import ListChoiceField

_ROLE_CHOICES = [SelectChoice(role.value, role.value.title()) for role in Role]


class LoginForm(FlaskForm):
    email = StringField(
        "Email",
        validators=[DataRequired(), Length(max=254)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired(), Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenField()


class PasswordForm(FlaskForm):
    current = PasswordField(
        "Current password",
        validators=[DataRequired()],
        render_kw={"autocomplete": "current-password"},
    )
    password = PasswordField(
        "New password (at least 12 characters)",
        validators=[DataRequired(), Length(max=256)],
        render_kw={"autocomplete": "new-password"},
    )


class StaffForm(FlaskForm):
    email = StringField("Email", validators=[DataRequired(), Length(max=254)])
    name = StringField("Name", validators=[Length(max=200)])
    role = SelectField("Role", choices=_ROLE_CHOICES)
    password = PasswordField(
        "Initial password (at least 12 characters; they can change it)",
        validators=[DataRequired(), Length(max=256)],
        render_kw={"autocomplete": "new-password"},
    )


class StaffEditForm(FlaskForm):
    role = SelectField("Role", choices=_ROLE_CHOICES)
    active = BooleanField("Active (can log in)")


class ButtonForm(FlaskForm):
    """A button that posts: only the CSRF token."""


_LINES_HINT = "One per line."


class SessionForm(FlaskForm):
    series_name = StringField(
        "Series", validators=[DataRequired(), Length(max=200)], render_kw={"list": "series-names"}
    )
    title = StringField("Title", validators=[DataRequired(), Length(max=300)])
    number = IntegerField("Session number", validators=[Optional(), NumberRange(min=1, max=9999)])
    held_on = DateField("Date", validators=[Optional()])
    host = StringField("Host", validators=[Length(max=300)])
    supporters = TextAreaField("Supporters", description=_LINES_HINT, render_kw={"rows": 2})
    partners = TextAreaField("Partners", description=_LINES_HINT, render_kw={"rows": 2})
    participant_countries = TextAreaField(
        "Participant countries", description=_LINES_HINT, render_kw={"rows": 4}
    )
    notable_attendees = TextAreaField(
        "Notable attendees", description=_LINES_HINT, render_kw={"rows": 2}
    )
    narrative = TextAreaField(
        "Narrative", description="Paragraphs separated by a blank line.", render_kw={"rows": 10}
    )
    is_published = BooleanField("Published (a public page shows the session and its points)")


_POINTS_TOO_LONG = f"The points have at most {MAX_CHARS:,} characters."


class ImportedSessionForm(SessionForm):
    points = TextAreaField(
        "Summary points",
        validators=[Length(max=MAX_CHARS, message=_POINTS_TOO_LONG)],
        description="One point per paragraph: separate points with a blank line.",
        render_kw={"rows": 16},
    )


class ImportTextForm(FlaskForm):
    text = TextAreaField(
        "Summary text",
        validators=[DataRequired("Paste the text of a session summary.")],
        render_kw={"rows": 18},
    )


class PointForm(FlaskForm):
    text = TextAreaField("Point", validators=[DataRequired()], render_kw={"rows": 3})


class DigestForm(FlaskForm):
    subject = StringField("Subject", validators=[DataRequired(), Length(max=200)])
    preheader = StringField(
        "Preheader",
        description="The line inboxes show after the subject.",
        validators=[Length(max=200)],
    )
    intro = TextAreaField("Introduction (Markdown)", render_kw={"rows": 5})
    outro = TextAreaField("Closing (Markdown)", render_kw={"rows": 4})
    lists = ListChoiceField("Send to", choices=[])


class NewDigestForm(FlaskForm):
    subject = StringField("Subject", validators=[DataRequired(), Length(max=200)])


class ItemTextForm(FlaskForm):
    text = TextAreaField("Text in this digest", render_kw={"rows": 3})
