"""``flask --app newsletter …`` commands. Each calls a service, then commits once."""

from flask import Flask


def init_app(app: Flask) -> None:
    from newsletter.cli import content, demo, lists, mail, sending, staff, subscribers

    app.cli.add_command(lists.group)
    app.cli.add_command(subscribers.group)
    app.cli.add_command(mail.group)
    app.cli.add_command(mail.send_group)
    app.cli.add_command(staff.group)
    app.cli.add_command(content.sessions_group)
    for command in (
        sending.send,
        sending.resume,
        sending.pause,
        sending.cancel,
        sending.schedule,
        sending.status,
    ):
        content.digest_group.add_command(command)
    mail.send_group.add_command(sending.run)
    app.cli.add_command(content.digest_group)
    app.cli.add_command(demo.demo)
