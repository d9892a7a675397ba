"""Page assignment of the local backend, driven directly with an injected clock."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from yamlset.crowd.local.pages import PageBook, PageError
from yamlset.state import Store

ITEMS = [f"item{i}" for i in range(6)]


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def book(
    store: Store,
    clock: Clock,
    *,
    items: list[str] = ITEMS,
    per_page: int = 3,
    overlap: int = 2,
    labelers: tuple[str, ...] = (),
) -> PageBook:
    return PageBook(
        store,
        items,
        per_page=per_page,
        overlap=overlap,
        time_per_page_s=600,
        options=["cat", "dog", "other"],
        labelers=labelers,
        now=clock,
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(tmp_path / "state")


def label_all(b: PageBook, labeler: str) -> list[str]:
    """Take and submit pages until none is left; the items this labeler got, in order."""
    seen: list[str] = []
    while (page := b.next_page(labeler)) is not None:
        seen.extend(page.items)
        assert b.submit(page.id, labeler, dict.fromkeys(page.items, "cat")) == len(page.items)
    return seen


def labelers_by_item(store: Store) -> dict[str, list[str]]:
    by_item: dict[str, list[str]] = defaultdict(list)
    for a in store.answers("local"):
        by_item[a.item].append(a.labeler)
    return by_item


def test_overlap_counts_distinct_labelers(store: Store) -> None:
    b = book(store, Clock())
    seen = {name: label_all(b, name) for name in ("ann", "bob", "cid")}
    by_item = labelers_by_item(store)
    assert sorted(by_item) == ITEMS
    assert all(len(set(names)) == len(names) == 2 for names in by_item.values())
    assert all(len(items) == len(set(items)) for items in seen.values())  # no item twice
    assert b.tally().done
    assert b.next_page("dan") is None


def test_least_answered_items_go_first(store: Store) -> None:
    b = book(store, Clock())
    first = b.next_page("ann")
    second = b.next_page("bob")
    assert first is not None and second is not None
    assert first.items == ("item0", "item1", "item2")
    assert second.items == ("item3", "item4", "item5")  # not the items ann holds


def test_asking_again_returns_the_open_page(store: Store) -> None:
    b = book(store, Clock())
    first = b.next_page("ann")
    assert b.next_page("ann") == first


def test_abandoned_page_is_reissued_after_time_per_page(store: Store) -> None:
    clock = Clock()
    b = book(store, clock, items=ITEMS[:3], overlap=1)
    held = b.next_page("ann")
    assert held is not None
    assert b.next_page("bob") is None  # everything is held by ann
    clock.t += 599
    assert b.next_page("bob") is None
    clock.t += 2
    reissued = b.next_page("bob")
    assert reissued is not None and reissued.items == held.items


def test_late_submit_of_an_expired_page_is_kept(store: Store) -> None:
    clock = Clock()
    b = book(store, clock, items=ITEMS[:3], overlap=1)
    late = b.next_page("ann")
    assert late is not None
    clock.t += 601
    fresh = b.next_page("bob")
    assert fresh is not None
    assert b.submit(fresh.id, "bob", dict.fromkeys(fresh.items, "dog")) == 3
    assert b.submit(late.id, "ann", dict.fromkeys(late.items, "cat")) == 3
    assert {len(v) for v in labelers_by_item(store).values()} == {2}


def test_an_item_is_never_stored_twice_for_one_labeler(store: Store) -> None:
    clock = Clock()
    b = book(store, clock, items=ITEMS[:3], overlap=2)
    old = b.next_page("ann")
    clock.t += 601
    new = b.next_page("ann")  # the same items again: ann's expired page holds nothing
    assert old is not None and new is not None and old.id != new.id
    assert b.submit(new.id, "ann", dict.fromkeys(new.items, "cat")) == 3
    assert b.submit(old.id, "ann", dict.fromkeys(old.items, "dog")) == 0
    assert [a.value for a in store.answers("local")] == ["cat"] * 3


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"page": 99}, 400),
        ({"labeler": "bob"}, 400),
        ({"answers": {"item5": "cat"}}, 400),
        ({"answers": {"item0": "horse"}}, 400),
        ({"answers": {}}, 400),
        ({"labeler": ""}, 400),
    ],
)
def test_bad_submits_are_refused(store: Store, change: dict[str, object], status: int) -> None:
    b = book(store, Clock())
    page = b.next_page("ann")
    assert page is not None
    request: dict[str, object] = {"page": page.id, "labeler": "ann", "answers": {"item0": "cat"}}
    request.update(change)
    with pytest.raises(PageError) as e:
        b.submit(request["page"], request["labeler"], request["answers"])  # type: ignore[arg-type]
    assert e.value.status == status
    assert store.answers() == []


def test_a_page_is_submitted_once(store: Store) -> None:
    b = book(store, Clock())
    page = b.next_page("ann")
    assert page is not None
    b.submit(page.id, "ann", {"item0": "cat"})
    with pytest.raises(PageError) as e:
        b.submit(page.id, "ann", {"item1": "cat"})
    assert e.value.status == 409


def test_only_listed_labelers_get_pages(store: Store) -> None:
    b = book(store, Clock(), labelers=("ann",))
    assert b.next_page("ann") is not None
    with pytest.raises(PageError) as e:
        b.next_page("eve")
    assert e.value.status == 403


def test_partial_submit_releases_the_rest(store: Store) -> None:
    b = book(store, Clock(), items=ITEMS[:3], overlap=1)
    page = b.next_page("ann")
    assert page is not None
    assert b.submit(page.id, "ann", {"item0": "cat"}) == 1
    rest = b.next_page("bob")
    assert rest is not None and rest.items == ("item1", "item2")
