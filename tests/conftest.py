from __future__ import annotations

import io
import random
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from tests.fakes.images import ImageServer, serving


def photo(seed: int, size: tuple[int, int] = (480, 360)) -> bytes:
    """A JPEG of random shapes: distinct seeds give perceptually distinct images."""
    rnd = random.Random(seed)
    im = Image.new("RGB", size, tuple(rnd.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(im)
    for _ in range(12):
        x0, y0 = rnd.randrange(size[0]), rnd.randrange(size[1])
        x1, y1 = x0 + rnd.randrange(40, 240), y0 + rnd.randrange(40, 240)
        fill = tuple(rnd.randrange(256) for _ in range(3))
        (draw.ellipse if rnd.random() < 0.5 else draw.rectangle)([x0, y0, x1, y1], fill=fill)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=88)
    return buf.getvalue()


@pytest.fixture
def image_server() -> Iterator[ImageServer]:
    with serving(stall_s=2.0) as server:
        yield server


def write(root: Path, files: dict[str, str | bytes]) -> None:
    """Build an input tree: {relative path: text or bytes}."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content), encoding="utf-8")
