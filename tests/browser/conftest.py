"""A live server in a thread and Debian's Chromium driven by Playwright, headless.

The browser is the system one (`/usr/bin/chromium`, installed by `make test`
when missing); Playwright never downloads a browser of its own.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from tests.builders import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-gpu", "--no-first-run"]
ARTEFACTS = Path(__file__).resolve().parents[2] / "tests" / "artefacts"


class LiveServer:
    def __init__(self, app) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture
def live_server(app, case) -> Iterator[LiveServer]:
    with LiveServer(app) as server:
        yield server


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    """Save a screenshot as a test artefact (for people; tests assert on content, not pixels)."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTEFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# ---- several people at once, on live pages ------------------------------------------------------------

@pytest.fixture
def live(app, live_server):
    """The live server, with short heartbeats so streams of closed pages end soon after each test."""
    app.config["LIVE_HEARTBEAT_SECONDS"] = 1.0
    yield live_server
    listener = app.extensions.get("ledger.listener")
    if listener is not None:
        listener.stop()


@pytest.fixture
def people(browser, live) -> Iterator:
    """``people("beta")``: a page of a new browser context, logged in as that user of the case."""
    contexts = []

    def open_as(who: str):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto(live.url + "/login")
        page.fill("input[name=email]", f"{who}@example.org")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(live.url + "/")
        return page

    yield open_as
    for context in contexts:
        context.close()


def open_live(page, url: str) -> None:
    page.goto(url)
    expect(page.locator("#live-status")).to_have_text("Live")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
