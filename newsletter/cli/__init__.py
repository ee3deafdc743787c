"""``flask --app newsletter …`` commands. Each calls a service, then commits once."""

from flask import Flask


def init_app(app: Flask) -> None:
    from newsletter.cli import demo, lists, mail, subscribers

    app.cli.add_command(lists.group)
    app.cli.add_command(subscribers.group)
    app.cli.add_command(mail.group)
    app.cli.add_command(mail.send_group)
    app.cli.add_command(demo.demo)
