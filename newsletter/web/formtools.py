"""Small helpers shared by the views' forms."""

from flask_wtf import FlaskForm

from newsletter.subscriptions.addresses import InvalidInput


def show_error(form: FlaskForm, error: InvalidInput) -> None:
    """Put a service's refusal beside the field it is about, or above the form."""
    field = getattr(form, error.field or "", None)
    errors = field.errors if field is not None else form.form_errors
    errors.append(str(error))
