"""Settings admins change: the site's name, sender, organisation, address, consent text,
brand colour, logo and time zone."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from newsletter.settings import services as site_settings
from newsletter.timeutil import zone_names
from newsletter.web.formtools import saving
from newsletter.web.staff import admin_only, bp
from newsletter.web.staff.forms import SettingsForm


def _form() -> SettingsForm:
    form = SettingsForm()
    form.time_zone.choices = zone_names()
    if request.method == "GET":
        site = site_settings.current()
        for name in site_settings.EDITABLE:
            getattr(form, name).data = getattr(site, name)
        form.logo_alt.data = site.logo_alt
    return form


@bp.route("/settings", methods=["GET", "POST"])
@admin_only
def settings() -> str | Response | tuple[str, int]:
    form = _form()
    if form.validate_on_submit():
        values = site_settings.SiteValues(
            **{name: getattr(form, name).data or "" for name in site_settings.EDITABLE}
        )
        upload = request.files.get("logo")
        with saving(form) as attempt:
            site_settings.update(values, current_user)
            if form.remove_logo.data:
                site_settings.remove_logo()
            elif upload and upload.filename:
                site_settings.set_logo(upload.read(), form.logo_alt.data or "", current_user)
            else:
                site_settings.set_logo_alt(form.logo_alt.data or "")
        if attempt.ok:
            flash(_("Settings saved."), "success")
            return redirect(url_for("staff.settings"))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "staff/settings.html", form=form, configured=site_settings.configured()
    ), status
