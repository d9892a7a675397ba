"""Decode an original once, check it, and write the derived image the spec asks for.

Everything here runs in worker processes, so it takes paths (not bytes) and returns
small frozen values that pickle cheaply.
"""

from __future__ import annotations

import io
import math
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import imagehash
import numpy as np
from PIL import Image, ImageColor, UnidentifiedImageError

from yamlset.errors import YamlsetError
from yamlset.spec.model import CollectSpec, ImageSpec

# Pillow warns past MAX_IMAGE_PIXELS and refuses past twice that. 100 MP covers any camera
# photo in the wild (a 108 MP phone sensor aside) while a bomb of 20000x20000 is refused.
MAX_PIXELS = 100_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

_EXTENSIONS = {"jpeg": "jpg", "png": "png", "webp": "webp"}
# Pillow names multi-picture camera JPEGs "MPO"; they are JPEGs to a user.
_FORMAT_ALIASES = {"mpo": "jpeg", "jpg": "jpeg", "tif": "tiff"}
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_ORIENTATION_TAG = 0x0112
_RESAMPLE = Image.Resampling.BICUBIC
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError)


class ImageRejected(YamlsetError):
    """An original that cannot or should not become a dataset image; `reason` says why."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class Derived:
    """What decoding an original found and what was written.

    `width`/`height` are the original's as displayed (after EXIF orientation);
    `out_*` describe the written file, all zero when nothing was written.
    """

    format: str  # lower case: jpeg, png, webp, gif, ...
    width: int
    height: int
    out_width: int
    out_height: int
    out_bytes: int
    phash: str | None  # 16 hex digits, 64-bit pHash of the whole decoded image


def derived_name(sha256: str, image: ImageSpec) -> str:
    """A stable file name for `image`'s derivation of the original with this content hash.

    Every parameter that changes the output bytes is in the name, so re-deriving with
    new settings never overwrites the files made with the old ones.
    """
    w, h = image.size
    parts = [sha256, f"{w}x{h}", image.fit]
    if image.fit == "pad":
        parts.append("".join(f"{c:02x}" for c in _background(image)))
    if image.format in ("jpeg", "webp"):
        parts.append(f"q{image.quality}")
    return "-".join(parts) + "." + _EXTENSIONS[image.format]


def check_filters(d: Derived, collect: CollectSpec) -> str | None:
    """The reason `collect`'s filters drop an image of this format and size, or None."""
    return _filter_reason(d.format, d.width, d.height, collect)


def probe_and_derive(
    src: Path,
    dst: Path | None,
    image: ImageSpec,
    *,
    want_phash: bool,
    collect: CollectSpec | None = None,
    sync: bool = True,
    data: bytes | None = None,
) -> Derived:
    """Decode `src` once, check it and write the derived image to `dst` atomically.

    With `collect`, its format, min_side and max_aspect filters are applied from the
    header, before the costly decode. With `dst` None nothing is written (a probe).
    With `sync` false the file is not fsync'ed: the caller must sync it before
    recording it anywhere (the pipeline does, off the decoding processes). `data`, when
    given, is `src`'s content, already read by the caller.
    Raises ImageRejected with a one-line reason for anything that is not a usable image.
    """
    with warnings.catch_warnings():
        # A file between MAX_PIXELS and twice that only warns; treat it like a bomb.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(src if data is None else io.BytesIO(data)) as im:
                return _derive_open(im, dst, image, want_phash, collect, sync)
        except Image.DecompressionBombWarning as e:
            raise ImageRejected(f"decompression bomb: {e}") from None
        except UnidentifiedImageError:
            raise ImageRejected("not an image") from None
        except Image.DecompressionBombError as e:
            raise ImageRejected(f"decompression bomb: {e}") from None
        except _DECODE_ERRORS as e:
            raise ImageRejected(f"corrupt image: {e}") from None


def _derive_open(
    im: Image.Image,
    dst: Path | None,
    image: ImageSpec,
    want_phash: bool,
    collect: CollectSpec | None,
    sync: bool,
) -> Derived:
    fmt = _format_name(im.format)
    orientation = _orientation(im)
    width, height = im.size
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    if width * height > MAX_PIXELS:
        raise ImageRejected(f"decompression bomb: {width}x{height} pixels")
    reason = _filter_reason(fmt, width, height, collect) if collect else None
    if reason:
        raise ImageRejected(reason)
    if fmt == "jpeg" and dst is not None:
        im.draft(None, _draft_size(im.size, _stored(image.size, orientation), image.fit))
    im.load()
    rgb = _to_rgb(im, _background(image))
    if orientation in _TRANSPOSE:
        rgb = rgb.transpose(_TRANSPOSE[orientation])
    phash = _phash(rgb) if want_phash else None
    if dst is None:
        return Derived(fmt, width, height, 0, 0, 0, phash)
    out = _fit(rgb, image)
    size = _write_atomic(out, dst, image, sync=sync)
    return Derived(fmt, width, height, out.width, out.height, size, phash)


