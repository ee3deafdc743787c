"""Files in and out of requests: bodies larger than ``MAX_CONTENT_LENGTH`` for the
views that take files, and a report version sent as a download.

The upload limit must be known before anything reads the form (the CSRF check does,
before any view runs), so it comes from the matched endpoint, through the request class.
"""

from __future__ import annotations

import logging

from flask import Request, abort, current_app, send_file
from werkzeug.wrappers import Response

from newsletter.reports import files, storage
from newsletter.reports.models import ReportVersion

log = logging.getLogger(__name__)

# endpoint -> configuration key of the largest file it takes, in bytes
UPLOAD_LIMITS = {
    "staff.reports_upload": "REPORT_MAX_BYTES",
    "staff.imports_upload": "IMPORT_MAX_BYTES",
}
# Room for the form's other fields and the multipart framing beside the file. A file
# a little over its limit still arrives, so the form can say by how much.
_FRAMING = 1024 * 1024


class UploadAwareRequest(Request):
    @property
    def max_content_length(self) -> int | None:
        if self._max_content_length is None and self.url_rule is not None:
            key = UPLOAD_LIMITS.get(self.url_rule.endpoint)
            if key is not None and current_app:
                return int(current_app.config[key]) + _FRAMING
        return super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value


def report_attachment(version: ReportVersion) -> Response:
    """The version's file with its real type, as an attachment named after the session
    (date and title), never cached; 503 if the storage folder lost it."""
    path = storage.path_of(version.stored_name)
    if not path.is_file():
        log.error("report file %s of version %s is missing", path, version.id)
        abort(503, "The report file cannot be read just now. Please try again later.")
    response = send_file(
        path,
        mimetype=files.kind_of(version).mimetype,
        as_attachment=True,
        download_name=files.download_name(version.report.session, version),
        conditional=False,
        etag=False,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
