"""Backup artifacts on disk: written in one streaming pass, checksummed, optionally encrypted.

A backup can be many gigabytes, so nothing here holds a whole artifact in memory: data moves
in chunks of ``chunk_size`` bytes (1 MiB by default) and both checksums are computed on the
way through.

Store
    A local or mounted directory (created with mode 0700). Artifact files are 0600 and are
    written atomically: into ``<name>.part``, fsynced, then renamed; a failed write removes
    the ``.part``. Names are single file names (letters, digits, ``.``, ``_``, ``-``); anything
    that could leave the directory is refused. An existing artifact is never overwritten.

Checksums
    ``sha256``/``size`` are of the stored bytes (what is on disk, encrypted or not), so a file
    can be verified without the key; ``plain_sha256``/``plain_size`` are of the backup itself,
    so a restore can check the decrypted stream too.

Keys
    ``ERPCARE_BACKUP_KEY`` (or ``ERPCARE_BACKUP_KEY_FILE``): one or more url-safe base64 keys of
    32 bytes, comma-separated. The first encrypts; all of them decrypt. The key id is the first
    8 hex digits of the key's SHA-256, as for ``erpcare.core.crypto``.

Encrypted container, version 1 (integers big-endian)::

    header  magic  8  b"ERPCBAK\\0"
            version 1  0x01
            key id  8  ASCII hex
            prefix  8  random nonce prefix, new for every artifact
            chunk   4  plaintext chunk size
    chunk*  flags   1  0x01 on the final chunk, 0x00 otherwise
            length  4  length of ciphertext + tag (plaintext length + 16)
            sealed     AES-256-GCM ciphertext + 16-byte tag

Chunk ``i`` is sealed with nonce ``prefix + uint32(i)`` and associated data
``header + uint64(i) + flags``. Binding the index makes swapped or dropped chunks fail
authentication; binding the flags makes "drop the last chunk and mark the previous one final"
fail too; a stream that ends without a final chunk is reported as truncated; bytes after the
final chunk are refused. Every plaintext chunk is exactly ``chunk`` bytes except the final one,
which may be shorter or empty (an empty backup is one empty final chunk).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import os
import re
import secrets
import shutil
import struct
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, BinaryIO, NoReturn

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _

from erpcare.core.errors import ActionError
from erpcare.env import env_secret

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

KEY_ENV = "ERPCARE_BACKUP_KEY"
MAGIC = b"ERPCBAK\x00"
VERSION = 1
CHUNK_SIZE = 1 << 20
MAX_CHUNK_SIZE = 64 << 20
TAG_SIZE = 16
FINAL = 0x01

_HEADER = struct.Struct(">8sB8s8sI")
_RECORD = struct.Struct(">BI")
_AAD_TAIL = struct.Struct(">QB")
_NONCE_COUNTER = struct.Struct(">I")
_MAX_CHUNKS = 1 << 32
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,199}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")
_PART = ".part"


class ArtifactError(ActionError):
    """An artifact cannot be written, found, verified or read."""


class BackupKeyError(ArtifactError):
    """The backup key is missing, malformed, or not the one an artifact was encrypted with."""


class ArtifactNameError(ArtifactError):
    """The artifact name is not a plain file name."""


class ArtifactMissing(ArtifactError):
    """The artifact file does not exist."""


class ArtifactMismatch(ArtifactError):
    """The artifact's size or checksum differs from the recorded one."""


class ArtifactCorrupt(ArtifactError):
    """An encrypted artifact is truncated, reordered, altered, or not an artifact at all."""


class ArtifactWriteError(ArtifactError):
    """The store could not take the artifact (full disk, permissions, existing name)."""


@dataclass(frozen=True)
class ArtifactInfo:
    """What to record about a written artifact."""

    name: str
    path: Path
    size: int
    sha256: str
    plain_size: int
    plain_sha256: str
    encrypted: bool
    key_id: str | None


# --- keys -----------------------------------------------------------------------------------


def key_id(key: bytes) -> str:
    """The public id of a key: the first 8 hex digits of its SHA-256."""
    return hashlib.sha256(key).hexdigest()[:8]


