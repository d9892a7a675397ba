"""Hosting on S3 or any S3-compatible store (MinIO, R2, Ceph, moto), through boto3.

Public buckets get plain object URLs; private ones get presigned GET URLs,
which SigV4 caps at seven days. Credentials come only from the environment
or boto3's usual chain (profiles, SSO, instance roles) and are never stored.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
)

from yamlset.errors import YamlsetError
from yamlset.hosting.base import check_url, not_hosted, redact
from yamlset.spec.model import HostingSpec

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import PutObjectRequestTypeDef

MAX_PRESIGNED_S = 7 * 86400  # SigV4: X-Amz-Expires may not exceed 604800 seconds
THREADS = 8  # uploads in flight; small files, so more mostly adds throttling

ClientFactory = Callable[[HostingSpec, Mapping[str, str]], "S3Client"]

_CONTENT_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".gif": "image/gif",
}
# names are content hashes, so an object never changes: let browsers and CDNs keep it
_CACHE = "max-age=31536000, immutable"
_MISSING = {"404", "NoSuchKey", "NotFound", "403", "AccessDenied"}


def make_client(spec: HostingSpec, environ: Mapping[str, str]) -> S3Client:
    """An S3 client for `spec`, with credentials from `environ` or boto3's usual chain."""
    config = Config(
        signature_version="s3v4",
        retries={"mode": "standard", "max_attempts": 5},
        max_pool_connections=THREADS,
        # custom endpoints rarely have wildcard DNS for virtual-hosted buckets
        s3={"addressing_style": "path"} if spec.endpoint_url else {},
    )
    return _session(environ).client(
        "s3", region_name=spec.region, endpoint_url=spec.endpoint_url, config=config
    )


def _session(environ: Mapping[str, str]) -> boto3.session.Session:
    core = botocore.session.get_session()
    # a fresh session parses the S3 model again (~0.3 s); the parsed files can be shared
    core.register_component("data_loader", _loader())
    key, secret = environ.get("AWS_ACCESS_KEY_ID"), environ.get("AWS_SECRET_ACCESS_KEY")
    if key and secret:
        return boto3.session.Session(
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            aws_session_token=environ.get("AWS_SESSION_TOKEN"),
            botocore_session=core,
        )
    profile = environ.get("AWS_PROFILE") or None
    return boto3.session.Session(profile_name=profile, botocore_session=core)


@functools.cache
def _loader() -> botocore.loaders.Loader:
    return botocore.loaders.create_loader()


class S3Host:
    """Uploads to a bucket under `prefix`, a few files at a time, each once."""

    name = "s3"

    def __init__(
        self, client_factory: ClientFactory = make_client, *, threads: int = THREADS
    ) -> None:
        # tests pass a factory that points at a stand-in or counts requests
        self.client_factory = client_factory
        self.threads = threads

    def target(self, spec: HostingSpec) -> str:
        where = f"s3://{_bucket(spec)}/{_prefix(spec)}"
        # the same bucket name on another store is another destination
        return f"{where}?endpoint={redact(spec.endpoint_url)}" if spec.endpoint_url else where

    def publish(
        self,
        files: Iterable[Path],
        spec: HostingSpec,
        *,
        environ: Mapping[str, str],
        lifetime_s: int,
        already: Callable[[str], bool] = not_hosted,
    ) -> Iterator[tuple[Path, str]]:
        bucket, prefix = _bucket(spec), _prefix(spec)
        if not spec.public:
            _check_lifetime(lifetime_s)
        with _errors(spec):
            client = self.client_factory(spec, environ)
            links = _Links(client, spec, bucket, lifetime_s)
            todo: list[Path] = []
            for file in files:
                if already(file.name):
                    yield file, links.url(prefix + file.name)
                else:
                    todo.append(file)
            uploader = _Uploader(client, bucket, public=spec.public)
            yield from self._upload(todo, prefix, uploader, links)

    def check(self, url: str, *, timeout: float = 10) -> None:
        check_url(url, timeout=timeout)

    def _upload(
        self, files: list[Path], prefix: str, uploader: _Uploader, links: _Links
    ) -> Iterator[tuple[Path, str]]:
        pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="yamlset-s3")
        try:
            futures = {pool.submit(uploader.upload, f, prefix + f.name): f for f in files}
            for done in as_completed(futures):
                done.result()
                file = futures[done]
                yield file, links.url(prefix + file.name)
        finally:
            # on the first failure (or when the caller stops) drop what has not started
            pool.shutdown(wait=True, cancel_futures=True)


@dataclass(frozen=True)
class _Links:
    """Builds the URL a labeler's browser uses for an object key."""

    client: S3Client
    spec: HostingSpec
    bucket: str
    lifetime_s: int

    def url(self, key: str) -> str:
        if not self.spec.public:
            params = {"Bucket": self.bucket, "Key": key}
            return self.client.generate_presigned_url(
                "get_object", Params=params, ExpiresIn=self.lifetime_s
            )
        path = quote(key, safe="/")
        if self.spec.endpoint_url:
            return f"{self.spec.endpoint_url.rstrip('/')}/{self.bucket}/{path}"
        region = f"s3.{self.spec.region}" if self.spec.region else "s3"
        if "." in self.bucket:
            # AWS's wildcard certificate does not cover dotted bucket names
            return f"https://{region}.amazonaws.com/{self.bucket}/{path}"
        return f"https://{self.bucket}.{region}.amazonaws.com/{path}"


