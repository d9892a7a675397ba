from __future__ import annotations

import pytest

from yamlset.sources import licenses


@pytest.mark.parametrize(
    ("name", "url", "expected"),
    [
        # Commons extmetadata LicenseShortName / LicenseUrl
        ("CC BY-SA 4.0", "https://creativecommons.org/licenses/by-sa/4.0", ("by-sa", "4.0")),
        (
            "CC BY-SA 3.0 de",
            "https://creativecommons.org/licenses/by-sa/3.0/de/deed.en",
            ("by-sa", "3.0"),
        ),
        ("CC BY 2.0", "", ("by", "2.0")),
        ("CC-BY-SA-2.5", "", ("by-sa", "2.5")),
        ("cc-by-nc-sa-2.0", "", ("by-nc-sa", "2.0")),
        ("CC BY-SA 2.5,2.0,1.0", "", ("by-sa", "2.5")),
        ("CC0", "http://creativecommons.org/publicdomain/zero/1.0/deed.en", ("cc0", "1.0")),
        ("CC0 1.0", "", ("cc0", "1.0")),
        ("Public domain", "", ("pdm", "")),
        ("PD-self", "", ("pdm", "")),
        ("", "https://creativecommons.org/publicdomain/mark/1.0/", ("pdm", "1.0")),
        ("GFDL", "http://www.gnu.org/copyleft/fdl.html", ("gfdl", "")),
        ("GFDL 1.2", "", ("gfdl", "1.2")),
        # the URL wins over a name that disagrees
        ("CC BY 3.0", "https://creativecommons.org/licenses/by-nd/4.0/", ("by-nd", "4.0")),
        # Openverse license codes
        ("by", "", ("by", "")),
        ("by-nc-nd", "", ("by-nc-nd", "")),
        ("cc0", "", ("cc0", "")),
        ("pdm", "", ("pdm", "")),
        ("sampling+", "https://creativecommons.org/licenses/sampling+/1.0/", ("", "")),
        # not licenses we can name
        ("Attribution", "", ("", "")),
        ("Copyrighted free use", "", ("", "")),
        ("CC BY-SA-ND 4.0", "", ("", "")),
        ("", "", ("", "")),
    ],
)
def test_normalise(name: str, url: str, expected: tuple[str, str]) -> None:
    assert licenses.normalise(name, url) == expected


def test_every_result_is_in_the_vocabulary() -> None:
    for name in ["CC BY-NC-ND 3.0", "CC BY-ND 2.0", "CC BY-NC 4.0", "cc-by-nc-sa"]:
        assert licenses.normalise(name)[0] in licenses.SHORT_NAMES


@pytest.mark.parametrize(
    ("short", "wanted", "expected"),
    [
        ("by", (), True),
        ("", (), True),
        ("by", ("by", "cc0"), True),
        ("by-sa", ("by", "cc0"), False),
        ("", ("by",), False),
    ],
)
def test_allowed(short: str, wanted: tuple[str, ...], expected: bool) -> None:
    assert licenses.allowed(short, wanted) is expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ("Heron", "Jane Doe", "by-sa", "4.0", "https://creativecommons.org/licenses/by-sa/4.0"),
            '"Heron" by Jane Doe is licensed under CC BY-SA 4.0 '
            "(https://creativecommons.org/licenses/by-sa/4.0).",
        ),
        (
            ("Heron", "", "cc0", "1.0", ""),
            '"Heron" is dedicated to the public domain under CC0 1.0.',
        ),
        (
            ("", "Jane", "pdm", "1.0", ""),
            "This image by Jane is marked with the Public Domain Mark 1.0.",
        ),
        (("Heron", "Jane", "gfdl", "", ""), '"Heron" by Jane is licensed under GFDL.'),
        (("Heron", "", "", "", ""), '"Heron" (license unknown).'),
    ],
)
def test_attribution(args: tuple[str, str, str, str, str], expected: str) -> None:
    assert licenses.attribution(*args) == expected
