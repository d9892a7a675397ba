from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tests.crowd_toloka.conftest import Recorder, backend, context, make_spec
from tests.fakes.toloka import TolokaStandIn, check_request
from yamlset.errors import BudgetError, CrowdError
from yamlset.state import Store


def test_a_missing_token_says_what_to_set(
    tmp_path: Path, api: TolokaStandIn, store: Store, recorder: Recorder
) -> None:
    ctx = context(make_spec(tmp_path), store, api, recorder, environ={"TOLOKA_URL": api.url})
    with pytest.raises(CrowdError, match="set TOLOKA_API_KEY to your Toloka OAuth token"):
        backend(recorder).label(ctx)
    assert api.requests == []


def test_over_budget_names_both_numbers(
    tmp_path: Path, api: TolokaStandIn, store: Store, recorder: Recorder
) -> None:
    spec = dataclasses.replace(make_spec(tmp_path), budget=0.1)
    with pytest.raises(BudgetError) as e:
        backend(recorder).label(context(spec, store, api, recorder, 40))  # 10 pages x 3
    assert "$0.4500" in str(e.value) and "$0.1000" in str(e.value)
    assert all(p["status"] != "OPEN" for p in api.pools.values())


def test_a_short_balance_names_both_numbers(
    tmp_path: Path, store: Store, recorder: Recorder
) -> None:
    with TolokaStandIn(balance=0.2) as api:
        with pytest.raises(BudgetError) as e:
            backend(recorder).label(context(make_spec(tmp_path), store, api, recorder, 40))
        assert "$0.4500" in str(e.value) and "$0.2000" in str(e.value)


def test_the_stand_in_rejects_requests_off_the_contract() -> None:
    problem = check_request(
        "POST",
        "/api/v1/projects",
        {},
        b'{"public_name": "x"}',
        {"Authorization": "OAuth t", "Content-Type": "application/json"},
    )
    assert problem is not None and "task_spec" in problem
    unknown = check_request(
        "GET", "/api/v1/assignments", {"pool": "1"}, b"", {"Authorization": "OAuth t"}
    )
    assert unknown is not None and "pool" in unknown
