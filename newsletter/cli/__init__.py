"""``flask --app newsletter …`` commands, one module per command group (``sessions.py``
holds ``flask sessions …``). Each command calls a service, then commits once."""

from flask import Flask


def init_app(app: Flask) -> None:
    from newsletter.cli import (
        demo,
        digest,
        inbound,
        lists,
        mail,
        reports,
        send,
        sessions,
        staff,
        subscribers,
    )

    for module in (digest, inbound, lists, mail, reports, send, sessions, staff, subscribers):
        app.cli.add_command(module.group)
    app.cli.add_command(demo.demo)
