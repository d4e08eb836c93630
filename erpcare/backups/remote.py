"""A second home for backup artifacts: S3-compatible object storage (AWS S3, MinIO, Ceph,
Alibaba OSS and Tencent COS in S3 mode), through boto3 — an optional extra
(``pip install 'erpcare[s3]'``).

An artifact is written to the local store first (checksummed, encrypted), then uploaded
in parts and confirmed by the object's size; a plan may then drop the local copy. A
restore test of a point that has no local copy downloads it to a temporary file next to
the store and checks it against the recorded SHA-256 like any local file.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from erpcare.core.errors import ActionError

PART_SIZE = 64 * 1024 * 1024
CONNECT_TIMEOUT = 10
READ_TIMEOUT = 120


class RemoteError(ActionError):
    """The object store refused or could not be reached; the message says which."""


@dataclass(frozen=True)
class Bucket:
    name: str
    prefix: str = ""
    endpoint_url: str = ""
    region: str = ""
    access_key: str = ""
    secret_key: str = field(default="", repr=False)

    def key_for(self, artifact: str) -> str:
        prefix = self.prefix.strip("/")
        return f"{prefix}/{artifact}" if prefix else artifact

    @property
    def where(self) -> str:
        return f"s3://{self.name}/{self.prefix.strip('/')}".rstrip("/")


def _client(bucket: Bucket) -> Any:
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise RemoteError(
            _(
                "S3 storage needs boto3: install ERPCare with the s3 extra "
                "(pip install 'erpcare[s3]')."
            )
        ) from None
    return boto3.client(
        "s3",
        endpoint_url=bucket.endpoint_url or None,
        region_name=bucket.region or None,
        aws_access_key_id=bucket.access_key or None,
        aws_secret_access_key=bucket.secret_key or None,
        config=Config(
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=READ_TIMEOUT,
            retries={"max_attempts": 3, "mode": "standard"},
        ),
    )


def _error(bucket: Bucket, action: str, exc: Exception) -> RemoteError:
    detail = getattr(exc, "response", {}).get("Error", {}) if hasattr(exc, "response") else {}
    reason = detail.get("Message") or detail.get("Code") or str(exc)
    return RemoteError(
        _("%(action)s %(where)s failed: %(reason)s")
        % {"action": action, "where": bucket.where, "reason": str(reason)[:500]}
    )


def _transfer_config() -> Any:
    from boto3.s3.transfer import TransferConfig

    return TransferConfig(multipart_threshold=PART_SIZE, multipart_chunksize=PART_SIZE)


def upload(bucket: Bucket, path: Path, artifact: str, *, sha256: str) -> str:
    """Upload the file as ``<prefix>/<artifact>`` and confirm its size; returns the key."""
    client = _client(bucket)
    key = bucket.key_for(artifact)
    try:
        client.upload_file(
            str(path),
            bucket.name,
            key,
            ExtraArgs={"Metadata": {"sha256": sha256}},
            Config=_transfer_config(),
        )
        head = client.head_object(Bucket=bucket.name, Key=key)
    except Exception as exc:  # botocore's errors share no useful base class
        raise _error(bucket, _("Uploading to"), exc) from None
    size = path.stat().st_size
    if int(head.get("ContentLength", -1)) != size:
        raise RemoteError(
            _("%(where)s holds %(got)s bytes of %(key)s, %(size)s were sent.")
            % {"where": bucket.where, "got": head.get("ContentLength"), "key": key, "size": size}
        )
    return key


@contextlib.contextmanager
def downloaded(bucket: Bucket, key: str, workdir: Path) -> Iterator[Path]:
    """Download ``key`` into a 0600 temporary file under ``workdir``, removed afterwards."""
    workdir.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = workdir / f".download-{Path(key).name}"
    client = _client(bucket)
    try:
        client.download_file(bucket.name, key, str(target), Config=_transfer_config())
        target.chmod(0o600)
    except Exception as exc:
        target.unlink(missing_ok=True)
        raise _error(bucket, _("Downloading from"), exc) from None
    try:
        yield target
    finally:
        target.unlink(missing_ok=True)


def delete(bucket: Bucket, key: str) -> None:
    client = _client(bucket)
    try:
        client.delete_object(Bucket=bucket.name, Key=key)
    except Exception as exc:
        raise _error(bucket, _("Deleting from"), exc) from None


def check(bucket: Bucket) -> str:
    """Reach the bucket (for the plan form's test button); returns what answered."""
    client = _client(bucket)
    try:
        client.head_bucket(Bucket=bucket.name)
    except Exception as exc:
        raise _error(bucket, _("Reaching"), exc) from None
    return _("%(where)s is reachable.") % {"where": bucket.where}