@dataclass(frozen=True)
class _Uploader:
    """Puts one file unless an identical object is already there. Safe across threads."""

    client: S3Client
    bucket: str
    public: bool
    # set once the bucket refuses ACLs (Object Ownership "bucket owner enforced"): its
    # policy then decides who may read, and check() tells the user if nobody can
    _no_acl: threading.Event = field(default_factory=threading.Event)

    def upload(self, file: Path, key: str) -> None:
        data = file.read_bytes()
        md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
        if self._present(key, len(data), md5):
            # it may have been put while the spec said public: false
            if self.public:
                self._with_acl(
                    lambda: self.client.put_object_acl(
                        Bucket=self.bucket, Key=key, ACL="public-read"
                    )
                )
            return
        args: PutObjectRequestTypeDef = {
            "Bucket": self.bucket,
            "Key": key,
            "Body": data,
            "ContentType": _content_type(file),
            "CacheControl": ("public, " if self.public else "private, ") + _CACHE,
            # ETags are not MD5s under SSE-KMS or multipart; this survives both
            "Metadata": {"md5": md5},
        }
        public: PutObjectRequestTypeDef = {**args, "ACL": "public-read"}
        if not (self.public and self._with_acl(lambda: self.client.put_object(**public))):
            self.client.put_object(**args)

    def _present(self, key: str, size: int, md5: str) -> bool:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as e:
            # 403 on a missing key when the credentials may not list the bucket
            if _code(e) in _MISSING:
                return False
            raise
        same = head.get("ETag", "").strip('"') == md5 or head.get("Metadata", {}).get("md5") == md5
        return head["ContentLength"] == size and same

    def _with_acl(self, call: Callable[[], object]) -> bool:
        """Run a call that sets an ACL; False if the bucket refuses ACLs."""
        if self._no_acl.is_set():
            return False
        try:
            call()
        except ClientError as e:
            if _code(e) != "AccessControlListNotSupported":
                raise
            self._no_acl.set()
            return False
        return True


def _bucket(spec: HostingSpec) -> str:
    if not spec.bucket:
        raise YamlsetError("hosting.bucket is required for hosting type s3")
    return spec.bucket


def _prefix(spec: HostingSpec) -> str:
    """The key prefix as a folder: `a/b` and `/a/b/` both become `a/b/`."""
    prefix = spec.prefix.strip("/")
    return prefix + "/" if prefix else ""


def _content_type(file: Path) -> str:
    return _CONTENT_TYPES.get(file.suffix.lower(), "application/octet-stream")


def _check_lifetime(lifetime_s: int) -> None:
    if lifetime_s > MAX_PRESIGNED_S:
        raise YamlsetError(
            f"presigned S3 URLs last at most 7 days, but they must last {_days(lifetime_s)} "
            "(the pool's lifetime): set hosting.public: true, or pool.expires_s to 7d or less"
        )
    if lifetime_s <= 0:
        raise YamlsetError(f"presigned S3 URLs need a positive lifetime, got {lifetime_s}s")


def _days(seconds: int) -> str:
    return f"{seconds / 86400:g}d"


def _code(e: ClientError) -> str:
    return str(e.response.get("Error", {}).get("Code", ""))


@contextmanager
def _errors(spec: HostingSpec) -> Iterator[None]:
    """Turn boto3's exceptions into one-line YamlsetErrors that say what to do."""
    at = f" at {redact(spec.endpoint_url)}" if spec.endpoint_url else ""
    try:
        yield
    except (NoCredentialsError, PartialCredentialsError):
        raise YamlsetError(
            "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
            "or AWS_PROFILE to a profile in ~/.aws/config"
        ) from None
    except ProfileNotFound as e:
        raise YamlsetError(f"{e}: fix AWS_PROFILE or add the profile to ~/.aws/config") from None
    except EndpointConnectionError:
        raise YamlsetError(
            f"cannot reach S3{at or ' (AWS)'}: check hosting.endpoint_url and the network"
        ) from None
    except ClientError as e:
        raise YamlsetError(_client_error(e, spec, at)) from None
    except BotoCoreError as e:
        raise YamlsetError(f"S3{at} failed: {e}") from None


def _client_error(e: ClientError, spec: HostingSpec, at: str) -> str:
    code, bucket = _code(e), spec.bucket
    if code == "NoSuchBucket":
        return f"S3 bucket {bucket!r} does not exist{at}: create it or fix hosting.bucket"
    if code in ("AccessDenied", "AllAccessDisabled", "403"):
        acl = ", s3:PutObjectAcl" if spec.public else ""
        return (
            f"access denied to S3 bucket {bucket!r}{at}: the credentials need "
            f"s3:PutObject{acl} and s3:GetObject on {bucket}/{_prefix(spec)}*"
        )
    if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch"):
        return (
            f"S3{at} refused the credentials ({code}): check AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE"
        )
    if code in ("ExpiredToken", "TokenRefreshRequired", "RequestExpired"):
        return f"the AWS credentials have expired ({code}): refresh them and run again"
    if code in ("PermanentRedirect", "AuthorizationHeaderMalformed"):
        return f"S3 bucket {bucket!r} is in another region: set hosting.region to its region"
    message = e.response.get("Error", {}).get("Message", "")
    operation = e.operation_name
    return f"S3 {operation} on bucket {bucket!r}{at} failed: {code}: {message}".rstrip(": ")
