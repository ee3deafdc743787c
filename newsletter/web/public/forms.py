"""Reader forms. Field limits here give quick feedback; the services validate again."""

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from newsletter.reports.services import MAX_PURPOSE
from newsletter.subscriptions.models import MailingList
from newsletter.validation import MAX_ADDRESS, MAX_NAME


class ListChoiceField(SelectMultipleField):
    """Checkboxes, one per mailing list."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def set_lists(self, lists: Iterable[MailingList]) -> None:
        self.choices = [SelectChoice(lst.slug, lst.name) for lst in lists]


def honeypot() -> StringField:
    """A field hidden from people by CSS and filled in by form-spamming bots."""
    return StringField(
        _l("Leave this field empty"), render_kw={"autocomplete": "off", "tabindex": "-1"}
    )


def language_field() -> SelectField:
    """The reader's language (choices set by the view from LANGUAGES)."""
    return SelectField(_l("Language of the emails and pages"), choices=[], validate_choice=True)


class SubscribeForm(FlaskForm):
    class Meta:
        # CSRFProtect checks the token of every POST before the view runs (and refuses a
        # bad one with a reason); the form checking it again, and signing a new token on
        # each post even when it answers with a redirect, was the form's costliest step.
        # The template renders the token with csrf_token().
        csrf = False

    email = StringField(
        _l("Email address"),
        validators=[DataRequired(_l("Please enter an email address.")), Length(max=MAX_ADDRESS)],
        render_kw={"autocomplete": "email", "type": "email", "maxlength": MAX_ADDRESS},
    )
    name = StringField(
        _l("Name (optional)"),
        validators=[Length(max=MAX_NAME)],
        render_kw={"autocomplete": "name", "maxlength": MAX_NAME},
    )
    organisation = StringField(
        _l("Organisation (optional)"),
        validators=[Length(max=MAX_NAME)],
        render_kw={"autocomplete": "organization", "maxlength": MAX_NAME},
    )
    lists = ListChoiceField(_l("Lists"), choices=[])
    language = language_field()
    consent_version = HiddenField()
    website = honeypot()


class PreferencesForm(FlaskForm):
    name = StringField(
        _l("Name"), validators=[Length(max=MAX_NAME)], render_kw={"maxlength": MAX_NAME}
    )
    organisation = StringField(
        _l("Organisation"), validators=[Length(max=MAX_NAME)], render_kw={"maxlength": MAX_NAME}
    )
    lists = ListChoiceField(_l("Lists"), choices=[])
    language = language_field()


class ConfirmForm(FlaskForm):
    """One button; the CSRF token is its only field."""


class EraseForm(FlaskForm):
    sure = BooleanField(
        _l("I understand that this deletes my data and cannot be undone."),
        validators=[DataRequired(_l("Please tick the box to confirm."))],
    )


class ReportRequestForm(FlaskForm):
    name = StringField(
        _l("Your name"),
        validators=[DataRequired(_l("Please give your name.")), Length(max=MAX_NAME)],
        render_kw={"autocomplete": "name", "maxlength": MAX_NAME},
    )
    email = StringField(
        _l("Email address"),
        validators=[DataRequired(_l("Please enter an email address.")), Length(max=MAX_ADDRESS)],
        render_kw={"autocomplete": "email", "type": "email", "maxlength": MAX_ADDRESS},
    )
    affiliation = StringField(
        _l("Affiliation (optional)"),
        description=_l("Your organisation or institution, if any."),
        validators=[Length(max=MAX_NAME)],
        render_kw={"autocomplete": "organization", "maxlength": MAX_NAME},
    )
    purpose = TextAreaField(
        _l("Purpose of the request"),
        description=_l("What you would use the report for."),
        validators=[
            DataRequired(_l("Please say what you would use the report for.")),
            Length(max=MAX_PURPOSE),
        ],
        render_kw={"rows": 4, "maxlength": MAX_PURPOSE},
    )
    subscribe = BooleanField(_l("Also subscribe me to the newsletter"))
    consent_version = HiddenField()
    website = honeypot()
