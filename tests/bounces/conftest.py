"""A digest sent to subscribers, whose returned mail these tests write, and a real
mailbox server to fetch it from."""

from tests.bounces.dovecot import dovecot
from tests.delivery.conftest import add_subscribers, deliveries, digest_id, start

__all__ = ["add_subscribers", "deliveries", "digest_id", "dovecot", "start"]
