"""The task page: one jinja2 template rendered for the local server or for Toloka's task view.

Everything that reaches a template (class titles, instructions, anything from the web) is
untrusted, so templates run in jinja2's sandbox with autoescaping on, and the instructions'
Markdown is rendered and then sanitised before it is marked safe.

A template defines three blocks: `css`, `js` and `task` (Toloka's handlebars markup for one
task). Rendered whole with `backend="local"`, it is the self-contained local labeling page,
which inlines the `css` and `js` blocks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import markdown
import nh3
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from yamlset.errors import YamlsetError
from yamlset.resources import find_template
from yamlset.spec.model import Spec

LOCAL = "local"
TOLOKA_VIEWS = ("toloka", "files")  # the files backend's pool runs in Toloka's web UI too
BLOCKS = ("css", "js", "task")


@dataclass(frozen=True)
class RenderedPage:
    """For "local": `html` is the whole page (with `css` and `js` inlined in it).
    For Toloka: the three parts of a classic HTML/JS/CSS task view."""

    html: str
    css: str
    js: str


def sandboxed_env(folder: Path | None = None) -> SandboxedEnvironment:
    """The environment every yamlset template runs in: sandboxed, autoescaped, strict."""
    env = SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(str(folder)) if folder else None,
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["hb"] = handlebars_text
    return env


def handlebars_text(value: object) -> Markup:
    """HTML-escape `value` and hide its braces, so Toloka's handlebars never sees an expression
    in it (a class titled `{{x}}` must show as text, not be evaluated)."""
    return Markup(str(escape(value)).replace("{", "&#123;").replace("}", "&#125;"))


def instructions_html(spec: Spec) -> Markup:
    """The project's Markdown instructions as sanitised HTML ("" when there are none)."""
    if spec.project.instructions is None:
        return Markup("")
    path = spec.root / spec.project.instructions
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise YamlsetError(f"project.instructions: cannot read {path}: {e.strerror}") from None
    html = markdown.markdown(text, extensions=["extra", "sane_lists"])
    # nh3 (ammonia) keeps a safe tag list and drops scripts, event handlers and javascript: URLs
    return Markup(nh3.clean(html))


def render_page(spec: Spec, *, backend: str, api_base: str = "", token: str = "") -> RenderedPage:
    """Render the spec's task page for `backend` ("local", or "toloka"/"files" for Toloka).

    `token` ends up inside the page: leave it empty when the page is saved anywhere; the local
    page then takes the token from its own URL."""
    if backend != LOCAL and backend not in TOLOKA_VIEWS:
        raise ValueError(f"no task page for backend {backend!r}")
    template = _load(spec)
    context = _context(spec, backend=backend, api_base=api_base, token=token)
    css, js, task = (_block(template, name, context) for name in BLOCKS)
    if backend == LOCAL:
        return RenderedPage(html=template.render(context), css=css, js=js)
    return RenderedPage(html=task, css=css, js=js)


def _load(spec: Spec) -> jinja2.Template:
    path = find_template(spec.project.template, spec.root)
    if path is None:
        raise YamlsetError(f"project.template: no template {spec.project.template!r}")
    template = sandboxed_env(path.parent).get_template(path.name)
    missing = [name for name in BLOCKS if name not in template.blocks]
    if missing:
        raise YamlsetError(f"{path}: the template has no block {', '.join(missing)}")
    return template


def _context(spec: Spec, *, backend: str, api_base: str, token: str) -> dict[str, Any]:
    width, height = spec.image.size
    return {
        "title": spec.project.title,
        "description": spec.project.description,
        "instructions_html": instructions_html(spec),
        "options": spec.options(),
        "tasks_per_page": spec.pool.tasks_per_page,
        "image_width": width,
        "image_height": height,
        "backend": backend,
        "api_base": api_base.rstrip("/"),
        "token": token,
    }


def _block(template: jinja2.Template, name: str, context: dict[str, Any]) -> str:
    return "".join(template.blocks[name](template.new_context(context)))
