from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from tests.fakes import images as fake
from yamlset.imaging import (
    Derived,
    ImageRejected,
    check_filters,
    derived_name,
    probe_and_derive,
)
from yamlset.spec.model import CollectSpec, ImageSpec

SHA = "ab" * 32


def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _derive(src: Path, image: ImageSpec, **kw: object) -> tuple[Derived, Image.Image]:
    dst = src.parent / "out" / derived_name(SHA, image)
    d = probe_and_derive(src, dst, image, want_phash=False, **kw)  # type: ignore[arg-type]
    with Image.open(dst) as out:
        out.load()
        return d, out.convert("RGB")


def _near(pixel: object, colour: tuple[int, int, int], tol: int = 40) -> bool:
    assert isinstance(pixel, tuple)
    return all(abs(a - b) <= tol for a, b in zip(pixel, colour, strict=True))


def test_crop_makes_exactly_the_target_size_from_a_large_photo(tmp_path: Path) -> None:
    src = _file(tmp_path, "big.jpg", fake.jpeg((3000, 2000)))
    d, out = _derive(src, ImageSpec(size=(299, 299), fit="crop"))
    assert (d.format, d.width, d.height) == ("jpeg", 3000, 2000)
    assert (d.out_width, d.out_height) == out.size == (299, 299)
    assert d.out_bytes == (src.parent / "out" / derived_name(SHA, ImageSpec())).stat().st_size
    # Centre crop of a red|blue image keeps both halves.
    assert _near(out.getpixel((10, 150)), fake.RED)
    assert _near(out.getpixel((290, 150)), fake.BLUE)


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    # Stored 640x480 red|blue; orientation 6 shows it turned a quarter clockwise:
    # 480 wide, 640 high, red on top.
    src = _file(tmp_path, "r.jpg", fake.jpeg((640, 480), orientation=6))
    d, out = _derive(src, ImageSpec(size=(100, 100), fit="stretch"))
    assert (d.width, d.height) == (480, 640)
    assert _near(out.getpixel((50, 10)), fake.RED)
    assert _near(out.getpixel((50, 90)), fake.BLUE)


def test_pad_fills_with_the_background_colour(tmp_path: Path) -> None:
    src = _file(tmp_path, "wide.jpg", fake.jpeg((400, 200)))
    _, out = _derive(src, ImageSpec(size=(100, 100), fit="pad", background="#00ff00"))
    assert out.size == (100, 100)
    assert _near(out.getpixel((50, 5)), (0, 255, 0))
    assert _near(out.getpixel((10, 50)), fake.RED)


@pytest.mark.parametrize(
    ("data", "fmt", "left"),
    [
        (fake.cmyk_jpeg(), "jpeg", fake.RED),
        (fake.palette_png(), "png", (0, 255, 0)),  # transparent half -> background
        (fake.webp(), "webp", fake.RED),
    ],
)
def test_any_mode_becomes_rgb(
    tmp_path: Path, data: bytes, fmt: str, left: tuple[int, int, int]
) -> None:
    src = _file(tmp_path, "in", data)
    image = ImageSpec(size=(64, 64), fit="stretch", background="#00ff00", format="png")
    d, out = _derive(src, image)
    assert d.format == fmt
    assert _near(out.getpixel((5, 32)), left)
    assert _near(out.getpixel((60, 32)), fake.BLUE)


def test_sixteen_bit_grey_is_scaled_not_clipped(tmp_path: Path) -> None:
    src = _file(tmp_path, "deep.png", fake.deep_png(value=32768))
    _, out = _derive(src, ImageSpec(size=(50, 50), format="png"))
    assert _near(out.getpixel((25, 25)), (128, 128, 128), tol=2)


