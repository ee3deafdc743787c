"""Returned mail as an MTA writes it, around a message we sent."""

from __future__ import annotations

from email.utils import formatdate


def dsn(
    to: str,
    recipient: str,
    status: str,
    diagnostic: str,
    *,
    action: str = "failed",
    returned: bytes = b"",
) -> bytes:
    """A Postfix-style RFC 3464 report sent to ``to`` about ``recipient``, with the
    returned message's headers (``returned``, e.g. what our SMTP sink received)."""
    head = returned.split(b"\r\n\r\n", 1)[0]
    return (
        (
            "Return-Path: <>\r\n"
            f"Delivered-To: {to}\r\n"
            "From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\r\n"
            "Subject: Undelivered Mail Returned to Sender\r\n"
            f"To: {to}\r\n"
            f"Date: {formatdate()}\r\n"
            "Auto-Submitted: auto-replied\r\n"
            "MIME-Version: 1.0\r\n"
            'Content-Type: multipart/report; report-type=delivery-status; boundary="B0"\r\n'
            "\r\n"
            "--B0\r\n"
            "Content-Type: text/plain\r\n\r\n"
            "This is the mail system at host mx.example.net.\r\n\r\n"
            f"<{recipient}>: host mx.example.com said: {diagnostic}\r\n\r\n"
            "--B0\r\n"
            "Content-Type: message/delivery-status\r\n\r\n"
            "Reporting-MTA: dns; mx.example.net\r\n\r\n"
            f"Final-Recipient: rfc822; {recipient}\r\n"
            f"Action: {action}\r\n"
            f"Status: {status}\r\n"
            f"Diagnostic-Code: smtp; {diagnostic}\r\n\r\n"
            "--B0\r\n"
            "Content-Type: text/rfc822-headers\r\n\r\n"
        ).encode()
        + head
        + b"\r\n\r\n--B0--\r\n"
    )


def arf(to: str, returned: bytes, feedback_type: str = "abuse") -> bytes:
    """A feedback-loop complaint (RFC 5965) about the message ``returned``."""
    head = returned.split(b"\r\n\r\n", 1)[0]
    return (
        (
            "From: feedbackloop@fbl.example.com\r\n"
            f"To: {to}\r\n"
            "Subject: Abuse report\r\n"
            f"Date: {formatdate()}\r\n"
            "MIME-Version: 1.0\r\n"
            'Content-Type: multipart/report; report-type=feedback-report; boundary="F0"\r\n'
            "\r\n--F0\r\nContent-Type: text/plain\r\n\r\nA complaint about a message.\r\n"
            "--F0\r\nContent-Type: message/feedback-report\r\n\r\n"
            f"Feedback-Type: {feedback_type}\r\nUser-Agent: FBL/1.0\r\nVersion: 1\r\n\r\n"
            "--F0\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        ).encode()
        + head
        + b"\r\n\r\n--F0--\r\n"
    )


def plain(sender: str, to: str, subject: str, body: str = "Hello,\r\n", **headers: str) -> bytes:
    extra = "".join(f"{name.replace('_', '-')}: {value}\r\n" for name, value in headers.items())
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: {formatdate()}\r\n"
        f"Message-ID: <{abs(hash((sender, subject, body)))}@example.com>\r\n{extra}\r\n{body}"
    ).encode()
