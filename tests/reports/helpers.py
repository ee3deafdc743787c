"""Report files made for the tests, and the reader's steps through the HTTP layer."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from flask.testing import FlaskClient

from newsletter.demo.pdf import text_pdf
from tests.conftest import find_link, form_values, local
from tests.smtp_sink import Received
from tests.subscriptions.helpers import text_of

PDF = text_pdf("Detailed report: test session", ["The first paragraph.", "The second."])
_DOCX_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    b'package/2006/content-types"><Override PartName="/word/document.xml" ContentType='
    b'"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    b"</Types>"
)


def zip_of(members: dict[str, bytes], stored_first: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if stored_first:
            archive.writestr(
                zipfile.ZipInfo(stored_first), members[stored_first], zipfile.ZIP_STORED
            )
        for name, data in members.items():
            if name != stored_first:
                archive.writestr(name, data)
    return buffer.getvalue()


def docx(macros: bool = False) -> bytes:
    members = {"[Content_Types].xml": _DOCX_TYPES, "word/document.xml": b"<w:document/>"}
    if macros:
        members["word/vbaProject.bin"] = b"\x00" * 64
    return zip_of(members)


def odt(mimetype: bytes = b"application/vnd.oasis.opendocument.text") -> bytes:
    return zip_of({"mimetype": mimetype, "content.xml": b"<office:document-content/>"}, "mimetype")


def ask(
    client: FlaskClient,
    slug: str,
    email: str,
    environ_base: dict[str, str] | None = None,
    **fields: Any,
) -> Any:
    """Fill in and send the request form as a browser would."""
    environ_base = environ_base or {}
    page = client.get(f"/sessions/{slug}/report", environ_base=environ_base)
    assert page.status_code == 200, page.get_data(as_text=True)
    values = form_values(page.get_data(as_text=True))
    values.pop("website", None)
    values.update(
        {
            "email": email,
            "name": "Ada Reader",
            "affiliation": "Institute of Studies",
            "purpose": "Research on the peace process.",
            **fields,
        }
    )
    return client.post(f"/sessions/{slug}/report", data=values, environ_base=environ_base)


def link_in(received: Received, path: str) -> str:
    return local(find_link(text_of(received), path))


def press_the_button(client: FlaskClient, link: str, **kwargs: Any) -> Any:
    """GET the page a link opens, then POST its form (the one button)."""
    page = client.get(link)
    assert page.status_code == 200, page.get_data(as_text=True)
    return client.post(link, data=form_values(page.get_data(as_text=True)), **kwargs)


def multipart(
    fields: dict[str, str], file_field: str, data: bytes, filename: str
) -> tuple[bytes, str]:
    """A multipart/form-data body and its content type, encoded here: werkzeug's test
    client spools large bodies to a temporary file it never closes."""
    boundary = "----test-boundary-7f3a9c"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
        f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
        + data
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
