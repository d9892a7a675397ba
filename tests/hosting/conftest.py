from __future__ import annotations

from tests.fakes.s3 import fake_s3, moto_server  # noqa: F401
