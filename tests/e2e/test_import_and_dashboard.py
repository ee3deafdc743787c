"""An admin in a real browser: import a CSV file and watch its progress to the report;
the dashboard draws its charts, in light and in dark mode, without a script error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import STAFF_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.app_config(MAIL_SERVER=None)]


def _log_in(page: Any, url: str) -> None:
    page.goto(url + "/staff/login")
    page.get_by_label("Email").fill("admin2@example.org")
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Welcome").wait_for()


_RGB = """(colour) => {
  const probe = document.createElement("span");
  probe.style.color = colour;
  document.body.append(probe);
  const found = getComputedStyle(probe).color.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number);
  probe.remove();
  return found;
}"""


def _errors(page: Any) -> list[str]:
    problems: list[str] = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def test_admin_imports_a_file_and_watches_it_to_the_report(
    live_server, make_list, make_staff, page, tmp_path
):
    make_list("digest", "Dialogue digest", default=True)
    make_staff("admin2@example.org", "admin")
    rows = 20_000
    path = tmp_path / "conference.csv"
    lines = [f"reader{n}@example.org,Reader {n}" for n in range(rows)]
    lines[9] = "not an address,Nobody"
    path.write_text("email,name\n" + "\n".join(lines) + "\n", encoding="utf-8")
    problems = _errors(page)

    _log_in(page, live_server.url)
    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Import").click()
    page.get_by_label("CSV file").set_input_files(str(path))
    page.get_by_role("button", name="Upload and preview").click()
    page.get_by_role("heading", name="The first rows").wait_for()
    page.get_by_text(f"{rows} data lines").wait_for()
    page.get_by_label("These people already consented").check()
    page.get_by_label("How and when they consented").fill("signed up at the 2026 conference")
    page.get_by_role("button", name="Start the import").click()

    page.locator("#import-progress progress").wait_for()
    page.get_by_role("heading", name="Imported").wait_for(timeout=60_000)
    figures = dict(
        zip(
            page.locator("#import-report dt").all_inner_texts(),
            page.locator("#import-report dd").all_inner_texts(),
            strict=True,
        )
    )
    assert figures["Added"] == str(rows - 1)
    assert figures["Rejected"] == "1"
    assert page.get_by_role("cell", name="11", exact=True).is_visible()  # line 11: row 10
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the rejected rows (CSV)").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.splitlines()[1].startswith("11,")
    assert problems == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_dashboard_draws_its_charts(live_server, make_staff, page, scheme):
    runner = live_server.app.test_cli_runner()
    assert runner.invoke(args=["demo"]).exit_code == 0  # weeks of demo history
    make_staff("admin2@example.org", "admin")
    page.emulate_media(color_scheme=scheme)
    problems = _errors(page)
    _log_in(page, live_server.url)
    page.locator("figure.chart[data-drawn]").nth(2).wait_for()
    assert page.locator("figure.chart canvas").count() == 3
    sizes = page.eval_on_selector_all(
        "figure.chart canvas", "els => els.map((c) => [c.width, c.height])"
    )
    assert all(width > 100 and height > 100 for width, height in sizes)
    text = page.evaluate("Chart.defaults.color")
    body = page.evaluate("getComputedStyle(document.body).getPropertyValue('--pico-color').trim()")
    assert text == body  # the charts' text follows the page's colours
    # The numbers are in tables, for screen readers and without scripts.
    page.get_by_text("The numbers").first.click()
    assert page.get_by_role("region", name="Active subscribers per week").is_visible()
    red, green, blue = page.evaluate(_RGB, text)
    lightness = (red + green + blue) / 3 / 255
    assert (lightness > 0.5) == (scheme == "dark"), (scheme, text)  # light text on dark
    assert problems == []
