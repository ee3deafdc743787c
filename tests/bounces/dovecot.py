"""A real IMAP and POP3 server for the tests: Debian's Dovecot, started on free ports
with a throwaway configuration in a temporary folder (TLS with a certificate made
here, one user in a passwd file, Maildir storage), stopped after the test."""

from __future__ import annotations

import datetime
import grp
import ipaddress
import mailbox
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.smtp_sink import free_port

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
_SERVERS = ("/usr/lib/dovecot/imap", "/usr/lib/dovecot/pop3")
USER, PASSWORD = "bounces", "a long test password"


@dataclass
class Dovecot:
    folder: Path
    imaps_port: int
    pop3s_port: int
    ca_file: Path
    mail_uid: int
    mail_gid: int

    @property
    def maildir(self) -> mailbox.Maildir:
        return mailbox.Maildir(str(self.folder / "home" / USER / "Maildir"), create=True)

    def deliver(self, *messages: bytes) -> None:
        box = self.maildir
        for message in messages:
            box.add(message)
        _hand_over(self.folder / "home", self.mail_uid, self.mail_gid)

    def waiting(self) -> int:
        return len(self.maildir.keys())

    def folder_count(self, name: str) -> int:
        path = self.folder / "home" / USER / "Maildir" / f".{name}"
        return len(mailbox.Maildir(str(path), create=False).keys()) if path.exists() else 0

    def config(self, protocol: str = "imap") -> dict[str, object]:
        if protocol == "imap":
            return {
                "INBOUND_IMAP_HOST": "127.0.0.1",
                "INBOUND_IMAP_PORT": self.imaps_port,
                "INBOUND_IMAP_USERNAME": USER,
                "INBOUND_IMAP_PASSWORD": PASSWORD,
                "INBOUND_TLS_CA_FILE": str(self.ca_file),
            }
        return {
            "INBOUND_POP3_HOST": "127.0.0.1",
            "INBOUND_POP3_PORT": self.pop3s_port,
            "INBOUND_POP3_USERNAME": USER,
            "INBOUND_POP3_PASSWORD": PASSWORD,
            "INBOUND_TLS_CA_FILE": str(self.ca_file),
        }


def _certificate(folder: Path) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file = folder / "cert.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    os.chmod(folder / "key.pem", 0o600)
    return cert_file


def _mail_user() -> tuple[int, int]:
    """Dovecot never runs mail processes as root: as root, the mail belongs to its own
    ``dovecot`` user (or ``nobody``)."""
    if os.getuid() != 0:
        return os.getuid(), os.getgid()
    for name in ("dovecot", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return entry.pw_uid, entry.pw_gid
    raise RuntimeError("no unprivileged user to own the test mailbox")


def _hand_over(path: Path, uid: int, gid: int) -> None:
    if os.getuid() != 0:
        return
    for item in [path, *path.rglob("*")]:
        os.chown(item, uid, gid)


def _account(name: str, fallback: str) -> str:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return fallback
    return name


def _write_config(folder: Path, imaps: int, pop3s: int, uid: int, gid: int) -> Path:
    me = pwd.getpwuid(os.getuid()).pw_name
    internal = _account("dovecot", me)
    login = _account("dovenull", me)
    group = grp.getgrgid(os.getgid()).gr_name
    (folder / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
    config = folder / "dovecot.conf"
    config.write_text(
        f"""protocols = imap pop3
listen = 127.0.0.1
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
ssl = required
ssl_cert = <{folder}/cert.pem
ssl_key = <{folder}/key.pem
ssl_min_protocol = TLSv1.2
auth_mechanisms = plain
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {folder}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={folder}/home/%u
}}
mail_location = maildir:~/Maildir
first_valid_uid = {uid}
first_valid_gid = {gid}
default_internal_user = {internal}
default_internal_group = {group if internal == me else internal}
default_login_user = {login}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {imaps}
    ssl = yes
  }}
}}
service pop3-login {{
  chroot =
  inet_listener pop3 {{
    port = 0
  }}
  inet_listener pop3s {{
    port = {pop3s}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
# The passwd file sits in the test's temporary folder, which only we may read.
service auth {{
  user = {me}
}}
service auth-worker {{
  user = {me}
}}
"""
    )
    return config


def _wait_for(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dovecot exited: {log.read_text() if log.exists() else ''}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("dovecot did not start listening")


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    if not all(os.path.exists(path) for path in (DOVECOT, *_SERVERS)):
        if os.environ.get("NEWSLETTER_REQUIRE_DOVECOT"):
            pytest.fail("Dovecot is required (NEWSLETTER_REQUIRE_DOVECOT) but not installed")
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd dovecot-pop3d)")
    # Outside pytest's private temporary folder: Dovecot's own users must reach it.
    folder = Path(tempfile.mkdtemp(prefix="newsletter-dovecot-"))
    folder.chmod(0o755)
    uid, gid = _mail_user()
    process = None
    try:
        (folder / "home" / USER).mkdir(parents=True)
        _hand_over(folder / "home", uid, gid)
        ca_file = _certificate(folder)
        imaps, pop3s = free_port(), free_port()
        config = _write_config(folder, imaps, pop3s, uid, gid)
        process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _wait_for(imaps, process, folder / "dovecot.log")
        _wait_for(pop3s, process, folder / "dovecot.log")
        yield Dovecot(folder, imaps, pop3s, ca_file, uid, gid)
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        shutil.rmtree(folder, ignore_errors=True)
