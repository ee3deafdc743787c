"""A real SMTP server for the tests (aiosmtpd, in this process), with faults on demand.

It keeps every message it accepted. Rules make it answer chosen recipients with an
error, drop the connection, or answer slowly, so that tests see what our sender does
with each case.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session

from tests.waiting import wait_until


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    at: float = 0.0  # time.time() when the server stored it

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(
            self.data, _class=EmailMessage, policy=email.policy.default
        )
        return parsed

    @property
    def to(self) -> str:
        return self.rcpt_tos[0]


@dataclass
class _Rules:
    rcpt_replies: dict[str, list[str]] = field(default_factory=dict)  # address -> replies, in turn
    data_replies: dict[str, list[str]] = field(default_factory=dict)
    drop_after: int | None = None  # close the connection after accepting this many messages
    delay: float = 0.0
    held: threading.Event | None = None  # set while messages wait in DATA (``holding``)
    hold_after: int = 0  # ... once this many messages have been stored
    auth_required: bool = False
    pipelining: bool = True  # advertise RFC 2920 PIPELINING, as real servers do


class SinkHandler:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: list[Received] = []
        self.rules = _Rules()
        self.connections = 0
        self.in_data = 0  # messages waiting in DATA while the sink is held

    async def handle_EHLO(
        self,
        server: SMTPServer,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        session.host_name = hostname
        with self.lock:
            self.connections += 1
        if self.rules.pipelining:
            responses.insert(len(responses) - 1, "250-PIPELINING")
        return responses

    async def handle_MAIL(
        self,
        server: SMTPServer,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        if self.rules.auth_required:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self,
        server: SMTPServer,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        reply = self._next_reply(self.rules.rcpt_replies, address)
        if reply is not None and not reply.startswith("2"):
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        if self.rules.delay:
            await asyncio.sleep(self.rules.delay)
        held = self.rules.held
        if held is not None and held.is_set() and len(self.received) >= self.rules.hold_after:
            await self._wait_while(held, envelope)
        rcpt = envelope.rcpt_tos[0] if envelope.rcpt_tos else ""
        reply = self._next_reply(self.rules.data_replies, rcpt)
        if reply is not None and not reply.startswith("2"):
            return reply
        count = self._store(envelope)
        drop_after = self.rules.drop_after
        if drop_after is not None and count % drop_after == 0:
            # The message is stored, but the client never hears "250": the case in
            # which a sender cannot know whether its message went through.
            server.transport.close()
            return "421 4.4.2 closing"
        return "250 2.0.0 OK queued"

    async def _wait_while(self, held: threading.Event, envelope: Envelope) -> None:
        with self.lock:
            self.in_data += 1
        try:
            while held.is_set():
                await asyncio.sleep(0.005)
        except asyncio.CancelledError:
            # The client went away while it waited for our answer (aiosmtpd cancels the
            # handler): the server has the whole message all the same, and delivers it.
            self._store(envelope)
            raise
        finally:
            with self.lock:
                self.in_data -= 1

    def _store(self, envelope: Envelope) -> int:
        content = envelope.original_content or b""
        with self.lock:
            self.received.append(
                Received(
                    str(envelope.mail_from), list(envelope.rcpt_tos), bytes(content), time.time()
                )
            )
            return len(self.received)

    def _next_reply(self, table: dict[str, list[str]], address: str) -> str | None:
        with self.lock:
            replies = table.get(address.lower())
            if not replies:
                return None
            return replies.pop(0) if len(replies) > 1 else replies[0]


def free_port() -> int:
    """aiosmtpd 1.4.6 cannot bind port 0: find a free port first."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SMTPSink:
    def __init__(self) -> None:
        self.handler = SinkHandler()
        self.port = 0
        self.controller: Controller | None = None

    def start(self, attempts: int = 5) -> None:
        """Listen on a free port; another process (a suite running beside this one) may
        take the port between ``free_port`` and the bind: then try another."""
        for attempt in range(attempts):
            self.port = free_port()
            self.controller = Controller(
                self.handler,
                hostname="127.0.0.1",
                port=self.port,
                data_size_limit=50 * 1024 * 1024,
            )
            try:
                self.controller.start()
            except OSError:
                if attempt == attempts - 1:
                    raise
            else:
                return

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()

    # -- inspecting ----------------------------------------------------------------------
    @property
    def received(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.received)

    @property
    def received_at(self) -> list[float]:
        return [received.at for received in self.received]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """At least ``count`` messages, waiting for a background sender if needed."""
        if count <= 0:
            return self.received

        def enough() -> list[Received] | None:
            got = self.received
            return got if len(got) >= count else None

        return wait_until(
            enough,
            timeout,
            lambda: f"expected {count} message(s), the SMTP server got {len(self.received)}",
        )

    # -- faults ------------------------------------------------------------------------
    def reset(self) -> None:
        with self.handler.lock:
            self.handler.received.clear()
            self.handler.rules = _Rules()
            self.handler.connections = 0

    def reply_to_rcpt(self, address: str, *replies: str) -> None:
        """Answer RCPT TO for ``address`` with these replies in turn (the last repeats);
        a 2xx reply accepts the recipient as usual."""
        self.handler.rules.rcpt_replies[address.lower()] = list(replies)

    def reply_to_data(self, address: str, *replies: str) -> None:
        self.handler.rules.data_replies[address.lower()] = list(replies)

    def drop_connection_every(self, count: int | None) -> None:
        self.handler.rules.drop_after = count

    def slow_down(self, seconds: float) -> None:
        self.handler.rules.delay = seconds

    @contextmanager
    def holding(self, after: int = 0, limit: float = 10.0) -> Iterator[None]:
        """Once ``after`` messages have been stored, keep every message that reaches DATA
        waiting, neither stored nor answered, until the block ends (or ``limit`` seconds
        pass, so that a sender that waits for the answer fails the test instead of
        hanging it). A held message whose sender goes away meanwhile is stored: the
        server has it, the sender never heard so."""
        held = threading.Event()
        held.set()
        release = threading.Timer(limit, held.clear)
        self.handler.rules.hold_after = after
        self.handler.rules.held = held
        release.start()
        try:
            yield
        finally:
            held.clear()
            release.cancel()

    def waiting_in_data(self) -> int:
        """How many messages wait in DATA right now (see ``holding``)."""
        with self.handler.lock:
            return self.handler.in_data

    def advertise_pipelining(self, enabled: bool) -> None:
        self.handler.rules.pipelining = enabled

    def require_auth(self, required: bool = True) -> None:
        self.handler.rules.auth_required = required
