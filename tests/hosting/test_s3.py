from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests
from botocore.exceptions import ClientError

from tests.fakes.s3 import FakeS3
from yamlset.errors import YamlsetError
from yamlset.hosting import HOSTS, get
from yamlset.hosting.s3 import S3Host, make_client
from yamlset.hosting.static import StaticHost
from yamlset.spec.model import HostingSpec

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

HOUR = 3600


def _images(folder: Path, n: int = 5) -> list[Path]:
    """Files named by their content, as the resize stage writes them."""
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for i in range(n):
        data = b"\xff\xd8\xff\xe0fake jpeg %d" % i
        path = folder / f"{hashlib.sha256(data).hexdigest()[:16]}.jpg"
        path.write_bytes(data)
        files.append(path)
    return files


def _spec(s3: FakeS3, bucket: str, **changes: Any) -> HostingSpec:
    spec = HostingSpec(type="s3", bucket=bucket, prefix="kirkorov-vs-face/")
    return replace(spec, endpoint_url=s3.endpoint_url, **changes)


class _Counting:
    """A client factory that counts the S3 operations its clients perform."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def __call__(self, spec: HostingSpec, environ: Mapping[str, str]) -> S3Client:
        client = make_client(spec, environ)
        client.meta.events.register("before-call.s3", self._count)
        return client

    def _count(self, model: Any, **kwargs: Any) -> None:
        self.calls[model.name] += 1


def _publish(
    host: S3Host, files: list[Path], spec: HostingSpec, s3: FakeS3, **kw: Any
) -> dict[Path, str]:
    return dict(host.publish(files, spec, environ=s3.environ, lifetime_s=HOUR, **kw))


def test_publish_uploads_and_public_urls_serve_the_bytes(fake_s3: FakeS3, tmp_path: Path) -> None:
    files = _images(tmp_path / "resized")
    spec = _spec(fake_s3, fake_s3.bucket("my-datasets"))

    urls = _publish(S3Host(), files, spec, fake_s3)

    assert set(urls) == set(files)
    for file, url in urls.items():
        assert url == f"{fake_s3.endpoint_url}/my-datasets/kirkorov-vs-face/{file.name}"
        response = requests.get(url, timeout=10)
        assert response.status_code == 200
        assert response.content == file.read_bytes()
        assert response.headers["Content-Type"] == "image/jpeg"
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    acl = fake_s3.client().get_object_acl(
        Bucket="my-datasets", Key=f"kirkorov-vs-face/{files[0].name}"
    )
    assert any(g["Grantee"].get("URI", "").endswith("/AllUsers") for g in acl["Grants"])
    S3Host().check(urls[files[0]])


def test_second_publish_uploads_nothing(fake_s3: FakeS3, tmp_path: Path) -> None:
    files = _images(tmp_path)
    spec = _spec(fake_s3, fake_s3.bucket("bkt"))
    first, second, known = _Counting(), _Counting(), _Counting()

    _publish(S3Host(first), files, spec, fake_s3)
    again = _publish(S3Host(second), files, spec, fake_s3)
    from_state = _publish(S3Host(known), files, spec, fake_s3, already=lambda name: True)

    assert first.calls["PutObject"] == 5
    assert second.calls["PutObject"] == 0
    assert second.calls["HeadObject"] == 5
    assert known.calls == Counter()
    assert set(again) == set(from_state) == set(files)


def test_an_object_that_differs_is_uploaded_again(fake_s3: FakeS3, tmp_path: Path) -> None:
    files = _images(tmp_path)
    spec = _spec(fake_s3, fake_s3.bucket("bkt"))
    key = f"kirkorov-vs-face/{files[0].name}"
    fake_s3.client().put_object(Bucket="bkt", Key=key, Body=b"half a file")
    counting = _Counting()

    urls = _publish(S3Host(counting), files, spec, fake_s3)

    assert counting.calls["PutObject"] == 5
    assert requests.get(urls[files[0]], timeout=10).content == files[0].read_bytes()


def test_private_buckets_get_presigned_urls(fake_s3: FakeS3, tmp_path: Path) -> None:
    files = _images(tmp_path, 2)
    spec = _spec(fake_s3, fake_s3.bucket("private"), public=False)

    urls = _publish(S3Host(), files, spec, fake_s3)

    for file, url in urls.items():
        assert "X-Amz-Signature=" in url
        assert "X-Amz-Expires=3600" in url
        assert requests.get(url, timeout=10).content == file.read_bytes()
    acl = fake_s3.client().get_object_acl(Bucket="private", Key=f"kirkorov-vs-face/{files[0].name}")
    assert not any("AllUsers" in g["Grantee"].get("URI", "") for g in acl["Grants"])


def test_presigned_urls_cannot_outlive_seven_days(fake_s3: FakeS3, tmp_path: Path) -> None:
    spec = _spec(fake_s3, "private", public=False)
    counting = _Counting()
    publish = S3Host(counting).publish(
        _images(tmp_path), spec, environ=fake_s3.environ, lifetime_s=30 * 86400
    )

    with pytest.raises(YamlsetError) as error:
        list(publish)

    assert str(error.value) == (
        "presigned S3 URLs last at most 7 days, but they must last 30d (the pool's lifetime): "
        "set hosting.public: true, or pool.expires_s to 7d or less"
    )
    assert counting.calls == Counter()
    # exactly seven days is allowed
    fake_s3.bucket("private")
    assert _publish_for(fake_s3, tmp_path, spec, 7 * 86400)


def _publish_for(s3: FakeS3, tmp_path: Path, spec: HostingSpec, lifetime_s: int) -> list[str]:
    files = _images(tmp_path / "more", 1)
    return [u for _, u in S3Host().publish(files, spec, environ=s3.environ, lifetime_s=lifetime_s)]


def test_missing_bucket_is_named(fake_s3: FakeS3, tmp_path: Path) -> None:
    spec = _spec(fake_s3, "no-such-bucket")

    with pytest.raises(YamlsetError) as error:
        _publish(S3Host(), _images(tmp_path), spec, fake_s3)

    assert str(error.value) == (
        f"S3 bucket 'no-such-bucket' does not exist at {fake_s3.endpoint_url}: "
        "create it or fix hosting.bucket"
    )


def test_missing_credentials_name_the_variables(
    fake_s3: FakeS3, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    spec = _spec(fake_s3, fake_s3.bucket("bkt"))

    with pytest.raises(YamlsetError) as error:
        list(S3Host().publish(_images(tmp_path), spec, environ={}, lifetime_s=HOUR))

    message = str(error.value)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        assert name in message


def test_unknown_profile_is_named(
    fake_s3: FakeS3, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    spec = _spec(fake_s3, "bkt")

    with pytest.raises(YamlsetError) as error:
        list(
            S3Host().publish(_images(tmp_path), spec, environ={"AWS_PROFILE": "nope"}, lifetime_s=1)
        )

    assert str(error.value) == (
        "The config profile (nope) could not be found: "
        "fix AWS_PROFILE or add the profile to ~/.aws/config"
    )


def test_access_denied_says_which_permissions(fake_s3: FakeS3, tmp_path: Path) -> None:
    def denied(spec: HostingSpec, environ: Mapping[str, str]) -> S3Client:
        client = make_client(spec, environ)
        client.meta.events.register("provide-client-params.s3.PutObject", _deny)
        return client

    spec = _spec(fake_s3, fake_s3.bucket("bkt"))
    with pytest.raises(YamlsetError) as error:
        _publish(S3Host(denied), _images(tmp_path), spec, fake_s3)

    assert str(error.value) == (
        f"access denied to S3 bucket 'bkt' at {fake_s3.endpoint_url}: the credentials need "
        "s3:PutObject, s3:PutObjectAcl and s3:GetObject on bkt/kirkorov-vs-face/*"
    )


def _deny(**kwargs: Any) -> None:
    raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "PutObject")


def test_buckets_without_acls_still_get_the_files(fake_s3: FakeS3, tmp_path: Path) -> None:
    refused = Counter[str]()

    def owner_enforced(spec: HostingSpec, environ: Mapping[str, str]) -> S3Client:
        # AWS's default for new buckets: any ACL is refused
        def refuse(params: dict[str, Any], **kwargs: Any) -> None:
            if "ACL" in params:
                refused["acl"] += 1
                error = {"Error": {"Code": "AccessControlListNotSupported", "Message": "no"}}
                raise ClientError(error, "PutObject")  # type: ignore[arg-type]

        client = make_client(spec, environ)
        client.meta.events.register("provide-client-params.s3.PutObject", refuse)
        return client

    files = _images(tmp_path)
    spec = _spec(fake_s3, fake_s3.bucket("bkt"))
    urls = _publish(S3Host(owner_enforced), files, spec, fake_s3)

    assert refused["acl"] >= 1
    client = fake_s3.client()
    for file in files:
        body = client.get_object(Bucket="bkt", Key=f"kirkorov-vs-face/{file.name}")["Body"]
        assert body.read() == file.read_bytes()
    # without a bucket policy that lets anyone read, check() is what tells the user
    with pytest.raises(YamlsetError, match="answered HTTP 403"):
        S3Host().check(urls[files[0]])


def test_aws_urls_are_virtual_hosted(fake_s3: FakeS3, tmp_path: Path) -> None:
    # the client talks to moto while the URLs are built as for AWS itself
    def to_moto(spec: HostingSpec, environ: Mapping[str, str]) -> S3Client:
        return make_client(replace(spec, endpoint_url=fake_s3.endpoint_url), environ)

    files = _images(tmp_path, 1)
    name = files[0].name
    for bucket, region, url in [
        ("my-datasets", "eu-west-1", f"https://my-datasets.s3.eu-west-1.amazonaws.com/p/{name}"),
        ("my-datasets", None, f"https://my-datasets.s3.amazonaws.com/p/{name}"),
        ("my.datasets", "eu-west-1", f"https://s3.eu-west-1.amazonaws.com/my.datasets/p/{name}"),
    ]:
        fake_s3.bucket(bucket)
        spec = HostingSpec(type="s3", bucket=bucket, prefix="/p", region=region)
        assert _publish(S3Host(to_moto), files, spec, fake_s3) == {files[0]: url}


def test_target_names_the_destination_without_secrets() -> None:
    host = S3Host()
    assert host.target(HostingSpec(type="s3", bucket="b", prefix="a/b")) == "s3://b/a/b/"
    assert host.target(HostingSpec(type="s3", bucket="b")) == "s3://b/"
    minio = HostingSpec(type="s3", bucket="b", endpoint_url="http://key:secret@127.0.0.1:9000/")
    assert host.target(minio) == "s3://b/?endpoint=http://127.0.0.1:9000/"
    with pytest.raises(YamlsetError, match=r"hosting\.bucket is required"):
        host.target(HostingSpec(type="s3"))


def test_check_reports_a_missing_object(fake_s3: FakeS3) -> None:
    fake_s3.bucket("bkt")
    url = f"{fake_s3.endpoint_url}/b/missing.jpg"

    with pytest.raises(YamlsetError) as error:
        S3Host().check(url)

    assert str(error.value) == (
        f"image URL {url} answered HTTP 404, not 200: "
        "check that the images are there and readable without logging in"
    )


def test_registry() -> None:
    assert isinstance(get("s3"), S3Host)
    assert isinstance(get("static"), StaticHost)
    assert set(HOSTS) == {"s3", "static"}
    with pytest.raises(YamlsetError, match="unknown hosting type 'ftp'; choose one of s3, static"):
        get("ftp")
