"""Staff forms. Limits here give quick feedback; the services validate again."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from newsletter.auth.models import Role
from newsletter.reports.decisions import MAX_NOTE
from newsletter.reports.models import ApprovalRule
from newsletter.sessions.fields import Kind, Spec, specs
from newsletter.sessions.importer import MAX_CHARS
from newsletter.sessions.services import SessionData
from newsletter.web.public.forms import ListChoiceField

_ROLE_LABELS = {Role.ADMIN: _l("Admin"), Role.EDITOR: _l("Editor")}
_ROLE_CHOICES = [SelectChoice(role.value, _ROLE_LABELS[role]) for role in Role]


class LoginForm(FlaskForm):
    email = StringField(
        _l("Email"),
        validators=[DataRequired(), Length(max=254)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenField()


class PasswordForm(FlaskForm):
    current = PasswordField(
        _l("Current password"),
        validators=[DataRequired()],
        render_kw={"autocomplete": "current-password"},
    )
    password = PasswordField(
        _l("New password (at least 12 characters)"),
        validators=[DataRequired(), Length(max=256)],
        render_kw={"autocomplete": "new-password"},
    )


class StaffForm(FlaskForm):
    email = StringField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    name = StringField(_l("Name"), validators=[Length(max=200)])
    role = SelectField(_l("Role"), choices=_ROLE_CHOICES)
    password = PasswordField(
        _l("Initial password (at least 12 characters; they can change it)"),
        validators=[DataRequired(), Length(max=256)],
        render_kw={"autocomplete": "new-password"},
    )


class StaffEditForm(FlaskForm):
    role = SelectField(_l("Role"), choices=_ROLE_CHOICES)
    active = BooleanField(_l("Active (can log in)"))


class LanguageForm(FlaskForm):
    language = SelectField(_l("Interface language"), choices=[], validate_choice=True)


class ButtonForm(FlaskForm):
    """A button that posts: only the CSRF token."""


_HINTS = {Kind.NAMES: _l("One per line."), Kind.TEXT: _l("Paragraphs separated by a blank line.")}
# The declared fields' labels in the page's language (the command line keeps the
# declarations' English ones).
_LABELS = {
    "Title": _l("Title"),
    "Session number": _l("Session number"),
    "Date": _l("Date"),
    "Host": _l("Host"),
    "Supporters": _l("Supporters"),
    "Partners": _l("Partners"),
    "Participant countries": _l("Participant countries"),
    "Notable attendees": _l("Notable attendees"),
    "Narrative": _l("Narrative"),
    "Series": _l("Series"),
    "Published (a public page shows the session and its points)": _l(
        "Published (a public page shows the session and its points)"
    ),
}
# How the pages show a field beyond what its declaration says.
_RENDER = {"series_name": {"list": "series-names"}}


def _session_field(name: str, spec: Spec) -> Any:
    """The form field for a declared session field (see ``sessions.fields``)."""
    label = _LABELS.get(spec.label, spec.label)
    if spec.kind is Kind.LINE:
        required = [DataRequired()] if spec.required else []
        return StringField(
            label,
            validators=[*required, Length(max=spec.limit)],
            render_kw=_RENDER.get(name),
        )
    if spec.kind is Kind.NUMBER:
        return IntegerField(label, validators=[Optional(), NumberRange(min=1, max=spec.limit)])
    if spec.kind is Kind.DATE:
        return DateField(label, validators=[Optional()])
    if spec.kind is Kind.FLAG:
        return BooleanField(label)
    return TextAreaField(label, description=_HINTS[spec.kind], render_kw={"rows": spec.rows})


class SessionForm(FlaskForm):
    """A session's fields, one form field for each field of ``SessionData``."""

    def to_session_data(self) -> SessionData:
        values = {name: _entered(spec, self[name].data) for name, spec in specs(SessionData)}
        return SessionData(**values)

    def fill_from(self, data: SessionData) -> None:
        for name, spec in specs(SessionData):
            value = getattr(data, name)
            self[name].data = "\n".join(value) if spec.kind is Kind.NAMES else value


def _entered(spec: Spec, value: Any) -> Any:
    """A form field's value as ``SessionData`` holds it."""
    if spec.kind is Kind.NAMES:
        return [line.strip() for line in (value or "").splitlines() if line.strip()]
    if spec.kind in (Kind.LINE, Kind.TEXT):
        return value or ""
    if spec.kind is Kind.FLAG:
        return bool(value)
    return value


def _declare_session_fields() -> None:
    for name, spec in specs(SessionData):
        setattr(SessionForm, name, _session_field(name, spec))


_declare_session_fields()


_POINTS_TOO_LONG = _l("The points have at most %(count)s characters.", count=f"{MAX_CHARS:,}")


class ImportedSessionForm(SessionForm):
    points = TextAreaField(
        _l("Summary points"),
        validators=[Length(max=MAX_CHARS, message=_POINTS_TOO_LONG)],
        description=_l("One point per paragraph: separate points with a blank line."),
        render_kw={"rows": 16},
    )


class ImportTextForm(FlaskForm):
    text = TextAreaField(
        _l("Summary text"),
        validators=[DataRequired(_l("Paste the text of a session summary."))],
        render_kw={"rows": 18},
    )


