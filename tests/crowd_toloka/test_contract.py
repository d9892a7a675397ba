from __future__ import annotations

import pytest

from tests.fakes.toloka import CONTRACT, SHARED_CONTRACT


def test_the_stand_ins_copy_of_the_contract_is_the_shared_one() -> None:
    if not SHARED_CONTRACT.exists():
        pytest.skip("no ../shared/toloka-api beside this checkout")
    assert CONTRACT.read_bytes() == SHARED_CONTRACT.read_bytes()
