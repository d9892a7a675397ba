"""Validated data (defaults applied) to the frozen Spec."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from yamlset.spec import model as m
from yamlset.spec.durations import parse_duration

_SOURCE_FIELDS = ("type", "api_url", "per_query")


def build(data: dict[str, Any], path: Path, environ: Mapping[str, str]) -> m.Spec:
    """The Spec of a valid spec file at `path`; relative paths resolve against its folder."""
    root = path.parent
    name: str = data["name"]
    return m.Spec(
        path=path,
        name=name,
        classes=tuple(_class(key, value, root) for key, value in data["classes"].items()),
        collect=_collect(data["collect"], environ),
        image=_image(data["image"]),
        crowd=_crowd(data["crowd"], root, name),
        hosting=_hosting(data["hosting"]),
        project=_project(data["project"], root),
        pool=_pool(data["pool"], root),
        aggregation=m.AggregationSpec(**data["aggregation"]),
        output=_output(data["output"], root, name),
        description=data["description"],
        budget=data["budget"],
        version=data["version"],
        raw=data,
    )


def _path(root: Path, value: str | None) -> Path | None:
    return None if value is None else (root / value).resolve()


def _seconds(value: str) -> int | None:
    return None if value == "forever" else parse_duration(value)


def _class(key: str, value: dict[str, Any], root: Path) -> m.ClassSpec:
    return m.ClassSpec(
        key=key,
        title=value["title"] or key,
        queries=tuple(value["queries"]),
        target=value["target"],
        urls=_path(root, value["urls"]),
        folder=_path(root, value["folder"]),
    )


def _source(entry: str | dict[str, Any]) -> m.SourceSpec:
    if isinstance(entry, str):
        return m.SourceSpec(entry)
    # Only the overrides actually written: a None means "the collect default".
    options = tuple(
        sorted((k, v) for k, v in entry.items() if k not in _SOURCE_FIELDS and v is not None)
    )
    return m.SourceSpec(entry["type"], entry.get("api_url"), entry.get("per_query"), options)


def _collect(data: dict[str, Any], environ: Mapping[str, str]) -> m.CollectSpec:
    plain: dict[str, Any] = {
        k: tuple(v) if isinstance(v, list) else v
        for k, v in data.items()
        if k not in ("sources", "contact")
    }
    return m.CollectSpec(
        **plain,
        sources=tuple(_source(s) for s in data["sources"]),
        contact=data["contact"] or environ.get("YAMLSET_CONTACT") or None,
    )


def _image(data: dict[str, Any]) -> m.ImageSpec:
    width, height = data["size"]
    return m.ImageSpec(**{**data, "size": (width, height)})


def _crowd(data: dict[str, Any], root: Path, name: str) -> m.CrowdSpec:
    return m.CrowdSpec(
        **{
            **data,
            "labelers": tuple(data["labelers"]),
            "tasks_file": _path(root, data["tasks_file"] or f"{name}.tasks.tsv"),
            "results_file": _path(root, data["results_file"] or f"{name}.results.tsv"),
        }
    )


def _hosting(data: dict[str, Any]) -> m.HostingSpec:
    plain = {k: v for k, v in data.items() if k != "url_lifetime"}
    return m.HostingSpec(**plain, url_lifetime_s=parse_duration(data["url_lifetime"]))


def _project(data: dict[str, Any], root: Path) -> m.ProjectSpec:
    return m.ProjectSpec(**{**data, "instructions": _path(root, data["instructions"])})


def _pool(data: dict[str, Any], root: Path) -> m.PoolSpec:
    filters: dict[str, Any] = {
        k: tuple(v) if isinstance(v, list) else v for k, v in data["filters"].items()
    }
    training = data["training"]
    return m.PoolSpec(
        price_per_page=data["price_per_page"],
        fee=m.FeeSpec(**data["fee"]),
        tasks_per_page=data["tasks_per_page"],
        overlap=data["overlap"],
        time_per_page_s=parse_duration(data["time_per_page"]),
        adult_content=data["adult_content"],
        review=data["review"],
        review_period_s=parse_duration(data["review_period"]),
        accept_threshold=data["accept_threshold"],
        reject_comment=data["reject_comment"],
        expires_s=parse_duration(data["expires"]),
        filters=m.FiltersSpec(**filters),
        quality_control=_quality_control(data["quality_control"], root),
        training=None
        if training is None
        else m.TrainingSpec(**{**training, "tasks": (root / training["tasks"]).resolve()}),
    )


def _quality_control(data: dict[str, Any], root: Path) -> m.QualityControlSpec:
    fast, golden, skipped, skill = (
        data[k] for k in ("fast_responses", "golden", "skipped", "majority_skill")
    )
    return m.QualityControlSpec(
        fast_responses=None
        if fast is None
        else m.FastResponsesSpec(
            faster_than_s=parse_duration(fast["faster_than"]),
            count=fast["count"],
            of=fast["of"],
            ban_s=_seconds(fast["ban"]),
        ),
        golden=None
        if golden is None
        else m.GoldenSpec(
            tasks=(root / golden["tasks"]).resolve(),
            ratio=golden["ratio"],
            min_correct_percent=golden["min_correct_percent"],
            of=golden["of"],
            ban_s=_seconds(golden["ban"]),
        ),
        skipped=None
        if skipped is None
        else m.SkippedSpec(in_a_row=skipped["in_a_row"], ban_s=_seconds(skipped["ban"])),
        majority_skill=None if skill is None else m.MajoritySkillSpec(**skill),
    )


def _output(data: dict[str, Any], root: Path, name: str) -> m.OutputSpec:
    return m.OutputSpec(
        dir=(root / (data["dir"] or f"datasets/{name}")).resolve(),
        splits=tuple((k, float(v)) for k, v in data["splits"].items()),
        seed=data["seed"],
        report=data["report"],
    )
