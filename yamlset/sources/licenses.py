"""License names as the services write them, reduced to one short vocabulary.

Commons gives free text (`LicenseShortName` "CC BY-SA 4.0", "Public domain", ...) and a
`LicenseUrl`; Openverse gives codes ("by-sa", "cc0", "pdm") and a version. Everything
downstream (the license filter, the manifest, credit lines) works on the short form.
"""

from __future__ import annotations

import re

SHORT_NAMES = ("cc0", "pdm", "by", "by-sa", "by-nd", "by-nc", "by-nc-sa", "by-nc-nd", "gfdl")

_CC_URL = re.compile(r"creativecommons\.org/licenses/([a-z-]+)/(\d+(?:\.\d+)?)")
_CC0_URL = re.compile(r"creativecommons\.org/publicdomain/zero/(\d+(?:\.\d+)?)")
_PDM_URL = re.compile(r"creativecommons\.org/publicdomain/mark/(\d+(?:\.\d+)?)")
_GFDL_URL = re.compile(r"gnu\.org/(?:copyleft/fdl|licenses/fdl)(?:-(\d+(?:\.\d+)?))?")
_CC_NAME = re.compile(r"^cc[\s-]*(by(?:[\s-]+(?:nc|nd|sa))*)(?:[\s-]+(\d+(?:\.\d+)?))?\b")
_CC0_NAME = re.compile(r"^cc[\s-]*(?:0|zero)(?:[\s-]+(\d+(?:\.\d+)?))?\b")
_GFDL_NAME = re.compile(r"^gfdl(?:[\s-]+(\d+(?:\.\d+)?))?")
_VERSION = re.compile(r"\b(\d+\.\d+)\b")


def normalise(name: str, url: str = "") -> tuple[str, str]:
    """(short, version) for a license name and/or URL; ("", "") when it is not recognised.

    The URL wins over the name because it is the less ambiguous of the two.
    """
    return _from_url(url.lower()) or _from_name(name) or ("", "")


def allowed(short: str, wanted: tuple[str, ...]) -> bool:
    """Whether a candidate with license `short` passes a `collect.licenses` filter.

    An empty filter allows everything; a set filter drops unknown licenses.
    """
    return not wanted or (short != "" and short in wanted)


def label(short: str, version: str = "") -> str:
    """The human name of a license: "CC BY-SA 4.0", "CC0 1.0", "" for unknown."""
    if short == "cc0":
        base = "CC0"
    elif short == "pdm":
        base = "Public Domain Mark"
    elif short == "gfdl":
        base = "GFDL"
    elif short.startswith("by"):
        base = "CC " + short.upper()
    else:
        return ""
    return f"{base} {version}".strip()


def attribution(title: str, author: str, license: str, version: str, url: str) -> str:
    """A one-line credit: '"Title" by Author is licensed under CC BY 2.0 (url).'

    `url` is the license's URL. An unknown license says so instead of guessing.
    """
    work = f'"{title}"' if title else "This image"
    if author:
        work += f" by {author}"
    name = label(license, version)
    if not name:
        return f"{work} (license unknown)."
    link = f" ({url})" if url else ""
    if license == "cc0":
        return f"{work} is dedicated to the public domain under {name}{link}."
    if license == "pdm":
        return f"{work} is marked with the {name}{link}."
    return f"{work} is licensed under {name}{link}."


def _from_url(url: str) -> tuple[str, str] | None:
    if m := _CC0_URL.search(url):
        return "cc0", m.group(1)
    if m := _PDM_URL.search(url):
        return "pdm", m.group(1)
    if m := _GFDL_URL.search(url):
        return "gfdl", m.group(1) or ""
    if (m := _CC_URL.search(url)) and (short := _cc_code(m.group(1).split("-"))):
        return short, m.group(2)
    return None


def _from_name(name: str) -> tuple[str, str] | None:
    text = name.strip().lower().replace("_", " ")
    if text in SHORT_NAMES:  # Openverse codes come exactly like this
        return text, ""
    if m := _CC0_NAME.match(text):
        return "cc0", m.group(1) or ""
    if text.startswith(("public domain", "pd-", "pdm")) or text in {"pd", "no restrictions"}:
        return "pdm", _version(text)
    if m := _GFDL_NAME.match(text):
        return "gfdl", m.group(1) or ""
    if m := _CC_NAME.match(text):
        short = _cc_code(re.split(r"[\s-]+", m.group(1)))
        return (short, m.group(2) or "") if short else None
    return None


def _cc_code(parts: list[str]) -> str:
    """by + elements in the canonical order (by-nc-sa, never by-sa-nc); "" if impossible."""
    elements = set(parts)
    if "by" not in elements or not elements <= {"by", "nc", "nd", "sa"}:
        return ""
    if {"nd", "sa"} <= elements:  # no such license
        return ""
    code = "by" + ("-nc" if "nc" in elements else "")
    code += "-sa" if "sa" in elements else "-nd" if "nd" in elements else ""
    return code


def _version(text: str) -> str:
    m = _VERSION.search(text)
    return m.group(1) if m else ""
