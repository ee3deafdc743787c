"""A live server and a real Chromium (Debian's package) driven by Playwright."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str | None:
    return os.environ.get("NEWSLETTER_CHROMIUM") or shutil.which("chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    if executable is None:
        if os.environ.get("NEWSLETTER_REQUIRE_BROWSER"):
            pytest.fail("Chromium is required (NEWSLETTER_REQUIRE_BROWSER) but not installed")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class LiveServer:
    """A threaded HTTP server bound at once to a port of its own (no other process can
    take the port meanwhile); the app it serves is given once it exists, since the app's
    configuration needs the server's URL."""

    def __init__(self) -> None:
        self.app: Any = None
        self._server = make_server("127.0.0.1", 0, self._serve, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _serve(self, environ: Any, start_response: Any) -> Any:
        return self.app(environ, start_response)

    def start(self, app: Any) -> None:
        self.app = app
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(5)
        self._server.server_close()


@pytest.fixture
def live_server(request: pytest.FixtureRequest, app_config: dict[str, Any]) -> Iterator[LiveServer]:
    """The test's ``app`` served over real HTTP; its emailed links point at it."""
    server = LiveServer()
    try:
        app_config["BASE_URL"] = server.url
        app = request.getfixturevalue("app")
        assert app.config["BASE_URL"] == app_config["BASE_URL"], "request live_server before app"
        server.start(app)
        yield server
    finally:
        server.stop()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    from playwright.sync_api import expect

    context = browser.new_context()
    page = context.new_page()
    # Generous on a loaded machine: a wait ends as soon as its condition holds.
    page.set_default_timeout(10_000)
    expect.set_options(timeout=10_000)
    yield page
    context.close()