@pytest.mark.parametrize(("fmt", "pillow"), [("png", "PNG"), ("webp", "WEBP"), ("jpeg", "JPEG")])
def test_writes_the_requested_format(tmp_path: Path, fmt: str, pillow: str) -> None:
    src = _file(tmp_path, "p.jpg", fake.jpeg())
    image = ImageSpec(size=(80, 60), format=fmt)
    dst = tmp_path / "out" / derived_name(SHA, image)
    probe_and_derive(src, dst, image, want_phash=False)
    with Image.open(dst) as out:
        assert (out.format, out.size) == (pillow, (80, 60))
    assert [p.name for p in dst.parent.iterdir()] == [dst.name]  # no temp file left


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"<!doctype html><html>nope</html>", "not an image"),
        (fake.jpeg((800, 600))[:4000], "corrupt image"),
        (fake.bomb_png(), "decompression bomb"),
    ],
)
def test_unusable_files_are_rejected_with_a_reason(
    tmp_path: Path, data: bytes, reason: str
) -> None:
    src = _file(tmp_path, "x.jpg", data)
    dst = tmp_path / "out" / "x.jpg"
    with pytest.raises(ImageRejected) as e:
        probe_and_derive(src, dst, ImageSpec(), want_phash=True)
    assert e.value.reason.startswith(reason)
    assert not dst.parent.exists() or not any(dst.parent.iterdir())


@pytest.mark.parametrize(
    ("size", "collect", "reason"),
    [
        ((120, 90), CollectSpec(min_side=200), "too small: 120x90"),
        ((2000, 300), CollectSpec(min_side=200, max_aspect=4.0), "aspect 6.67"),
        ((640, 480), CollectSpec(formats=("png", "webp")), "format jpeg not in"),
    ],
)
def test_collect_filters_reject_before_writing(
    tmp_path: Path, size: tuple[int, int], collect: CollectSpec, reason: str
) -> None:
    src = _file(tmp_path, "x.jpg", fake.jpeg(size))
    dst = tmp_path / "x-out.jpg"
    with pytest.raises(ImageRejected, match=reason):
        probe_and_derive(src, dst, ImageSpec(), want_phash=False, collect=collect)
    assert not dst.exists()


def test_check_filters_on_a_probe(tmp_path: Path) -> None:
    src = _file(tmp_path, "x.jpg", fake.jpeg((300, 250)))
    d = probe_and_derive(src, None, ImageSpec(), want_phash=False)
    assert (d.out_width, d.out_bytes) == (0, 0)
    assert check_filters(d, CollectSpec(min_side=200)) is None
    assert check_filters(d, CollectSpec(min_side=260)) == (
        "too small: 300x250 < collect.min_side 260"
    )


def test_phash_survives_resizing_and_tells_images_apart(tmp_path: Path) -> None:
    def phash(name: str, data: bytes) -> int:
        d = probe_and_derive(_file(tmp_path, name, data), None, ImageSpec(), want_phash=True)
        assert d.phash is not None and len(d.phash) == 16
        return int(d.phash, 16)

    big = phash("big.jpg", fake.jpeg((1600, 1200)))
    small = phash("small.jpg", fake.jpeg((400, 300)))
    noise = Image.effect_noise((400, 300), 80).convert("RGB")
    other = phash("other.jpg", fake.encode(noise, "JPEG"))
    assert bin(big ^ small).count("1") <= 6
    assert bin(big ^ other).count("1") > 6


def test_derived_names_are_stable_and_differ_by_parameters() -> None:
    base = ImageSpec(size=(299, 299), fit="crop", format="jpeg", quality=90)
    assert derived_name(SHA, base) == f"{SHA}-299x299-crop-q90.jpg"
    variants = [
        base,
        ImageSpec(size=(224, 224)),
        ImageSpec(fit="pad"),
        ImageSpec(fit="pad", background="#ffffff"),
        ImageSpec(quality=80),
        ImageSpec(format="png"),
        ImageSpec(format="webp"),
    ]
    assert len({derived_name(SHA, v) for v in variants}) == len(variants)


def test_bytes_given_by_the_caller_derive_like_the_file(tmp_path: Path) -> None:
    src = _file(tmp_path, "big.jpg", fake.jpeg((1600, 1200), orientation=6))
    image = ImageSpec(size=(299, 299), fit="crop")
    from_file = probe_and_derive(src, tmp_path / "a.jpg", image, want_phash=True)
    data = src.read_bytes()
    src.unlink()  # only the bytes are read
    from_bytes = probe_and_derive(src, tmp_path / "b.jpg", image, want_phash=True, data=data)
    assert from_bytes == from_file
    assert (tmp_path / "a.jpg").read_bytes() == (tmp_path / "b.jpg").read_bytes()
