"""A live portal (uvicorn in its own process, on its own SQLite database with the demo data) and a
real headless Chromium driven by Playwright, with axe-core to check every page it visits."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.conftest import fresh_database, running_portal

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture(scope="session")
def live_database_url(tmp_path_factory) -> str:
    """The live portal's database: tests may add what they need directly, and run the worker on it."""
    return fresh_database(str(tmp_path_factory.mktemp("live") / "portal.db"))


@pytest.fixture(scope="session")
def live_server(live_database_url) -> Iterator[str]:
    url = live_database_url
    env = {**os.environ, "DATABASE_URL": url, "ENVIRONMENT": "test"}
    env.pop("SMTP_HOST", None)
    subprocess.run(
        [sys.executable, "-m", "app", "seed-demo"],
        env=env,
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    with running_portal(url) as base:
        yield base


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: scripts/test installs Debian's chromium package"
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-background-networking",
                "--disable-gpu",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server) -> Iterator[Page]:
    # bypass_csp lets the test inject axe-core; the portal's own pages never need it.
    context = browser.new_context(base_url=live_server, bypass_csp=True, locale="da-DK")
    page = context.new_page()
    errors: list[str] = []
    # A refused form answers 422 on purpose; the browser logs that too, and it is no error of ours.
    page.on(
        "console",
        lambda m: errors.append(m.text) if m.type == "error" and "422" not in m.text else None,
    )
    page.console_errors = errors  # type: ignore[attr-defined]
    yield page
    context.close()


def assert_accessible(page: Page) -> None:
    """Zero WCAG 2.1 A/AA violations found by axe-core on the page as it is now."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_21_AA
    )
    violations = [
        {"id": v["id"], "help": v["help"], "nodes": [n["html"] for n in v["nodes"][:3]]}
        for v in result["violations"]
    ]
    assert violations == [], f"{page.url}\n{json.dumps(violations, indent=2, ensure_ascii=False)}"
