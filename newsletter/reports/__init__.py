"""Detailed reports of sessions and the requests for them: upload, ask, verify, decide,
deliver through an expiring link, and keep the record of every step."""