def parse_keys(text: str) -> tuple[bytes, ...]:
    """Parse comma-separated url-safe base64 keys of 32 bytes; the first one encrypts."""
    keys = []
    for position, part in enumerate((p.strip() for p in text.split(",")), start=1):
        if not part:
            continue
        try:
            # urlsafe_b64decode silently drops characters outside the alphabet; a key with a
            # stray character must be refused, not read as some other key.
            if not _BASE64URL.fullmatch(part):
                raise ValueError(part)
            key = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        except (ValueError, TypeError):
            raise BackupKeyError(
                _("Key %(position)s in %(env)s is not url-safe base64.")
                % {"position": position, "env": KEY_ENV}
            ) from None
        if len(key) != 32:
            raise BackupKeyError(
                _(
                    "Key %(position)s in %(env)s is %(length)s bytes long; it must be 32 bytes "
                    "(44 base64 characters)."
                )
                % {"position": position, "env": KEY_ENV, "length": len(key)}
            )
        keys.append(key)
    return tuple(keys)


def load_keys(environ: Mapping[str, str] | None = None) -> tuple[bytes, ...]:
    """The configured backup keys, first one encrypting; empty when none are configured.

    ``environ`` replaces ``os.environ`` (``ERPCARE_BACKUP_KEY_FILE`` is only read from the
    real environment, through ``erpcare.env.env_secret``).
    """
    if environ is not None:
        return parse_keys(environ.get(KEY_ENV, ""))
    try:
        configured = env_secret(KEY_ENV)
    except ImproperlyConfigured as exc:
        raise BackupKeyError(str(exc)) from exc
    return parse_keys(configured or "")