class DigestForm(FlaskForm):
    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(max=200)])
    preheader = StringField(
        _l("Preheader"),
        description=_l("The line inboxes show after the subject."),
        validators=[Length(max=200)],
    )
    intro = TextAreaField(_l("Introduction (Markdown)"), render_kw={"rows": 5})
    outro = TextAreaField(_l("Closing (Markdown)"), render_kw={"rows": 4})
    lists = ListChoiceField(_l("Send to"), choices=[])


class NewDigestForm(FlaskForm):
    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(max=200)])


class StaffPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password (at least 12 characters)"),
        validators=[DataRequired(), Length(max=256)],
        render_kw={"autocomplete": "new-password"},
    )


class SettingsForm(FlaskForm):
    site_name = StringField(
        _l("Site name"),
        description=_l("In every page's header, in email subjects and in List-Id."),
        validators=[DataRequired(), Length(max=100)],
    )
    organisation_name = StringField(
        _l("Organisation"),
        description=_l(
            "Who publishes; named in every email's footer. Required before the first send."
        ),
        validators=[Length(max=200)],
    )
    postal_address = TextAreaField(
        _l("Postal address"),
        description=_l(
            "Anti-spam laws ask every email to give one. Required before the first send."
        ),
        validators=[Length(max=500)],
        render_kw={"rows": 3},
    )
    sender_name = StringField(
        _l("Sender's name"),
        description=_l(
            "The name inboxes show as the sender; the address stays the configured one."
        ),
        validators=[Length(max=100)],
    )
    reply_to = StringField(
        _l("Replies go to"),
        description=_l("An address for replies (optional)."),
        validators=[Length(max=254)],
        render_kw={"type": "email", "autocomplete": "email"},
    )
    consent_text = TextAreaField(
        _l("Consent statement on the subscribe form"),
        description=_l(
            "Each wording is kept, and every subscriber's evidence names the one they saw."
        ),
        validators=[DataRequired(), Length(max=2000)],
        render_kw={"rows": 4},
    )
    brand_colour = StringField(
        _l("Brand colour"),
        description=_l("The header and main buttons; text on it is chosen to stay readable."),
        validators=[DataRequired(), Length(max=7)],
        render_kw={"type": "color"},
    )
    time_zone = SelectField(
        _l("Time zone"),
        description=_l("Times of scheduled sends are entered and shown in it."),
        choices=[],
    )
    logo = FileField(
        _l("Logo (PNG, JPEG or GIF, at most 512 KB)"),
        render_kw={"accept": "image/png,image/jpeg,image/gif"},
    )
    logo_alt = StringField(
        _l("The logo in words (alt text)"),
        description=_l("Read out instead of the logo, and shown when images are off."),
        validators=[Length(max=200)],
    )
    remove_logo = BooleanField(_l("Remove the logo"))


class ItemTextForm(FlaskForm):
    text = TextAreaField(_l("Text in this digest"), render_kw={"rows": 3})


class ReportUploadForm(FlaskForm):
    file = FileField(
        _l("Report file"),
        description=_l("A PDF, a Word document (DOCX) or an OpenDocument text (ODT)."),
        validators=[FileRequired(_l("Choose the report's file."))],
        render_kw={"accept": ".pdf,.docx,.odt"},
    )


# The approval rules in the page's language (the record keeps files.RULE_LABELS).
_RULE_LABELS = {
    ApprovalRule.STAFF: _l("Staff decide each request"),
    ApprovalRule.ANYONE: _l("Approve anyone whose address is verified"),
    ApprovalRule.DOMAINS: _l("Approve verified addresses at these domains; staff decide the rest"),
}


class ReportRuleForm(FlaskForm):
    rule = RadioField(
        _l("Who gets the report"),
        choices=[SelectChoice(rule.value, label) for rule, label in _RULE_LABELS.items()],
        default=ApprovalRule.STAFF.value,
    )
    domains = TextAreaField(
        _l("Domains"),
        description=_l("One per line, like example.org (its subdomains count too)."),
        render_kw={"rows": 3},
    )


class DecisionForm(FlaskForm):
    note = TextAreaField(
        _l("Note to the requester (optional)"),
        validators=[Length(max=MAX_NOTE)],
        render_kw={"rows": 2, "maxlength": MAX_NOTE},
    )


class ImportUploadForm(FlaskForm):
    file = FileField(
        _l("CSV file"),
        description=_l(
            "UTF-8 text; the first line names the columns: email, and name and "
            "organisation if you have them."
        ),
        validators=[FileRequired(_l("Choose the CSV file."))],
        render_kw={"accept": ".csv,text/csv"},
    )


class ImportOptionsForm(FlaskForm):
    consent = RadioField(
        _l("Consent"),
        choices=[
            SelectChoice("consented", _l("These people already consented: they become active")),
            SelectChoice("confirm", _l("Send each new person a confirmation: they stay pending")),
        ],
        validators=[DataRequired(_l("Say whether these people consented."))],
    )
    consent_note = TextAreaField(
        _l("How and when they consented"),
        description=_l(
            "Kept as each person's consent evidence, e.g. 'signed up on paper at "
            "the 2026 annual conference'."
        ),
        validators=[Length(max=2000)],
        render_kw={"rows": 3},
    )
    lists = ListChoiceField(_l("Lists to add them to"), choices=[])
    dry_run = BooleanField(_l("Dry run: check every row and report, but store nothing"))
