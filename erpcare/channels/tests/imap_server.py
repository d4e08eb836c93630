"""A real Dovecot IMAP server on a free loopback port, for the mail intake tests.

Dovecot runs in the foreground (``-F``) with a private configuration in a temporary
directory: passwd-file authentication, maildir storage, logging to a file, no syslog.
Plain IMAP by default; ``tls=True`` adds a self-signed certificate (generated with
``cryptography``) and serves IMAPS on a second port, with STARTTLS on the plain one.
"""

from __future__ import annotations

import datetime
import grp
import ipaddress
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
PASSWORD = "imap secret 42"


def dovecot_available() -> bool:
    return os.path.exists(DOVECOT) and os.access(DOVECOT, os.X_OK)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _self_signed(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class ImapServer:
    """A running Dovecot; ``stop()`` ends it and removes its files."""

    directory: Path
    port: int
    tls_port: int | None
    cert_path: Path | None
    process: subprocess.Popen[bytes] | None = None
    users: list[str] = field(default_factory=list)

    host = "127.0.0.1"
    password = PASSWORD

    def client(self, user: str = "support"):  # type: ignore[no-untyped-def]
        import imapclient

        client = imapclient.IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
        client.login(user, self.password)
        return client

    def append(self, raw: bytes, *, user: str = "support", folder: str = "INBOX") -> None:
        client = self.client(user)
        try:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            client.append(folder, raw)
        finally:
            client.logout()

    def flags(self, *, user: str = "support", folder: str = "INBOX") -> dict[int, tuple]:
        client = self.client(user)
        try:
            client.select_folder(folder, readonly=True)
            uids = client.search("ALL")
            if not uids:
                return {}
            return {uid: data[b"FLAGS"] for uid, data in client.fetch(uids, ["FLAGS"]).items()}
        finally:
            client.logout()

    def reset_folder(self, folder: str, *, user: str = "support") -> None:
        """Delete and recreate a folder (not INBOX, which Dovecot will not rename or
        delete): a new UIDVALIDITY, and UIDs start at 1 again."""
        client = self.client(user)
        try:
            client.delete_folder(folder)
            client.create_folder(folder)
        finally:
            client.logout()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        shutil.rmtree(self.directory, ignore_errors=True)

    def log(self) -> str:
        path = self.directory / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""


def start_dovecot(*, users: tuple[str, ...] = ("support",), tls: bool = False) -> ImapServer:
    if not dovecot_available():
        raise RuntimeError("dovecot is not installed")
    # Under /tmp with o+x: when the tests run as root, Dovecot's mail processes run as the
    # unprivileged "dovecot" user (it refuses UID 0) and must reach the maildirs.
    directory = Path(tempfile.mkdtemp(prefix="erpcare-dovecot-"))
    directory.chmod(0o755)
    uid, gid = os.getuid(), os.getgid()
    user_name = pwd.getpwuid(uid).pw_name
    group_name = grp.getgrgid(gid).gr_name
    mail_uid, mail_gid = uid, gid
    login_user = internal_user = user_name
    if uid == 0:
        # Dovecot refuses to run its login and mail processes as root.
        entry = pwd.getpwnam("dovecot")
        mail_uid, mail_gid = entry.pw_uid, entry.pw_gid
        login_user, internal_user = "dovenull", "dovecot"
        group_name = grp.getgrgid(entry.pw_gid).gr_name
    mail_dir = directory / "mail"
    mail_dir.mkdir()
    os.chown(mail_dir, mail_uid, mail_gid)
    (directory / "passwd").write_text(
        "".join(
            f"{name}:{{PLAIN}}{PASSWORD}:{mail_uid}:{mail_gid}::{mail_dir}/{name}\n"
            for name in users
        )
    )
    port = _free_port()
    tls_port = _free_port() if tls else None
    cert_path: Path | None = None
    ssl_lines = "ssl = no\n"
    if tls:
        cert_path, key_path = _self_signed(directory)
        ssl_lines = f"ssl = yes\nssl_cert = <{cert_path}\nssl_key = <{key_path}\n"
    imaps = (
        f"  inet_listener imaps {{\n    address = 127.0.0.1\n    port = {tls_port}\n  }}\n"
        if tls
        else "  inet_listener imaps {\n    port = 0\n  }\n"
    )
    config = f"""
protocols = imap
listen = 127.0.0.1
base_dir = {directory}/run
state_dir = {directory}/state
instance_name = erpcare-test-{port}
log_path = {directory}/dovecot.log
info_log_path = {directory}/dovecot.log
{ssl_lines}
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {group_name}
first_valid_uid = 1
first_valid_gid = 0
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {directory}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {directory}/passwd
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
{imaps}}}
service pop3-login {{
  chroot =
}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""
    (directory / "dovecot.conf").write_text(config)
    server = ImapServer(
        directory=directory,
        port=port,
        tls_port=tls_port,
        cert_path=cert_path,
        users=list(users),
    )
    server.process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(directory / "dovecot.conf")],
        stdout=subprocess.DEVNULL,
        stderr=open(directory / "stderr.log", "wb"),  # noqa: SIM115 - closed with the process
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            output = (directory / "stderr.log").read_text(errors="replace") + server.log()
            server.stop()
            raise RuntimeError(f"dovecot exited: {output}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                if sock.recv(100).startswith(b"* OK"):
                    return server
        except OSError:
            time.sleep(0.1)
    output = server.log()
    server.stop()
    raise RuntimeError(f"dovecot did not start: {output}")