def generate_key() -> str:
    """A new key in the form ``ERPCARE_BACKUP_KEY`` expects."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def _encryption_key(keys: Sequence[bytes] | None) -> bytes:
    keys = load_keys() if keys is None else tuple(keys)
    if not keys:
        raise BackupKeyError(
            _("Encryption was asked for but %(env)s is not set.") % {"env": KEY_ENV}
        )
    _check_key(keys[0])
    return keys[0]


def _check_key(key: bytes) -> None:
    if len(key) != 32:
        raise BackupKeyError(_("A backup key must be 32 bytes long."))


# --- names and the store --------------------------------------------------------------------


def check_name(name: str) -> str:
    """Return ``name`` if it is a safe artifact file name, else raise ArtifactNameError."""
    if not isinstance(name, str) or not _NAME.fullmatch(name) or ".." in name:
        raise ArtifactNameError(
            _(
                "%(name)r is not a valid artifact name: use up to 200 letters, digits, dots, "
                "underscores and hyphens, not starting with a dot or a hyphen and without '..'."
            )
            % {"name": name}
        )
    if name.endswith(_PART):
        raise ArtifactNameError(
            _("%(name)r is not a valid artifact name: names ending in .part are reserved.")
            % {"name": name}
        )
    return name


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        # Some mounted file systems (CIFS, some FUSE) refuse fsync on a directory; the rename
        # itself is still atomic there, only its durability across a power cut is weaker.
        pass
    finally:
        os.close(fd)


def _read_full(source: IO[bytes], size: int) -> bytes:
    """Read exactly ``size`` bytes unless the stream ends first (pipes return short reads)."""
    parts = []
    remaining = size
    while remaining:
        block = source.read(remaining)
        if not block:
            break
        parts.append(block)
        remaining -= len(block)
    return b"".join(parts)


class _Sink:
    """The ``.part`` file being written: hashes what it writes, names the file in errors."""

    def __init__(self, handle: BinaryIO, name: str) -> None:
        self.handle = handle
        self.name = name
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        try:
            self.handle.write(data)
        except OSError as exc:
            raise ArtifactWriteError(
                _("Cannot write artifact %(name)s: %(error)s")
                % {"name": self.name, "error": exc.strerror or exc}
            ) from exc
        self.digest.update(data)
        self.size += len(data)


class ArtifactStore:
    """A directory holding backup artifacts."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path_for(self, name: str) -> Path:
        """The path of artifact ``name`` (validated; the file need not exist)."""
        return self.root / check_name(name)

    def exists(self, name: str) -> bool:
        return self.path_for(name).is_file()

    def write(
        self,
        name: str,
        source: IO[bytes],
        *,
        encrypt: bool = False,
        keys: Sequence[bytes] | None = None,
        chunk_size: int = CHUNK_SIZE,
    ) -> ArtifactInfo:
        """Stream ``source`` to the end into artifact ``name``, encrypted if asked.

        ``keys`` replaces the keys from the environment (the first one encrypts). Errors
        raised by ``source`` propagate unchanged; in every failure the ``.part`` is removed
        and no artifact is left behind.
        """
        path = self.path_for(name)
        if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
            raise ArtifactError(
                _("The chunk size must be between 1 and %(max)s bytes.") % {"max": MAX_CHUNK_SIZE}
            )
        key = _encryption_key(keys) if encrypt else None
        self._ensure_root()
        if path.exists():
            raise ArtifactWriteError(
                _("Artifact %(name)s already exists; artifacts are never overwritten.")
                % {"name": name}
            )
        part = path.with_name(name + _PART)
        try:
            fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise ArtifactWriteError(
                _(
                    "%(part)s exists: another backup is writing %(name)s, or an earlier one "
                    "crashed; delete the .part file if no backup is running."
                )
                % {"part": part, "name": name}
            ) from None
        except OSError as exc:
            raise ArtifactWriteError(
                _("Cannot create %(part)s: %(error)s")
                % {"part": part, "error": exc.strerror or exc}
            ) from exc
        try:
            with os.fdopen(fd, "wb") as handle:
                sink = _Sink(handle, name)
                if key is None:
                    plain_size, plain_sha256 = _copy_plain(source, sink, chunk_size)
                else:
                    plain_size, plain_sha256 = _copy_encrypted(source, sink, key, chunk_size)
                try:
                    handle.flush()
                    os.fsync(handle.fileno())
                except OSError as exc:
                    raise ArtifactWriteError(
                        _("Cannot write artifact %(name)s: %(error)s")
                        % {"name": name, "error": exc.strerror or exc}
                    ) from exc
            if path.exists():  # a concurrent writer won the race since the check above
                raise ArtifactWriteError(
                    _("Artifact %(name)s already exists; artifacts are never overwritten.")
                    % {"name": name}
                )
            try:
                os.replace(part, path)
            except OSError as exc:
                raise ArtifactWriteError(
                    _("Cannot move %(part)s into place: %(error)s")
                    % {"part": part, "error": exc.strerror or exc}
                ) from exc
        except BaseException:
            # BaseException too: an interrupted worker must not leave a .part that blocks the
            # next run of the same backup.
            with contextlib.suppress(FileNotFoundError):
                part.unlink()
            raise
        _fsync_dir(self.root)
        return ArtifactInfo(
            name=name,
            path=path,
            size=sink.size,
            sha256=sink.digest.hexdigest(),
            plain_size=plain_size,
            plain_sha256=plain_sha256,
            encrypted=key is not None,
            key_id=key_id(key) if key is not None else None,
        )

    def write_file(
        self,
        name: str,
        source_path: str | os.PathLike[str],
        *,
        encrypt: bool = False,
        keys: Sequence[bytes] | None = None,
        chunk_size: int = CHUNK_SIZE,
    ) -> ArtifactInfo:
        """Store a copy of the file at ``source_path`` as artifact ``name``."""
        source_path = Path(source_path)
        if not source_path.is_file():
            raise ArtifactMissing(
                _("The file to store does not exist: %(path)s") % {"path": source_path}
            )
        with source_path.open("rb") as source:
            return self.write(name, source, encrypt=encrypt, keys=keys, chunk_size=chunk_size)

    def verify(self, name: str, expected_sha256: str, expected_size: int) -> None:
        """Check the stored bytes of artifact ``name``; see ``verify_artifact``."""
        verify_artifact(self.path_for(name), expected_sha256, expected_size)

    def open(
        self,
        name: str,
        *,
        expected_plain_sha256: str | None = None,
        keys: Sequence[bytes] | None = None,
    ) -> contextlib.AbstractContextManager[BinaryIO]:
        """The plain bytes of artifact ``name``; see ``open_artifact``."""
        return open_artifact(
            self.path_for(name), expected_plain_sha256=expected_plain_sha256, keys=keys
        )

    def delete(self, name: str) -> bool:
        """Delete artifact ``name``; False if it was already gone."""
        path = self.path_for(name)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise ArtifactError(
                _("Cannot delete artifact %(name)s: %(error)s")
                % {"name": name, "error": exc.strerror or exc}
            ) from exc
        _fsync_dir(self.root)
        return True

    def free_space(self) -> int:
        """Bytes an unprivileged writer can still use on the store's file system."""
        try:
            return shutil.disk_usage(self.root).free
        except FileNotFoundError:
            raise ArtifactError(
                _("The backup directory %(root)s does not exist.") % {"root": self.root}
            ) from None

    def _ensure_root(self) -> None:
        try:
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise ArtifactWriteError(
                _("Cannot create the backup directory %(root)s: %(error)s")
                % {"root": self.root, "error": exc.strerror or exc}
            ) from exc
        if not self.root.is_dir():
            raise ArtifactWriteError(
                _("The backup directory %(root)s is not a directory.") % {"root": self.root}
            )


