"""The emails of a report request. Until an address is verified, nothing a requester
typed (name, affiliation, purpose) goes into mail sent to it: the verification greets
neutrally and is addressed to the bare address, so the form cannot be used to send
someone else words of a stranger's choosing."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext

from newsletter import i18n, links, mailing
from newsletter.auth.models import Role, StaffUser
from newsletter.extensions import db
from newsletter.reports.models import ReportGrant, ReportRequest
from newsletter.sessions.models import DialogueSession
from newsletter.settings import services as site_settings
from newsletter.subscriptions.emails import greeting
from newsletter.tokens import Purpose, make_token
from newsletter.validation import normalize_address


def _session_context(session: DialogueSession) -> dict[str, str]:
    return {"session_title": session.title, "session_heading": session.heading}


def erase_url(request: ReportRequest) -> str:
    token = make_token(Purpose.REPORT_ERASE, request.public_id.hex)
    return links.external_url("public.report_erase", token=token)


def _when(value: datetime) -> str:
    """In the language being rendered."""
    return f"{i18n.day(value.date())}, {i18n.clock(value)} UTC"


def send_verification(request: ReportRequest, session: DialogueSession) -> None:
    """In the language of the page the request was made on (``ReportRequest.language``)."""
    with i18n.force_language(request.language):
        _send_verification(request, session)


def _send_verification(request: ReportRequest, session: DialogueSession) -> None:
    token = make_token(Purpose.REPORT_VERIFY, request.public_id.hex)
    mailing.send_email(
        "report_verify",
        subject=gettext(
            "Please verify your address for a report of %(site)s",
            site=site_settings.current().site_name,
        ),
        to_address=request.email,
        context={
            **_session_context(session),
            "expires_hours": current_app.config["CONFIRM_TOKEN_MAX_AGE_HOURS"],
        },
        slots={"verify_url": links.external_url("public.report_verify", token=token)},
    )


def _to_requester(
    template: str,
    subject: str,
    request: ReportRequest,
    session: DialogueSession,
    **slots: str,
) -> None:
    """Mail to a verified requester: greeted by name, with the decision's note and a
    link to erase their data. The caller renders it in the request's language."""
    mailing.send_email(
        template,
        subject=subject,
        to_address=request.email,
        to_name=request.name,
        context={**_session_context(session), "has_note": bool(request.decision_note)},
        slots={
            "greeting": greeting(request.name),
            "note": request.decision_note,
            "erase_url": erase_url(request),
            **slots,
        },
    )


def send_link(
    request: ReportRequest, session: DialogueSession, grant: ReportGrant, token: str
) -> None:
    with i18n.force_language(request.language):
        _to_requester(
            "report_approved",
            gettext("Your copy of the detailed report: %(title)s", title=session.title),
            request,
            session,
            download_url=links.external_url("public.report_download", token=token),
            expires=_when(grant.expires_at),
        )


def send_declined(request: ReportRequest, session: DialogueSession) -> None:
    with i18n.force_language(request.language):
        _to_requester(
            "report_declined",
            gettext("Your request for the detailed report: %(title)s", title=session.title),
            request,
            session,
        )


def notice_recipients() -> list[tuple[str, str]]:
    """(address, name) of whoever ``REPORT_NOTIFY`` names: ``staff`` (every active staff
    account: admins and editors both decide), ``admins``, ``none``, or addresses."""
    setting = current_app.config["REPORT_NOTIFY"]
    if setting in ("staff", "admins"):
        query = sa.select(StaffUser).where(StaffUser.is_active)
        if setting == "admins":
            query = query.where(StaffUser.role == Role.ADMIN)
        return [
            (user.email, user.name) for user in db.session.scalars(query.order_by(StaffUser.id))
        ]
    return [(address, "") for address in notify_addresses(setting)]


def notify_addresses(setting: object) -> list[str]:
    """The addresses of a ``REPORT_NOTIFY`` that lists them (a JSON list, or a text
    separated by commas); ``none`` or empty is nobody. Raises InvalidInput for a bad one."""
    if setting in (None, "", "none"):
        return []
    values = setting if isinstance(setting, list) else str(setting).split(",")
    return [normalize_address(str(value)).email for value in values if str(value).strip()]


def notify_staff(request: ReportRequest, session: DialogueSession) -> None:
    """Tell staff that a verified request waits for their decision."""
    queue_url = links.external_url("staff.reports_show", request_id=request.id)
    for address, name in notice_recipients():
        mailing.send_email(
            "report_notify",
            subject=f"A report request waits for a decision: {session.title}",
            to_address=address,
            to_name=name or None,
            context=_session_context(session),
            slots={
                "requester_name": request.name,
                "requester_email": request.email,
                "affiliation": request.affiliation or "(none given)",
                "purpose": request.purpose,
                "request_url": queue_url,
            },
        )
