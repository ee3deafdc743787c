"""Request bodies larger than ``MAX_CONTENT_LENGTH`` for the views that take files.

The limit must be known before anything reads the form (the CSRF check does, before
any view runs), so it comes from the matched endpoint, through the request class.
"""

from __future__ import annotations

from flask import Request, current_app

# endpoint -> configuration key of the largest file it takes, in bytes
UPLOAD_LIMITS = {"staff.reports_upload": "REPORT_MAX_BYTES"}
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