# --- writing --------------------------------------------------------------------------------


def _copy_plain(source: IO[bytes], sink: _Sink, chunk_size: int) -> tuple[int, str]:
    while block := source.read(chunk_size):
        sink.write(block)
    return sink.size, sink.digest.hexdigest()


def _copy_encrypted(source: IO[bytes], sink: _Sink, key: bytes, chunk_size: int) -> tuple[int, str]:
    header = _HEADER.pack(
        MAGIC, VERSION, key_id(key).encode("ascii"), secrets.token_bytes(8), chunk_size
    )
    prefix = header[17:25]
    aead = AESGCM(key)
    plain = hashlib.sha256()
    plain_size = 0
    sink.write(header)
    # One chunk of read-ahead: a chunk is final when nothing follows it, which is only known
    # once the next read comes back empty.
    current = _read_full(source, chunk_size)
    index = 0
    while True:
        following = _read_full(source, chunk_size) if len(current) == chunk_size else b""
        flags = 0 if following else FINAL
        if index >= _MAX_CHUNKS:
            raise ArtifactWriteError(
                _("The backup is too large for chunks of %(size)s bytes.") % {"size": chunk_size}
            )
        nonce = prefix + _NONCE_COUNTER.pack(index)
        sealed = aead.encrypt(nonce, current, header + _AAD_TAIL.pack(index, flags))
        sink.write(_RECORD.pack(flags, len(sealed)))
        sink.write(sealed)
        plain.update(current)
        plain_size += len(current)
        if flags & FINAL:
            return plain_size, plain.hexdigest()
        current = following
        index += 1


# --- verifying and reading ------------------------------------------------------------------


def verify_artifact(path: str | os.PathLike[str], expected_sha256: str, expected_size: int) -> None:
    """Re-read the file and compare its size and SHA-256 with the recorded ones.

    Raises ArtifactMissing, or ArtifactMismatch naming what differs; the size is compared
    first, so a truncated file is reported without reading it.
    """
    path = Path(path)
    expected = expected_sha256.strip().lower()
    if not _SHA256.fullmatch(expected):
        raise ArtifactError(
            _("%(value)r is not a SHA-256 checksum (64 hex digits).") % {"value": expected_sha256}
        )
    try:
        size = path.stat().st_size
        handle = path.open("rb")
    except FileNotFoundError:
        raise ArtifactMissing(_("The artifact %(path)s is missing.") % {"path": path}) from None
    with handle:
        if size != expected_size:
            raise ArtifactMismatch(
                _("The artifact %(path)s is %(size)s bytes long, %(expected)s were recorded.")
                % {"path": path, "size": size, "expected": expected_size}
            )
        digest = hashlib.sha256()
        while block := handle.read(CHUNK_SIZE):
            digest.update(block)
    actual = digest.hexdigest()
    if actual != expected:
        raise ArtifactMismatch(
            _("The checksum of %(path)s is %(actual)s, %(expected)s was recorded.")
            % {"path": path, "actual": actual, "expected": expected}
        )