def _phash(rgb: Image.Image) -> str:
    """imagehash's pHash after a box reduction to 128-255 px on the short side.

    pHash looks at a 32x32 thumbnail anyway; averaging pixels first costs a fraction of
    the direct Lanczos resize from a large image and gives the same bits within a few,
    at any input size.
    """
    factor = max(1, min(rgb.size) // 128)
    small = rgb.reduce(factor) if factor > 1 else rgb
    return str(imagehash.phash(small))


def _format_name(pillow_format: str | None) -> str:
    name = (pillow_format or "unknown").lower()
    return _FORMAT_ALIASES.get(name, name)


def _filter_reason(fmt: str, width: int, height: int, collect: CollectSpec) -> str | None:
    allowed = {_FORMAT_ALIASES.get(f.lower(), f.lower()) for f in collect.formats}
    if allowed and fmt not in allowed:
        return f"format {fmt} not in collect.formats"
    if min(width, height) < collect.min_side:
        return f"too small: {width}x{height} < collect.min_side {collect.min_side}"
    aspect = max(width, height) / max(1, min(width, height))
    if collect.max_aspect and aspect > collect.max_aspect:
        return f"aspect {aspect:.2f} > collect.max_aspect {collect.max_aspect:g}"
    return None


def _orientation(im: Image.Image) -> int:
    try:
        value = im.getexif().get(_ORIENTATION_TAG, 1)
    except _DECODE_ERRORS:  # a broken EXIF block should not lose an otherwise fine photo
        return 1
    return value if isinstance(value, int) else 1


def _stored(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    """The target size in the file's stored orientation (swapped for 90-degree turns)."""
    return (size[1], size[0]) if orientation in (5, 6, 7, 8) else size


def _draft_size(src: tuple[int, int], target: tuple[int, int], fit: str) -> tuple[int, int]:
    """The smallest decode size from which `fit` can still make `target` without upscaling.

    JPEG's DCT scaling (1/2, 1/4, 1/8) decodes far less data; draft picks the
    largest reduction that keeps both sides at or above this size.
    """
    if fit == "stretch":
        return target
    sx, sy = target[0] / src[0], target[1] / src[1]
    scale = max(sx, sy) if fit == "crop" else min(sx, sy)
    return max(1, math.ceil(src[0] * scale)), max(1, math.ceil(src[1] * scale))


def _to_rgb(im: Image.Image, background: tuple[int, int, int]) -> Image.Image:
    if im.mode == "RGB":
        return im
    if im.mode.startswith(("I", "F")):
        return _high_depth_to_rgb(im)
    if (im.mode == "P" and "transparency" in im.info) or im.mode in ("LA", "La", "PA", "RGBa"):
        im = im.convert("RGBA")
    if im.mode == "RGBA":
        flat = Image.new("RGB", im.size, background)
        flat.paste(im, mask=im.getchannel("A"))
        return flat
    return im.convert("RGB")


def _high_depth_to_rgb(im: Image.Image) -> Image.Image:
    # Pillow's own I;16 -> RGB conversion clips at 255 (a white image); scale instead.
    values = np.asarray(im, dtype=np.float32)
    top = 65535.0 if im.mode.startswith("I") else max(255.0, float(values.max(initial=0)))
    grey = np.clip(values * (255.0 / top), 0, 255).astype(np.uint8)
    return Image.fromarray(grey, "L").convert("RGB")


def _background(image: ImageSpec) -> tuple[int, int, int]:
    colour = ImageColor.getrgb(image.background)
    return colour[0], colour[1], colour[2]


def _fit(im: Image.Image, image: ImageSpec) -> Image.Image:
    # Bicubic, not Lanczos: after draft() the reduction left is under 2x, where the two
    # look alike, and bicubic costs 30% less (Pillow's filters antialias either way).
    tw, th = image.size
    if image.fit == "stretch":
        return im.resize((tw, th), _RESAMPLE)
    if image.fit == "crop":
        return im.resize((tw, th), _RESAMPLE, box=_cover_box(im.size, (tw, th)))
    scale = min(tw / im.width, th / im.height)
    w, h = max(1, round(im.width * scale)), max(1, round(im.height * scale))
    canvas = Image.new("RGB", (tw, th), _background(image))
    canvas.paste(im.resize((w, h), _RESAMPLE), ((tw - w) // 2, (th - h) // 2))
    return canvas


def _cover_box(src: tuple[int, int], target: tuple[int, int]) -> tuple[float, float, float, float]:
    """The centred region of `src` with `target`'s aspect ratio (resize's box= crops free)."""
    sw, sh = src
    want = target[0] / target[1]
    if sw / sh > want:
        w = sh * want
        return ((sw - w) / 2, 0.0, (sw + w) / 2, float(sh))
    h = sw / want
    return (0.0, (sh - h) / 2, float(sw), (sh + h) / 2)


def _write_atomic(im: Image.Image, dst: Path, image: ImageSpec, *, sync: bool) -> int:
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dst.parent, prefix=".tmp-", suffix=dst.suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            _save(im, f, image)
            size = f.tell()
            if sync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, dst)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return size


def _save(im: Image.Image, f: IO[bytes], image: ImageSpec) -> None:
    if image.format == "jpeg":
        im.save(f, "JPEG", quality=image.quality)
    elif image.format == "webp":
        im.save(f, "WEBP", quality=image.quality)
    else:
        im.save(f, "PNG")
