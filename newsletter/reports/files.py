"""A session's report: uploading its file (each replacement a new version), its
automatic approval rule, and finding the report a reader may ask for."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import BinaryIO

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from newsletter.extensions import db
from newsletter.reports import storage
from newsletter.reports.filetypes import KINDS, FileKind
from newsletter.reports.models import Action, ApprovalRule, Report, ReportVersion
from newsletter.reports.record import Actor, log
from newsletter.sessions.models import DialogueSession
from newsletter.sessions.services import published_session
from newsletter.slugs import slugify
from newsletter.timeutil import utcnow
from newsletter.validation import InvalidInput, clean_text

MAX_DOMAINS = 200
_LABEL_MAX = 63
_DOMAIN_MAX = 253
RULE_LABELS = {
    ApprovalRule.STAFF: "Staff decide each request",
    ApprovalRule.ANYONE: "Approve anyone whose address is verified",
    ApprovalRule.DOMAINS: "Approve verified addresses at these domains; staff decide the rest",
}


def report_of(session: DialogueSession) -> Report | None:
    return db.session.scalar(
        sa.select(Report)
        .where(Report.session_id == session.id)
        .options(selectinload(Report.versions))
    )


def _ensure_report(session: DialogueSession) -> Report:
    report = report_of(session)
    if report is None:
        report = Report(session_id=session.id, approval_rule=ApprovalRule.STAFF)
        db.session.add(report)
        db.session.flush()
    return report


def upload(
    session: DialogueSession,
    stream: BinaryIO,
    original_name: str,
    actor: Actor,
    now: datetime | None = None,
) -> ReportVersion:
    """Store a file as the session's report (its next version); InvalidInput for an
    empty, oversized or unaccepted file, and then nothing is kept."""
    now = now or utcnow()
    name = clean_text((original_name or "").replace("\\", "/").rsplit("/", 1)[-1], "file name", 255)
    stored = storage.store(stream)
    report = _ensure_report(session)
    with db.session.no_autoflush:
        number = max((version.number for version in report.versions), default=0) + 1
    version = ReportVersion(
        report=report,
        number=number,
        stored_name=stored.name,
        original_name=name,
        kind=stored.kind.key,
        size=stored.size,
        sha256=stored.sha256,
        uploaded_at=now,
        uploaded_by=actor.name,
    )
    db.session.add(version)
    db.session.flush()
    note = f"version {number}: {stored.kind.label}, {stored.size} bytes"
    if name:
        note += f", uploaded as {name}"
    log(Action.UPLOADED, actor, report_id=report.id, version_id=version.id, note=note, at=now)
    return version


def parse_domains(text: str) -> list[str]:
    """Domains from staff's text (one per line, or separated by commas or spaces),
    lower-cased, IDNs in punycode, a leading ``@`` or ``*.`` ignored."""
    found: list[str] = []
    for raw in text.replace(",", " ").split():
        domain = raw.strip().lower().removeprefix("@").removeprefix("*.").rstrip(".")
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise InvalidInput(f"{raw!r} is not a domain name.", "domains") from exc
        labels = domain.split(".")
        valid = (
            len(labels) >= 2  # noqa: PLR2004 - a name and a top-level domain
            and len(domain) <= _DOMAIN_MAX
            and all(
                0 < len(label) <= _LABEL_MAX
                and label.replace("-", "").isalnum()
                and not label.startswith("-")
                and not label.endswith("-")
                for label in labels
            )
        )
        if not valid:
            raise InvalidInput(f"{raw!r} is not a domain name (like example.org).", "domains")
        if domain not in found:
            found.append(domain)
    if len(found) > MAX_DOMAINS:
        raise InvalidInput(f"At most {MAX_DOMAINS} domains.", "domains")
    return found


def set_rule(
    session: DialogueSession, rule: ApprovalRule, domains_text: str, actor: Actor
) -> Report:
    """Choose how requests for this session's report are approved."""
    domains = parse_domains(domains_text or "")
    if rule == ApprovalRule.DOMAINS and not domains:
        raise InvalidInput(_l("List at least one domain, or choose another rule."), "domains")
    report = _ensure_report(session)
    if rule != ApprovalRule.DOMAINS:
        domains = []
    if report.approval_rule == rule and list(report.approval_domains or []) == domains:
        return report
    report.approval_rule = rule
    report.approval_domains = domains
    note = RULE_LABELS[rule] + (f": {', '.join(domains)}" if domains else "")
    log(Action.RULE_CHANGED, actor, report_id=report.id, note=note)
    db.session.flush()
    return report


def rule_approves(report: Report, address_key: str) -> bool:
    """Whether the report's rule approves a verified request from this address: the
    domain listed, or a subdomain of one listed."""
    if report.approval_rule == ApprovalRule.ANYONE:
        return True
    if report.approval_rule != ApprovalRule.DOMAINS:
        return False
    domain = address_key.rsplit("@", 1)[-1]
    return any(domain == d or domain.endswith("." + d) for d in report.approval_domains or [])


def requestable(slug: str) -> tuple[DialogueSession, Report] | None:
    """The published session at ``slug`` and its report, if it has a file to ask for."""
    session = published_session(slug)
    if session is None:
        return None
    report = report_of(session)
    if report is None or report.current is None:
        return None
    return session, report


def record_staff_download(version: ReportVersion, actor: Actor) -> None:
    log(
        Action.DOWNLOADED,
        actor,
        report_id=version.report_id,
        version_id=version.id,
        note="by staff",
    )


def kind_of(version: ReportVersion) -> FileKind:
    return KINDS[version.kind]


def download_name(session: DialogueSession, version: ReportVersion) -> str:
    """``2020-06-08-title-of-the-session.pdf``: the session's date and title."""
    stem = slugify(session.title, 80)
    if session.held_on:
        stem = f"{session.held_on.isoformat()}-{stem}"
    return f"{stem}.{kind_of(version).extension}"


def sessions_with_reports() -> Sequence[Report]:
    return list(
        db.session.scalars(
            sa.select(Report).options(selectinload(Report.versions), selectinload(Report.session))
        )
    )
