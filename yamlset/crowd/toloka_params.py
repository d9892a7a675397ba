"""The spec as Toloka objects: pure mapping, no network. Only `crowd.toloka` imports this.

Every object yamlset creates carries a spec-derived key plus a hash of its settings
(`yamlset:<spec>:<environment>:<kind>#<hash>`) in its private comment (projects, pools,
skills) or metadata (trainings), so a create whose answer was lost can be found again.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path
from typing import Any

import toloka.client as tk
from toloka.client import actions, collectors, conditions, filter
from toloka.client.pool.mixer_config import MixerConfig
from toloka.client.pool.speed_quality_balance_config import TopPercentageByQuality
from toloka.client.project.view_spec import ClassicViewSpec

from yamlset.crowd.toloka_plan import KnownTask, training_rows
from yamlset.errors import CrowdError
from yamlset.page import instructions_html, render_page
from yamlset.spec.model import OTHER, Spec

# -- objects --------------------------------------------------------------------------------


def build_skill(spec: Spec, label: str) -> tk.Skill:
    return tk.Skill(name=f"{spec.name} agreement", private_comment=label, hidden=True)


def build_project(spec: Spec, label: str) -> tk.Project:
    page = render_page(spec, backend="toloka")
    values = [value for value, _ in spec.options()]
    return tk.Project(
        public_name=spec.project.title,
        public_description=spec.project.description or spec.description or spec.project.title,
        public_instructions=str(instructions_html(spec)) or spec.project.title,
        private_comment=label,
        task_spec=tk.project.task_spec.TaskSpec(
            input_spec={"image": tk.project.field_spec.UrlSpec()},
            output_spec={"result": tk.project.field_spec.StringSpec(allowed_values=values)},
            view_spec=ClassicViewSpec(markup=page.html, script=page.js, styles=page.css),
        ),
        assignments_issuing_type=tk.Project.AssignmentsIssuingType.AUTOMATED,
    )


def build_training(spec: Spec, project_id: str, label: str) -> tk.Training:
    training = spec.pool.training
    assert training is not None
    return tk.Training(
        project_id=project_id,
        private_name=f"{spec.name} training",
        may_contain_adult_content=spec.pool.adult_content,
        assignment_max_duration_seconds=spec.pool.time_per_page_s,
        mix_tasks_in_creation_order=False,
        shuffle_tasks_in_task_suite=True,
        # a page larger than the training set would never fill
        training_tasks_in_task_suite_count=min(
            training.tasks_per_page, max(1, len(training_rows(spec.root / training.tasks)))
        ),
        task_suites_required_to_pass=1,
        retry_training_after_days=1,
        inherited_instructions=True,
        metadata={"yamlset": [label]},
    )


def build_pool(
    spec: Spec,
    project_id: str,
    label: str,
    *,
    now: datetime.datetime,
    training_id: str | None = None,
    skill_id: str | None = None,
) -> tk.Pool:
    pool = spec.pool
    built = tk.Pool(
        project_id=project_id,
        private_name=f"{spec.name} ({spec.crowd.environment})",
        private_comment=label,
        may_contain_adult_content=pool.adult_content,
        reward_per_assignment=pool.price_per_page,
        assignment_max_duration_seconds=pool.time_per_page_s,
        auto_accept_solutions=pool.review == "auto",
        # Toloka counts the review period in whole days, at least one
        auto_accept_period_day=max(1, -(-pool.review_period_s // 86400)),
        will_expire=now + datetime.timedelta(seconds=pool.expires_s),
        defaults=tk.Pool.Defaults(
            default_overlap_for_new_tasks=pool.overlap,
            default_overlap_for_new_task_suites=pool.overlap,
        ),
        mixer_config=MixerConfig(
            real_tasks_count=pool.tasks_per_page,
            golden_tasks_count=golden_per_page(spec),
            training_tasks_count=0,
        ),
        filter=_filters(spec),
    )
    if pool.filters.rating_top_percent is not None:
        # Toloka's "rating" today is the top share of Tolokers by quality
        built.speed_quality_balance = TopPercentageByQuality(
            percent=pool.filters.rating_top_percent
        )
    if training_id is not None:
        assert pool.training is not None
        built.set_training_requirement(
            tk.quality_control.QualityControl.TrainingRequirement(
                training_pool_id=training_id,
                training_passing_skill_value=pool.training.pass_score,
            )
        )
    _add_rules(spec, built, skill_id)
    return built


def golden_per_page(spec: Spec) -> int:
    golden = spec.pool.quality_control.golden
    return 0 if golden is None else max(1, round(spec.pool.tasks_per_page / golden.ratio))


def _filters(spec: Spec) -> filter.FilterCondition | None:
    wanted = spec.pool.filters
    f: Any = filter  # toloka-kit's filter DSL is untyped
    groups: list[filter.FilterCondition] = []
    if wanted.languages:
        groups.append(f.Languages.in_(list(wanted.languages)))
    makers: list[tuple[tuple[Any, ...], Callable[[Any], Any]]] = [
        (wanted.countries, lambda v: f.Country == v),
        (wanted.regions, lambda v: f.RegionByIp.in_(v)),
        (wanted.client_types, lambda v: f.ClientType == v),
    ]
    for values, make in makers:
        if values:  # any of the values within a group; every group must hold
            groups.append(_any_of([make(v) for v in values]))
    if not groups:
        return None
    return groups[0] if len(groups) == 1 else filter.FilterAnd(groups)


def _any_of(conds: list[filter.FilterCondition]) -> filter.FilterCondition:
    return conds[0] if len(conds) == 1 else filter.FilterOr(conds)


def _add_rules(spec: Spec, pool: tk.Pool, skill_id: str | None) -> None:
    qc = spec.pool.quality_control
    control: Any = pool.quality_control  # toloka-kit creates it with the pool
    if qc.fast_responses is not None:
        fast = qc.fast_responses
        control.add_action(
            collector=collectors.AssignmentSubmitTime(
                history_size=fast.of, fast_submit_threshold_seconds=fast.faster_than_s
            ),
            conditions=[conditions.FastSubmittedCount >= fast.count],
            action=_ban(fast.ban_s, "yamlset: pages submitted too fast"),
        )
    if qc.golden is not None:
        golden = qc.golden
        control.add_action(
            collector=collectors.GoldenSet(history_size=golden.of),
            conditions=[
                conditions.GoldenSetAnswersCount >= golden.of,
                conditions.GoldenSetCorrectAnswersRate < golden.min_correct_percent,
            ],
            action=_ban(golden.ban_s, "yamlset: control tasks failed"),
        )
    if qc.skipped is not None:
        control.add_action(
            collector=collectors.SkippedInRowAssignments(),
            conditions=[conditions.SkippedInRowCount >= qc.skipped.in_a_row],
            action=_ban(qc.skipped.ban_s, "yamlset: pages skipped in a row"),
        )
    if qc.majority_skill is not None:
        if skill_id is None:
            raise CrowdError("pool.quality_control.majority_skill needs its skill created first")
        vote = qc.majority_skill
        control.add_action(
            collector=collectors.MajorityVote(
                answer_threshold=vote.answer_threshold, history_size=vote.history
            ),
            conditions=[conditions.TotalAnswersCount > 0],
            action=actions.SetSkillFromOutputField(
                skill_id=skill_id, from_field="correct_answers_rate"
            ),
        )


def _ban(seconds: int | None, why: str) -> actions.RestrictionV2:
    if seconds is None:
        return actions.RestrictionV2(
            scope="PROJECT", duration_unit="PERMANENT", private_comment=why
        )
    for unit, size in (("DAYS", 86400), ("HOURS", 3600)):
        if seconds % size == 0:
            return actions.RestrictionV2(
                scope="PROJECT", duration=seconds // size, duration_unit=unit, private_comment=why
            )
    return actions.RestrictionV2(
        scope="PROJECT",
        duration=max(1, -(-seconds // 60)),
        duration_unit="MINUTES",
        private_comment=why,
    )


# -- task files -------------------------------------------------------------------------------


def known_task(row: KnownTask, pool_id: str) -> tk.Task:
    return tk.Task(
        pool_id=pool_id,
        input_values={"image": row.image},
        known_solutions=[tk.task.BaseTask.KnownSolution(output_values={"result": row.answer})],
        message_on_unknown_solution=row.hint or None,
    )


def check_answers(spec: Spec, rows: list[KnownTask], path: Path) -> None:
    allowed = {*spec.class_keys, OTHER}
    wrong = sorted({r.answer for r in rows} - allowed)
    if wrong:
        raise CrowdError(f"{path}: GOLDEN:result values {wrong} are not class keys")