def is_encrypted(path: str | os.PathLike[str]) -> bool:
    """Whether the file starts with the encrypted container's magic."""
    try:
        with open(path, "rb") as handle:
            return handle.read(len(MAGIC)) == MAGIC
    except FileNotFoundError:
        raise ArtifactMissing(_("The artifact %(path)s is missing.") % {"path": path}) from None


class _PlainReader(io.RawIOBase):
    """Reads an unencrypted artifact, checking its SHA-256 when the end is reached."""

    def __init__(self, handle: io.BufferedReader, label: str, expected_sha256: str | None) -> None:
        self._handle = handle
        self._label = label
        self._expected = expected_sha256
        self._digest = hashlib.sha256()
        self._checked = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        view = memoryview(buffer).cast("B")
        count = self._handle.readinto(view)
        if count:
            self._digest.update(view[:count])
        elif not self._checked:
            self._checked = True
            _check_plain(self._label, self._digest.hexdigest(), self._expected)
        return count


class _DecryptingReader(io.RawIOBase):
    """Reads an encrypted artifact's plain bytes, authenticating each chunk before use."""

    def __init__(
        self,
        handle: io.BufferedReader,
        label: str,
        keys: Sequence[bytes],
        expected_sha256: str | None,
    ) -> None:
        self._handle = handle
        self._label = label
        self._expected = expected_sha256
        self._digest = hashlib.sha256()
        self._pending = memoryview(b"")
        self._index = 0
        self._done = False
        self._header = _read_full(handle, _HEADER.size)
        if len(self._header) < _HEADER.size or not self._header.startswith(MAGIC):
            self._corrupt(_("it is not an encrypted ERPCare backup (no valid header)"))
        _magic, version, raw_key_id, self._prefix, self._chunk_size = _HEADER.unpack(self._header)
        if version != VERSION:
            self._corrupt(_("unknown format version %(version)s") % {"version": version})
        if not 1 <= self._chunk_size <= MAX_CHUNK_SIZE:
            self._corrupt(_("the header's chunk size is impossible"))
        wanted = raw_key_id.decode("ascii", "replace")
        matching = [key for key in keys if key_id(key) == wanted]
        if not matching:
            if not keys:
                raise BackupKeyError(
                    _("%(label)s is encrypted but %(env)s is not set.")
                    % {"label": label, "env": KEY_ENV}
                )
            raise BackupKeyError(
                _(
                    "%(label)s was encrypted with key %(key_id)s, which is not in %(env)s; "
                    "was the key rotated away?"
                )
                % {"label": label, "key_id": wanted, "env": KEY_ENV}
            )
        _check_key(matching[0])
        self._aead = AESGCM(matching[0])

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        view = memoryview(buffer).cast("B")
        while not self._pending and not self._done:
            self._pending = memoryview(self._next_chunk())
        count = min(len(view), len(self._pending))
        view[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count

    def _next_chunk(self) -> bytes:
        index = self._index
        record = _read_full(self._handle, _RECORD.size)
        if not record:
            self._corrupt(
                _("it is truncated: it ends after chunk %(count)s without the final chunk")
                % {"count": index}
            )
        if len(record) < _RECORD.size:
            self._corrupt(_("it is truncated inside chunk %(index)s") % {"index": index + 1})
        flags, length = _RECORD.unpack(record)
        if flags & ~FINAL:
            self._corrupt(_("chunk %(index)s has unknown flags") % {"index": index + 1})
        if not TAG_SIZE <= length <= self._chunk_size + TAG_SIZE:
            self._corrupt(_("chunk %(index)s has an impossible length") % {"index": index + 1})
        sealed = _read_full(self._handle, length)
        if len(sealed) < length:
            self._corrupt(_("it is truncated inside chunk %(index)s") % {"index": index + 1})
        nonce = self._prefix + _NONCE_COUNTER.pack(index)
        try:
            plain = self._aead.decrypt(nonce, sealed, self._header + _AAD_TAIL.pack(index, flags))
        except InvalidTag:
            self._corrupt(
                _(
                    "chunk %(index)s failed authentication: the data was altered, chunks were "
                    "reordered or removed, or the key is wrong"
                )
                % {"index": index + 1}
            )
        self._digest.update(plain)
        self._index += 1
        if flags & FINAL:
            self._done = True
            if self._handle.read(1):
                self._corrupt(_("there is unexpected data after the final chunk"))
            # Checked before the last bytes are handed out, so a consumer that reads to the
            # end always sees the error before it sees the end.
            _check_plain(self._label, self._digest.hexdigest(), self._expected)
        return plain

    def _corrupt(self, what: str) -> NoReturn:
        raise ArtifactCorrupt(
            _("The artifact %(label)s cannot be decrypted: %(what)s.")
            % {"label": self._label, "what": what}
        )


def _check_plain(label: str, actual: str, expected: str | None) -> None:
    if expected is not None and actual != expected.strip().lower():
        raise ArtifactMismatch(
            _("The restored data of %(label)s has checksum %(actual)s, %(expected)s was recorded.")
            % {"label": label, "actual": actual, "expected": expected}
        )


@contextlib.contextmanager
def open_artifact(
    path: str | os.PathLike[str],
    *,
    expected_plain_sha256: str | None = None,
    keys: Sequence[bytes] | None = None,
) -> Iterator[BinaryIO]:
    """Yield a readable stream of the artifact's plain bytes, decrypting if it is encrypted.

    Encrypted artifacts are recognised by their header; ``keys`` replaces the environment's.
    Problems are raised while reading (ArtifactCorrupt, BackupKeyError, and ArtifactMismatch
    when ``expected_plain_sha256`` is given and differs) — the stream must be read to its end
    for the final checks to run, as ``pg_restore`` reading stdin does.
    """
    path = Path(path)
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise ArtifactMissing(_("The artifact %(path)s is missing.") % {"path": path}) from None
    with handle:
        raw: io.RawIOBase
        if handle.read(len(MAGIC)) == MAGIC:
            handle.seek(0)
            raw = _DecryptingReader(
                handle,
                str(path),
                load_keys() if keys is None else tuple(keys),
                expected_plain_sha256,
            )
        else:
            handle.seek(0)
            raw = _PlainReader(handle, str(path), expected_plain_sha256)
        # A small buffer: the raw reader already holds a whole decrypted chunk.
        with io.BufferedReader(raw, buffer_size=64 * 1024) as stream:
            yield stream


@contextlib.contextmanager
def plain_artifact_path(
    path: str | os.PathLike[str],
    *,
    workdir: str | os.PathLike[str] | None = None,
    expected_plain_sha256: str | None = None,
    keys: Sequence[bytes] | None = None,
) -> Iterator[Path]:
    """Yield a path holding the artifact's plain bytes (``pg_restore --jobs`` needs a file).

    An unencrypted artifact is yielded as it is (its plain checksum is checked first when
    given); an encrypted one is decrypted into a 0600 temporary file in ``workdir`` that is
    deleted afterwards.
    """
    path = Path(path)
    if not is_encrypted(path):
        if expected_plain_sha256 is not None:
            with open_artifact(path, expected_plain_sha256=expected_plain_sha256) as stream:
                while stream.read(CHUNK_SIZE):
                    pass
        yield path
        return
    # mkstemp creates the file with mode 0600.
    fd, name = tempfile.mkstemp(prefix=".restore-", suffix=".plain", dir=workdir)
    temp = Path(name)
    try:
        with (
            os.fdopen(fd, "wb") as out,
            open_artifact(path, expected_plain_sha256=expected_plain_sha256, keys=keys) as src,
        ):
            shutil.copyfileobj(src, out, CHUNK_SIZE)
        yield temp
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
