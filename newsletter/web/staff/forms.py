"""Staff forms. Limits here give quick feedback; the services validate again."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
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


class ImportedSessionForm(SessionForm):
    points = TextAreaField(
        "Summary points",
        description="One point per paragraph: separate points with a blank line.",
        render_kw={"rows": 16},
    )


class ImportTextForm(FlaskForm):
    text = TextAreaField(
        "Summary text",
        validators=[DataRequired("Paste the text of a session summary.")],
        render_kw={"rows": 18},
    )


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


class StaffPasswordForm(FlaskForm):
    password = PasswordField(
        "New password (at least 12 characters)",
        validators=[DataRequired(), Length(max=256)],
        render_kw={"autocomplete": "new-password"},
    )


class SettingsForm(FlaskForm):
    site_name = StringField(
        "Site name",
        description="In every page's header, in email subjects and in List-Id.",
        validators=[DataRequired(), Length(max=100)],
    )
    organisation_name = StringField(
        "Organisation",
        description="Who publishes; named in every email's footer. Required before the first send.",
        validators=[Length(max=200)],
    )
    postal_address = TextAreaField(
        "Postal address",
        description="Anti-spam laws ask every email to give one. Required before the first send.",
        validators=[Length(max=500)],
        render_kw={"rows": 3},
    )
    sender_name = StringField(
        "Sender's name",
        description="The name inboxes show as the sender; the address stays the configured one.",
        validators=[Length(max=100)],
    )
    reply_to = StringField(
        "Replies go to",
        description="An address for replies (optional).",
        validators=[Length(max=254)],
        render_kw={"type": "email", "autocomplete": "email"},
    )
    consent_text = TextAreaField(
        "Consent statement on the subscribe form",
        description="Each wording is kept, and every subscriber's evidence names the one they saw.",
        validators=[DataRequired(), Length(max=2000)],
        render_kw={"rows": 4},
    )
    brand_colour = StringField(
        "Brand colour",
        description="The header and main buttons; text on it is chosen to stay readable.",
        validators=[DataRequired(), Length(max=7)],
        render_kw={"type": "color"},
    )
    time_zone = SelectField(
        "Time zone", description="Times of scheduled sends are entered and shown in it.", choices=[]
    )
    logo = FileField(
        "Logo (PNG, JPEG or GIF, at most 512 KB)",
        render_kw={"accept": "image/png,image/jpeg,image/gif"},
    )
    logo_alt = StringField(
        "The logo in words (alt text)",
        description="Read out instead of the logo, and shown when images are off.",
        validators=[Length(max=200)],
    )
    remove_logo = BooleanField("Remove the logo")
