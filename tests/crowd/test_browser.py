"""Three people label in headless Chromium, by mouse and by keyboard; the state must hold
exactly what they chose."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.crowd.specs import make_spec, make_tasks
from yamlset.crowd.local import LocalServer
from yamlset.state import Store

playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VALUES = ["cat", "dog", "other"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Chromium at /usr/bin/chromium"),
]

Page = playwright.Page
Answers = dict[str, str]


@pytest.fixture(scope="module")
def browser() -> Iterator[playwright.Browser]:
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def choice(item: str, who: int) -> int:
    """A different, reproducible answer per item and labeler."""
    return (int(item[:2]) + who) % len(VALUES)


def items_on(page: Page) -> list[str]:
    page.wait_for_selector("#work:not([hidden]) figure.task")
    return [str(f.get_attribute("data-id")) for f in page.locator("figure.task").all()]


def by_mouse(page: Page, who: int) -> Answers:
    chosen = {}
    for n, item in enumerate(items_on(page)):
        k = choice(item, who)
        page.locator("figure.task").nth(n).locator(".opt").nth(k).click()
        chosen[item] = VALUES[k]
    page.click("#submit")
    return chosen


def by_keys(page: Page, who: int) -> Answers:
    """Digits answer the focused task and move on; Enter sends."""
    chosen = {}
    for item in items_on(page):
        k = choice(item, who)
        page.keyboard.press(str(k + 1))
        chosen[item] = VALUES[k]
    page.keyboard.press("Enter")
    return chosen


def by_arrows(page: Page, who: int) -> Answers:
    """Skip to the second task, answer it and the third; focus wraps to the first."""
    items = items_on(page)
    page.keyboard.press("ArrowRight")
    chosen = {}
    for item in items[1:] + items[:1]:
        k = choice(item, who)
        page.keyboard.press(str(k + 1))
        chosen[item] = VALUES[k]
    assert page.locator("#submit").is_enabled()
    page.keyboard.press("Enter")
    return chosen


def start(browser: playwright.Browser, url: str, name: str, alerts: list[str]) -> Page:
    page = browser.new_context(viewport={"width": 1100, "height": 800}).new_page()
    page.on("dialog", lambda d: (alerts.append(d.message), d.dismiss()))
    page.goto(url)
    page.fill("#labeler", name)
    page.click("#ask-name button[type=submit]")
    return page


def after_submit(page: Page, before: list[str]) -> bool:
    """Wait for the next page or the "nothing left" panel; True when there is a next page."""
    page.wait_for_function(
        """before => !document.getElementById("done").hidden ||
            (!document.getElementById("work").hidden &&
             document.querySelector("figure.task")?.dataset.id !== before[0])""",
        arg=before,
    )
    return page.locator("#done").is_hidden()


def test_three_labelers_by_mouse_and_keyboard(browser: playwright.Browser, tmp_path: Path) -> None:
    spec = make_spec(
        tmp_path,
        classes=(("cat", "<script>alert('title')</script>"), ("dog", "Dog")),
        instructions="Look closely.\n\n<img src=x onerror=\"alert('md')\">",
        tasks_per_page=3,
        overlap=2,
    )
    tasks = make_tasks(tmp_path / "derived", 6)
    store = Store.open(tmp_path / "state")
    alerts: list[str] = []
    ways: list[Callable[[Page, int], Answers]] = [by_mouse, by_keys, by_arrows]
    clicked: dict[tuple[str, str], str] = {}
    with LocalServer(spec, store, tasks) as server:
        people = {name: start(browser, server.url, name, alerts) for name in ("ann", "bob", "cid")}
        busy = dict.fromkeys(people, True)
        while any(busy.values()):  # round-robin, one page each, so all three share the work
            for who, (name, page) in enumerate(people.items()):
                if not busy[name]:
                    continue
                if not page.locator("#done").is_hidden():
                    busy[name] = False
                    continue
                before = items_on(page)
                for item, value in ways[who](page, who).items():
                    clicked[(name, item)] = value
                busy[name] = after_submit(page, before)
        assert people["ann"].locator("#done").inner_text().startswith("Nothing left")
        assert "<script>" in people["ann"].locator(".opt").first.inner_text()
    stored = {(a.labeler, a.item): a.value for a in store.answers("local")}
    assert stored == clicked
    assert {name for name, _ in clicked} == {"ann", "bob", "cid"}
    assert len(stored) == 12
    assert alerts == []
