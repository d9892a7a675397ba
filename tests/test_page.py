"""The task page template, for the local page and for Toloka's classic view."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
from jinja2.exceptions import SecurityError

from tests.crowd.specs import make_spec
from yamlset.errors import YamlsetError
from yamlset.page import render_page
from yamlset.spec.model import Spec

EVIL_TITLE = "<script>alert(1)</script>"
EVIL_MD = (
    "# Look\n\n<img src=x onerror=\"alert('md')\">\n\n"
    '[click](javascript:alert(2)) <a href="https://ok.example/" onclick="alert(3)">ok</a>\n\n'
    "<script>alert(4)</script>\n"
)


@pytest.fixture
def evil(tmp_path: Path) -> Spec:
    return make_spec(
        tmp_path, classes=(("cat", EVIL_TITLE), ("dog", "Dog {{x}}")), instructions=EVIL_MD
    )


def test_local_page_is_self_contained(tmp_path: Path) -> None:
    spec = make_spec(tmp_path, instructions="Pick **one**.", size=(299, 224))
    page = render_page(spec, backend="local", api_base="http://127.0.0.1:9/")
    assert page.html.startswith("<!doctype html>")
    assert '<meta name="viewport"' in page.html
    assert f"<style>{page.css}</style>" in page.html
    assert f"<script>{page.js}</script>" in page.html  # the server hashes these for its CSP
    assert "<strong>one</strong>" in page.html
    config = re.search(
        r'<script type="application/json" id="ys-config">(.*?)</script>', page.html, re.S
    )
    assert config is not None
    assert json.loads(config.group(1)) == {
        "apiBase": "http://127.0.0.1:9",
        "token": "",
        "width": 299,
        "height": 224,
    }
    assert re.search(r"""(src|href)=["']?(https?:)?//""", page.html) is None  # no CDN
    assert "{{" not in page.html


def test_local_page_without_instructions(tmp_path: Path) -> None:
    page = render_page(make_spec(tmp_path), backend="local")
    assert 'id="instructions"' not in page.html
    assert '"token": ""' in page.html


def test_toloka_view_uses_handlebars_helpers(tmp_path: Path) -> None:
    page = render_page(make_spec(tmp_path, size=(299, 299)), backend="toloka")
    assert '{{img src=image width="299px" height="299px"}}' in page.html
    radios = re.findall(r"\{\{field [^}]*\}\}", page.html)
    assert radios == [
        '{{field type="radio" name="result" value="cat" label="Cat" hotkey="1"}}',
        '{{field type="radio" name="result" value="dog" label="Dog" hotkey="2"}}',
        '{{field type="radio" name="result" value="other" label="Someone else / no one"'
        ' hotkey="3"}}',
    ]
    assert "<html" not in page.html and "<script" not in page.html
    assert "exports.Task = extend(TolokaHandlebarsTask" in page.js
    assert ".ys-task" in page.css


def test_files_backend_gets_the_toloka_view(tmp_path: Path) -> None:
    spec = make_spec(tmp_path)
    assert render_page(spec, backend="files") == render_page(spec, backend="toloka")


def test_a_hostile_class_title_is_inert_everywhere(evil: Spec) -> None:
    for backend in ("local", "toloka"):
        page = render_page(evil, backend=backend)
        assert EVIL_TITLE not in page.html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.html
    toloka = render_page(evil, backend="toloka").html
    assert "{{x}}" not in toloka  # handlebars must not evaluate text from a title
    assert 'label="Dog &#123;&#123;x&#125;&#125;"' in toloka


def test_hostile_instructions_are_sanitised(evil: Spec) -> None:
    html = render_page(evil, backend="local").html
    instructions = html[html.index('<div class="md">') : html.index("</details>")]
    assert "<h1>Look</h1>" in instructions
    assert "onerror" not in instructions and "onclick" not in instructions
    assert "javascript:" not in instructions
    assert "<script" not in instructions
    assert 'href="https://ok.example/"' in instructions


def test_a_missing_template_or_instructions_is_a_user_error(tmp_path: Path) -> None:
    spec = make_spec(tmp_path)
    missing = dataclasses.replace(spec.project, template="nope")
    with pytest.raises(YamlsetError, match="no template 'nope'"):
        render_page(dataclasses.replace(spec, project=missing), backend="local")
    gone = dataclasses.replace(spec.project, instructions=Path("gone.md"))
    with pytest.raises(YamlsetError, match=r"gone\.md"):
        render_page(dataclasses.replace(spec, project=gone), backend="local")


def test_a_custom_template_runs_in_the_sandbox(tmp_path: Path) -> None:
    (tmp_path / "mine.html.j2").write_text(
        "{% block css %}{% endblock %}{% block js %}{% endblock %}"
        "{% block task %}{{ title.__class__.__mro__ }}{% endblock %}"
    )
    spec = make_spec(tmp_path)
    spec = dataclasses.replace(
        spec, project=dataclasses.replace(spec.project, template="mine.html.j2")
    )
    with pytest.raises(SecurityError):
        render_page(spec, backend="toloka")


def test_a_template_must_define_the_blocks(tmp_path: Path) -> None:
    (tmp_path / "bare.html.j2").write_text("<p>{{ title }}</p>")
    spec = make_spec(tmp_path)
    spec = dataclasses.replace(
        spec, project=dataclasses.replace(spec.project, template="bare.html.j2")
    )
    with pytest.raises(YamlsetError, match="no block css, js, task"):
        render_page(spec, backend="local")
