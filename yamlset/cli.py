"""The command line: parse, call one core function, render. No logic lives here."""

from __future__ import annotations

import functools
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from yamlset import __version__, remote, render
from yamlset.crowd.base import Progress as ProgressHooks
from yamlset.errors import SpecError, StalePlanError, YamlsetError
from yamlset.stages.base import STAGES

F = TypeVar("F", bound=Callable[..., Any])
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def _errors(fn: F) -> F:
    """One error path: a user's mistake is one line and exit 1; a bug says how to see more."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = click.get_current_context().find_root().params.get("debug", False)
        try:
            return fn(*args, **kwargs)
        except SpecError as exc:
            for problem in exc.problems:
                err.print(str(problem), markup=False, soft_wrap=True)
            n = len(exc.problems)
            err.print(f"[red]{n} problem{'s' if n != 1 else ''} found[/red]")
            sys.exit(1)
        except YamlsetError as exc:
            if debug:
                raise
            err.print(f"[red]Error:[/red] {exc}", soft_wrap=True, markup=True)
            sys.exit(1)
        except KeyboardInterrupt:
            err.print(
                "[yellow]Interrupted.[/yellow] Work done so far is saved; run again to continue."
            )
            sys.exit(130)
        except Exception as exc:
            if debug:
                raise
            err.print(
                f"[red]Unexpected error:[/red] {type(exc).__name__}: {exc}\n"
                "Run again with --debug for the traceback, and please report it.",
                markup=True,
                soft_wrap=True,
            )
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="yamlset")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
def main(debug: bool) -> None:
    """Build a verified image dataset from one YAML spec and a crowd.

    validate checks a spec, plan shows what apply would search, download, create,
    pay and write, and apply does it; run apply again at any time to continue.
    """


def _load(path: str) -> Any:
    from yamlset.spec import load

    return load(Path(path), environ=os.environ)


@main.command()
@click.argument("specs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@_errors
def validate(specs: tuple[str, ...]) -> None:
    """Check specs against the schema and the semantic rules; report every problem."""
    from yamlset.spec import validate as check

    problems = [p for path in specs for p in check(Path(path))]
    if problems:
        raise SpecError(problems)
    for path in specs:
        out.print(f"{path}: ok", markup=False)


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False),
    help="Save the plan; `yamlset apply FILE` carries out exactly it.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
)
@click.option(
    "--detailed-exitcode", is_flag=True, help="Exit 0 when there are no changes, 2 when there are."
)
@_errors
def plan(spec: str, out_file: str | None, fmt: str, detailed_exitcode: bool) -> None:
    """Show what apply would do. Reads only; needs no credentials for a new spec."""
    from yamlset import plan as planning
    from yamlset.stages.collect import survey
    from yamlset.state import Store

    s = _load(spec)
    store = Store.open(s.state_dir, create=False)
    try:
        p = planning.make_plan(s, store, survey(s), remote.read(s, store, os.environ))
    finally:
        store.close()
    _print_plan(p, s, fmt)
    if out_file:
        planning.save(p, Path(out_file))
        err.print(f"Saved the plan to {out_file}; `yamlset apply {out_file}` carries it out.")
    if detailed_exitcode and p.has_changes:
        sys.exit(2)


def _print_plan(p: Any, s: Any, fmt: str) -> None:
    if fmt == "json":
        click.echo(render.plan_json(p))
    elif fmt == "markdown":
        click.echo(render.plan_markdown(p, s), nl=False)
    else:
        out.print(render.plan_text(p, s), soft_wrap=True)


@contextmanager
def _progress() -> Iterator[ProgressHooks]:
    # No refresh thread (auto_refresh off; we redraw at most 10 times a second from the
    # callbacks): with a single thread, the decoding pool can fork rather than start a
    # forkserver, which saves ~0.4 s and ~30 MB per apply.
    bars = Progress(
        TextColumn("  {task.description:<10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=False,
        auto_refresh=False,
    )
    tasks: dict[str, Any] = {}
    drawn = [0.0]

    def redraw(*, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - drawn[0] >= 0.1:
            drawn[0] = now
            bars.refresh()

    last = [""]

    def advance(label: str, completed: int, total: int) -> None:
        if label not in tasks:
            tasks[label] = bars.add_task(label, total=total or None)
        bars.update(tasks[label], completed=completed, total=total or None)
        # throttle a stream of one bar's updates, never the last of a burst across bars
        # (the local page moves "answers" then "pages by NAME") nor a bar's completion
        redraw(force=label != last[0] or (bool(total) and completed >= total))
        last[0] = label

    def message(text: str) -> None:
        bars.console.print(text, soft_wrap=True)
        redraw(force=True)

    with bars:
        yield ProgressHooks(message=message, advance=advance)


@main.command()
@click.argument("target", type=click.Path(dir_okay=False))
@click.option("--yes", "-y", is_flag=True, help="Apply without asking.")
@click.option("--until", type=click.Choice(STAGES), help="Stop after this stage.")
@click.option(
    "--no-wait", is_flag=True, help="Do not wait for the crowd: start labeling and return."
)
@click.option(
    "--open", "open_browser", is_flag=True, help="Open the local labeling page in a browser."
)
@_errors
def apply(target: str, yes: bool, until: str | None, no_wait: bool, open_browser: bool) -> None:
    """Carry out the plan for SPEC, or a plan saved by `plan --out`."""
    from yamlset import apply as applying
    from yamlset import plan as planning
    from yamlset.stages.collect import survey
    from yamlset.state import Store

    saved = _saved_plan(Path(target))
    s = _load(saved["spec"] if saved else target)
    # a spec never applied is planned without creating its state, so that a refused or
    # cancelled apply leaves nothing behind
    fresh = not (s.state_dir / "state.db").exists()
    store = Store.open(s.state_dir, create=not fresh)
    try:
        if not fresh:
            store.lock(f"yamlset apply {target}")
        sv = survey(s)
        p = planning.make_plan(s, store, sv, remote.read(s, store, os.environ))
        if saved:
            planning.check_fresh(saved, p, Path(target))
        out.print(render.plan_text(p, s), soft_wrap=True)
        if not p.has_changes:
            return
        if not saved and not yes:
            _confirm()
        if fresh:
            store.close()
            store = Store.open(s.state_dir)
            store.lock(f"yamlset apply {target}")
            if store.serial != p.serial:
                raise StalePlanError("another apply of this spec ran meanwhile; run apply again")
        with _progress() as hooks:
            result = applying.apply(
                s,
                store,
                p,
                sv,
                progress=hooks,
                environ=os.environ,
                until=until,
                wait=not no_wait,
                open_browser=open_browser,
            )
        if result.waiting:
            out.print("Stopped at labeling; run `yamlset apply` again to continue.", soft_wrap=True)
        else:
            out.print(
                f"[green]Apply complete[/green] ({', '.join(result.stages_run)}) "
                f"in {result.elapsed_s:.1f} s.",
                soft_wrap=True,
            )
    finally:
        store.close()


def _saved_plan(path: Path) -> dict[str, Any] | None:
    if path.suffix != ".json":
        return None
    from yamlset.plan import load_saved

    return load_saved(path)


def _confirm() -> None:
    if not sys.stdin.isatty():
        raise YamlsetError("not asking for confirmation without a terminal; pass --yes to apply")
    if not click.confirm("Apply this plan?", default=False):
        raise YamlsetError("apply cancelled; nothing was changed")


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@_errors
def show(spec: str, fmt: str) -> None:
    """What the state holds: counts per stage, failures, remote objects, answers, spend."""
    from yamlset.show import collect_state
    from yamlset.state import Store

    s = _load(spec)
    if not (s.state_dir / "state.db").exists():
        out.print(
            f"{s.name}: nothing applied yet; `yamlset plan {spec}` shows what apply would do."
        )
        return
    store = Store.open(s.state_dir, create=False)
    try:
        data = collect_state(s, store)
    finally:
        store.close()
    if fmt == "json":
        click.echo(json.dumps(data, indent=2, default=str))
    else:
        out.print(render.show_text(data), soft_wrap=True)


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--host", default=None, help="Address to bind (default: the spec's, 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default: the spec's, 8765).")
@click.option("--token", default=None, help="Fix the access token instead of a random one.")
@_errors
def serve(spec: str, host: str | None, port: int | None, token: str | None) -> None:
    """Serve the local labeling page alone, for the images prepared so far."""
    from yamlset.crowd.local import serve as serve_page
    from yamlset.stages import label
    from yamlset.state import Store

    s = _load(spec)
    store = Store.open(s.state_dir)
    try:
        tasks = label.tasks(s, store)
        if not tasks:
            raise YamlsetError("no images are ready to label; run `yamlset apply --until resize`")
        with _progress() as hooks:
            serve_page(
                s,
                store,
                tasks,
                host=host or s.crowd.host,
                port=s.crowd.port if port is None else port,
                token=token,
                progress=hooks,
            )
    finally:
        store.close()


@main.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "markdown"]),
    default="json",
    show_default=True,
    help="markdown: the key-by-key reference in docs/spec.md.",
)
@_errors
def schema(fmt: str) -> None:
    """Print the JSON Schema of the spec format (for editors and CI)."""
    from yamlset.spec import schema as get_schema

    if fmt == "markdown":
        from yamlset.spec.reference import markdown

        click.echo(markdown(get_schema()), nl=False)
    else:
        click.echo(json.dumps(get_schema(), indent=2))


@main.command()
@click.argument("name")
@click.option("--classes", required=True, help="Comma-separated class keys, e.g. cat,dog.")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False),
    default=".",
    show_default=True,
    help="Where to write NAME.yaml.",
)
@_errors
def init(name: str, classes: str, directory: str) -> None:
    """Write a commented starter spec that validates, with a folder per class."""
    from yamlset.spec import starter_spec

    keys = [c.strip() for c in classes.split(",") if c.strip()]
    root = Path(directory)
    path = root / f"{name}.yaml"
    if path.exists():
        raise YamlsetError(f"{path} exists; not overwriting it")
    text = starter_spec(name, keys)
    for key in keys:
        (root / "photos" / key).mkdir(parents=True, exist_ok=True)
    root.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    out.print(f"Wrote {path}. Put images in photos/<class>/, then `yamlset plan {path}`.")


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--yes", "-y", is_flag=True, help="Destroy without asking.")
@_errors
def destroy(spec: str, yes: bool) -> None:
    """Close and archive the Toloka pools and project this spec created, and nothing else."""
    from yamlset.state import Store

    s = _load(spec)
    store = Store.open(s.state_dir, create=False)
    try:
        from yamlset.crowd.toloka_plan import destroyable

        objects = destroyable(s, store)
        if not objects:
            out.print("Nothing to destroy: this spec has created no remote objects.")
            return
        for o in objects:
            out.print(f"  [red]-[/red] {o.kind} {o.remote_id} ({o.key}, {o.status})")
        if not yes:
            _confirm()
        from yamlset.crowd import toloka

        store.lock(f"yamlset destroy {spec}")
        for line in toloka.destroy(s, store, os.environ):
            out.print(f"  {line}")
    finally:
        store.close()
