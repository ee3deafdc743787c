"""A digest sent to subscribers, whose returned mail these tests write."""

from tests.delivery.conftest import add_subscribers, deliveries, digest_id, start

__all__ = ["add_subscribers", "deliveries", "digest_id", "start"]
