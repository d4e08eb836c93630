"""Artifact storage: streaming writes, the encrypted container, checksums, the store's rules.

Real files in tmp_path, real AES-GCM; no Django models.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import struct
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from erpcare.backups.artifacts import (
    CHUNK_SIZE,
    KEY_ENV,
    ArtifactCorrupt,
    ArtifactError,
    ArtifactMismatch,
    ArtifactMissing,
    ArtifactNameError,
    ArtifactStore,
    ArtifactWriteError,
    BackupKeyError,
    generate_key,
    is_encrypted,
    key_id,
    load_keys,
    open_artifact,
    parse_keys,
    plain_artifact_path,
    verify_artifact,
)

KEY_A = generate_key()
KEY_B = generate_key()
KEYS_A = parse_keys(KEY_A)
KEYS_B = parse_keys(KEY_B)
HEADER_SIZE = 29
RECORD_SIZE = 5
SMALL = 7


@pytest.fixture
def store(tmp_path: Path) -> ArtifactStore:
    return ArtifactStore(tmp_path / "store")


@pytest.fixture(autouse=True)
def _no_key_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.delenv(f"{KEY_ENV}_FILE", raising=False)


def records(path: Path) -> list[tuple[int, int, int]]:
    """(offset, flags, length) of each chunk record, read with the documented format."""
    raw = path.read_bytes()
    found = []
    offset = HEADER_SIZE
    while offset < len(raw):
        flags, length = struct.unpack(">BI", raw[offset : offset + RECORD_SIZE])
        found.append((offset, flags, length))
        offset += RECORD_SIZE + length
    return found


def read_all(path: Path, **kwargs: object) -> bytes:
    with open_artifact(path, **kwargs) as stream:  # type: ignore[arg-type]
        return stream.read()


def write_encrypted(store: ArtifactStore, data: bytes, name: str = "db.dump") -> Path:
    return store.write(name, io.BytesIO(data), encrypt=True, keys=KEYS_A, chunk_size=SMALL).path


def corrupt(path: Path, offset: int, value: int | None = None) -> None:
    raw = bytearray(path.read_bytes())
    raw[offset] = raw[offset] ^ 0x01 if value is None else value
    path.write_bytes(bytes(raw))


# --- round trips ----------------------------------------------------------------------------


@pytest.mark.parametrize("length", [0, 1, SMALL - 1, SMALL, SMALL * 2, SMALL * 2 + 1, 1000])
def test_encrypted_round_trip_over_many_chunks(store: ArtifactStore, length: int) -> None:
    data = os.urandom(length)
    info = store.write("db.dump", io.BytesIO(data), encrypt=True, keys=KEYS_A, chunk_size=SMALL)

    stored = info.path.read_bytes()
    assert info.encrypted
    assert info.key_id == key_id(KEYS_A[0])
    assert info.size == len(stored)
    assert info.sha256 == hashlib.sha256(stored).hexdigest()
    assert info.plain_size == length
    assert info.plain_sha256 == hashlib.sha256(data).hexdigest()
    assert data not in stored or length < 4
    chunks = records(info.path)
    assert len(chunks) == max(1, -(-length // SMALL))
    assert [flags for _offset, flags, _length in chunks] == [0] * (len(chunks) - 1) + [1]
    assert read_all(info.path, keys=KEYS_A, expected_plain_sha256=info.plain_sha256) == data
    store.verify("db.dump", info.sha256, info.size)


def test_plain_round_trip_records_the_same_checksum_twice(store: ArtifactStore) -> None:
    data = os.urandom(5000)
    info = store.write("site.sql", io.BytesIO(data), chunk_size=SMALL)

    assert info.path.read_bytes() == data
    assert not info.encrypted
    assert info.key_id is None
    assert info.sha256 == info.plain_sha256 == hashlib.sha256(data).hexdigest()
    assert info.size == info.plain_size == 5000
    assert not is_encrypted(info.path)
    with store.open("site.sql", expected_plain_sha256=info.plain_sha256) as stream:
        assert stream.read() == data


def test_store_and_file_permissions(store: ArtifactStore) -> None:
    old = os.umask(0)
    try:
        info = store.write("db.dump", io.BytesIO(b"data"))
    finally:
        os.umask(old)
    assert (store.root.stat().st_mode & 0o777) == 0o700
    assert (info.path.stat().st_mode & 0o777) == 0o600
    assert sorted(p.name for p in store.root.iterdir()) == ["db.dump"]


def test_write_file_and_missing_source(store: ArtifactStore, tmp_path: Path) -> None:
    source = tmp_path / "dump.bin"
    source.write_bytes(b"x" * 100)
    info = store.write_file("copy.bin", source, encrypt=True, keys=KEYS_A, chunk_size=SMALL)
    assert read_all(info.path, keys=KEYS_A) == b"x" * 100

    with pytest.raises(ArtifactMissing, match="does not exist"):
        store.write_file("other.bin", tmp_path / "nope.bin")


class _Generated(io.RawIOBase):
    """``total`` pseudo-random bytes made on demand, hashed as they are handed out."""

    def __init__(self, total: int) -> None:
        self.remaining = total
        self.block = hashlib.sha256(b"seed").digest() * 2048  # 64 KiB
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        count = min(len(buffer), len(self.block), self.remaining)
        buffer[:count] = self.block[:count]
        self.digest.update(self.block[:count])
        self.remaining -= count
        return count


def test_a_50_mb_stream_is_written_and_read_in_constant_memory(store: ArtifactStore) -> None:
    total = 50 * 1024 * 1024
    generated = _Generated(total)
    source = io.BufferedReader(generated, buffer_size=64 * 1024)

    tracemalloc.start()
    try:
        info = store.write("big.dump", source, encrypt=True, keys=KEYS_A)
        _current, write_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        digest = hashlib.sha256()
        size = 0
        with store.open("big.dump", keys=KEYS_A, expected_plain_sha256=info.plain_sha256) as s:
            while block := s.read(256 * 1024):
                digest.update(block)
                size += len(block)
        _current, read_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert info.plain_size == size == total
    assert info.plain_sha256 == digest.hexdigest() == generated.digest.hexdigest()
    assert info.size == HEADER_SIZE + 50 * (RECORD_SIZE + CHUNK_SIZE + 16)
    # A few 1 MiB chunks in flight (read-ahead, sealed chunk, buffers: about 4 MiB measured),
    # never the 50 MB.
    assert write_peak < 6 * 1024 * 1024, write_peak
    assert read_peak < 6 * 1024 * 1024, read_peak


def test_a_subprocess_pipe_with_short_reads_is_stored_whole(store: ArtifactStore) -> None:
    # Writes in odd-sized pieces, as pg_dump on a pipe does, so reads come back short.
    script = (
        "import sys\n"
        "for i in range(300):\n"
        "    sys.stdout.buffer.write(bytes([i % 256]) * (i % 17 + 1)); sys.stdout.flush()\n"
    )
    expected = b"".join(bytes([i % 256]) * (i % 17 + 1) for i in range(300))
    with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE) as proc:
        assert proc.stdout is not None
        info = store.write("pipe.dump", proc.stdout, encrypt=True, keys=KEYS_A, chunk_size=64)
    assert proc.returncode == 0
    assert info.plain_sha256 == hashlib.sha256(expected).hexdigest()
    assert len(records(info.path)) == -(-len(expected) // 64)


def test_the_plain_stream_feeds_a_restore_process_on_stdin(store: ArtifactStore) -> None:
    data = os.urandom(300_000)
    store.write("db.dump", io.BytesIO(data), encrypt=True, keys=KEYS_A, chunk_size=4096)
    script = "import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())"
    with (
        store.open("db.dump", keys=KEYS_A) as stream,
        subprocess.Popen(
            [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        ) as proc,
    ):
        assert proc.stdin is not None
        assert proc.stdout is not None
        shutil.copyfileobj(stream, proc.stdin)
        proc.stdin.close()
        output = proc.stdout.read().decode().strip()
    assert output == hashlib.sha256(data).hexdigest()


def test_plain_artifact_path_decrypts_to_a_private_temp_file(
    store: ArtifactStore, tmp_path: Path
) -> None:
    data = os.urandom(10_000)
    info = store.write("db.dump", io.BytesIO(data), encrypt=True, keys=KEYS_A, chunk_size=999)
    work = tmp_path / "work"
    work.mkdir()
    with plain_artifact_path(
        info.path, workdir=work, keys=KEYS_A, expected_plain_sha256=info.plain_sha256
    ) as plain:
        assert plain.parent == work
        assert plain.read_bytes() == data
        assert (plain.stat().st_mode & 0o777) == 0o600
    assert list(work.iterdir()) == []

    unencrypted = store.write("site.sql", io.BytesIO(data))
    with plain_artifact_path(unencrypted.path, expected_plain_sha256=info.plain_sha256) as same:
        assert same == unencrypted.path


def test_plain_artifact_path_removes_the_temp_file_when_decryption_fails(
    store: ArtifactStore, tmp_path: Path
) -> None:
    path = write_encrypted(store, os.urandom(100))
    corrupt(path, records(path)[-1][0] + RECORD_SIZE)
    work = tmp_path / "work"
    work.mkdir()
    with (
        pytest.raises(ArtifactCorrupt),
        plain_artifact_path(path, workdir=work, keys=KEYS_A),
    ):
        pass
    assert list(work.iterdir()) == []


# --- tampering --------------------------------------------------------------------------------


def test_a_flipped_byte_in_a_chunk_is_detected_and_located(store: ArtifactStore) -> None:
    path = write_encrypted(store, os.urandom(100))
    offset, _flags, _length = records(path)[2]
    corrupt(path, offset + RECORD_SIZE + 3)

    with pytest.raises(ArtifactCorrupt, match=r"chunk 3 failed authentication"):
        read_all(path, keys=KEYS_A)


def test_a_flipped_byte_in_the_header_is_detected(store: ArtifactStore) -> None:
    path = write_encrypted(store, os.urandom(100))
    corrupt(path, 20)  # inside the nonce prefix, bound into every chunk's associated data

    with pytest.raises(ArtifactCorrupt, match=r"chunk 1 failed authentication"):
        read_all(path, keys=KEYS_A)


def test_a_lost_last_chunk_is_reported_as_truncation(store: ArtifactStore) -> None:
    path = write_encrypted(store, os.urandom(100))
    chunks = records(path)
    with path.open("r+b") as handle:
        handle.truncate(chunks[-1][0])

    with pytest.raises(ArtifactCorrupt, match=rf"ends after chunk {len(chunks) - 1} without"):
        read_all(path, keys=KEYS_A)


def test_a_lost_last_chunk_cannot_be_hidden_by_marking_the_previous_one_final(
    store: ArtifactStore,
) -> None:
    path = write_encrypted(store, os.urandom(100))
    chunks = records(path)
    with path.open("r+b") as handle:
        handle.truncate(chunks[-1][0])
    corrupt(path, chunks[-2][0], value=1)

    with pytest.raises(ArtifactCorrupt, match=rf"chunk {len(chunks) - 1} failed authentication"):
        read_all(path, keys=KEYS_A)


def test_a_file_cut_inside_a_chunk_is_reported(store: ArtifactStore) -> None:
    path = write_encrypted(store, os.urandom(100))
    with path.open("r+b") as handle:
        handle.truncate(records(path)[4][0] + RECORD_SIZE + 2)

    with pytest.raises(ArtifactCorrupt, match="truncated inside chunk 5"):
        read_all(path, keys=KEYS_A)


def test_swapped_chunks_are_detected(store: ArtifactStore) -> None:
    path = write_encrypted(store, os.urandom(100))
    chunks = records(path)
    raw = path.read_bytes()
    first, second = chunks[1][0], chunks[2][0]
    size = second - first
    swapped = raw[:first] + raw[second : second + size] + raw[first:second] + raw[second + size :]
    path.write_bytes(swapped)

    with pytest.raises(ArtifactCorrupt, match=r"chunk 2 failed authentication"):
        read_all(path, keys=KEYS_A)


def test_data_after_the_final_chunk_is_refused(store: ArtifactStore) -> None:
    path = write_encrypted(store, os.urandom(100))
    with path.open("ab") as handle:
        handle.write(b"\x00")

    with pytest.raises(ArtifactCorrupt, match="unexpected data after the final chunk"):
        read_all(path, keys=KEYS_A)


def test_an_impossible_chunk_length_is_refused_before_reading_it(store: ArtifactStore) -> None:
    path = write_encrypted(store, os.urandom(100))
    raw = bytearray(path.read_bytes())
    raw[HEADER_SIZE + 1 : HEADER_SIZE + 5] = struct.pack(">I", 0xFFFFFFFF)
    path.write_bytes(bytes(raw))

    with pytest.raises(ArtifactCorrupt, match="chunk 1 has an impossible length"):
        read_all(path, keys=KEYS_A)


def test_an_unknown_version_is_named(store: ArtifactStore) -> None:
    path = write_encrypted(store, b"data")
    corrupt(path, 8, value=9)

    with pytest.raises(ArtifactCorrupt, match="unknown format version 9"):
        read_all(path, keys=KEYS_A)


def test_a_cut_header_is_not_an_artifact(store: ArtifactStore) -> None:
    path = write_encrypted(store, b"data")
    with path.open("r+b") as handle:
        handle.truncate(12)

    with pytest.raises(ArtifactCorrupt, match="no valid header"):
        read_all(path, keys=KEYS_A)


# --- keys -------------------------------------------------------------------------------------


def test_the_wrong_key_is_named_by_id(store: ArtifactStore) -> None:
    path = write_encrypted(store, b"secret rows")

    with pytest.raises(BackupKeyError, match=rf"key {key_id(KEYS_A[0])}, which is not in"):
        read_all(path, keys=KEYS_B)


def test_a_missing_key_refuses_encryption_and_leaves_nothing(store: ArtifactStore) -> None:
    with pytest.raises(BackupKeyError, match=f"{KEY_ENV} is not set"):
        store.write("db.dump", io.BytesIO(b"data"), encrypt=True)
    assert not store.root.exists()


def test_a_missing_key_refuses_decryption(store: ArtifactStore) -> None:
    path = write_encrypted(store, b"data")

    with pytest.raises(BackupKeyError, match=f"encrypted but {KEY_ENV} is not set"):
        read_all(path)


def test_keys_from_the_environment_rotate(
    store: ArtifactStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, KEY_A)
    old = store.write("old.dump", io.BytesIO(b"old"), encrypt=True, chunk_size=SMALL)
    monkeypatch.setenv(KEY_ENV, f" {KEY_B} , {KEY_A} ,")
    new = store.write("new.dump", io.BytesIO(b"new"), encrypt=True, chunk_size=SMALL)

    assert old.key_id == key_id(KEYS_A[0])
    assert new.key_id == key_id(KEYS_B[0])
    assert read_all(old.path) == b"old"
    assert read_all(new.path) == b"new"


def test_keys_from_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key_file = tmp_path / "backup.key"
    key_file.write_text(KEY_B + "\n")
    monkeypatch.setenv(f"{KEY_ENV}_FILE", str(key_file))
    assert load_keys() == KEYS_B

    monkeypatch.setenv(f"{KEY_ENV}_FILE", str(tmp_path / "missing.key"))
    with pytest.raises(BackupKeyError, match="cannot be read"):
        load_keys()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("not base64!", "Key 1 .* is not url-safe base64"),
        (KEY_A[:-1] + "!" + KEY_A[-1], "Key 1 .* is not url-safe base64"),
        (KEY_A.replace("=", "") + "+", "Key 1 .* is not url-safe base64"),
        (f"{KEY_A},c2hvcnQ=", "Key 2 .* is 5 bytes long; it must be 32 bytes"),
    ],
)
def test_malformed_keys_are_named(value: str, message: str) -> None:
    with pytest.raises(BackupKeyError, match=message):
        load_keys({KEY_ENV: value})


def test_a_malformed_key_is_never_echoed() -> None:
    secret = "x" * 44 + "!"
    with pytest.raises(BackupKeyError) as info:
        parse_keys(secret)
    assert secret not in str(info.value)


# --- checksums ----------------------------------------------------------------------------------


def test_verify_detects_missing_file_size_and_checksum(store: ArtifactStore) -> None:
    info = store.write("db.dump", io.BytesIO(b"0123456789"))
    verify_artifact(info.path, info.sha256.upper(), info.size)

    with pytest.raises(ArtifactMismatch, match="is 10 bytes long, 11 were recorded"):
        verify_artifact(info.path, info.sha256, 11)
    corrupt(info.path, 0)
    with pytest.raises(ArtifactMismatch, match=f"checksum of .* {info.sha256} was recorded"):
        verify_artifact(info.path, info.sha256, info.size)
    with pytest.raises(ArtifactError, match="not a SHA-256 checksum"):
        verify_artifact(info.path, "abc", info.size)
    store.delete("db.dump")
    with pytest.raises(ArtifactMissing, match="is missing"):
        store.verify("db.dump", info.sha256, info.size)
    with pytest.raises(ArtifactMissing, match="is missing"):
        read_all(info.path)


@pytest.mark.parametrize("encrypt", [False, True])
def test_a_plain_checksum_mismatch_is_raised_on_reading(
    store: ArtifactStore, encrypt: bool
) -> None:
    info = store.write(
        "db.dump", io.BytesIO(b"rows" * 50), encrypt=encrypt, keys=KEYS_A, chunk_size=SMALL
    )
    wrong = hashlib.sha256(b"other").hexdigest()

    with pytest.raises(ArtifactMismatch, match=f"{wrong} was recorded"):
        read_all(info.path, keys=KEYS_A, expected_plain_sha256=wrong)


# --- the store's rules ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["", ".", "..", "../x", "a/../../b", "a/b", "/etc/passwd", "a\\b", "a..b", ".hidden",
     "-rf", "a\x00b", "x.part", "é.dump", "a b", "x" * 201],
)  # fmt: skip
def test_unsafe_names_are_refused_everywhere(store: ArtifactStore, name: str) -> None:
    with pytest.raises(ArtifactNameError, match="not a valid artifact name"):
        store.write(name, io.BytesIO(b"data"))
    with pytest.raises(ArtifactNameError):
        store.delete(name)
    with pytest.raises(ArtifactNameError):
        store.open(name)
    with pytest.raises(ArtifactNameError):
        store.verify(name, "0" * 64, 1)
    assert not store.root.exists()


class _FailingReader(io.RawIOBase):
    def __init__(self, good_chunks: int, chunk: int) -> None:
        self.left = good_chunks
        self.chunk = chunk

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if not self.left:
            raise OSError("pg_dump: connection lost")
        self.left -= 1
        count = min(len(buffer), self.chunk)
        buffer[:count] = b"z" * count
        return count


@pytest.mark.parametrize("encrypt", [False, True])
def test_a_failing_source_leaves_no_part_and_no_artifact(
    store: ArtifactStore, encrypt: bool
) -> None:
    with pytest.raises(OSError, match="connection lost"):
        store.write(
            "db.dump",
            io.BufferedReader(_FailingReader(3, SMALL)),
            encrypt=encrypt,
            keys=KEYS_A,
            chunk_size=SMALL,
        )
    assert list(store.root.iterdir()) == []

    # The name is free for the next attempt.
    store.write("db.dump", io.BytesIO(b"ok"))


def test_an_artifact_is_never_overwritten(store: ArtifactStore) -> None:
    store.write("db.dump", io.BytesIO(b"first"))
    with pytest.raises(ArtifactWriteError, match="already exists"):
        store.write("db.dump", io.BytesIO(b"second"))
    assert store.path_for("db.dump").read_bytes() == b"first"


def test_a_stale_part_is_named_and_left_alone(store: ArtifactStore) -> None:
    store.root.mkdir(mode=0o700)
    part = store.root / "db.dump.part"
    part.write_bytes(b"half")
    with pytest.raises(ArtifactWriteError, match=r"db\.dump\.part exists"):
        store.write("db.dump", io.BytesIO(b"data"))
    assert part.read_bytes() == b"half"


def test_delete_and_free_space(store: ArtifactStore) -> None:
    with pytest.raises(ArtifactError, match="does not exist"):
        store.free_space()
    store.write("db.dump", io.BytesIO(b"data"))
    assert store.free_space() > 0
    assert store.exists("db.dump")
    assert store.delete("db.dump") is True
    assert store.delete("db.dump") is False
    assert not store.exists("db.dump")


def test_an_invalid_chunk_size_is_refused(store: ArtifactStore) -> None:
    with pytest.raises(ArtifactError, match="chunk size"):
        store.write("db.dump", io.BytesIO(b"data"), chunk_size=0)
