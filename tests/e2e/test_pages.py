"""Every page, as a new reader and an admin meet it, at a phone's and a desktop's width:
no sideways scrolling, no console error, no serious or critical accessibility fault
(axe-core, served to the page from this checkout). Then the behaviours a person
would notice in the browser: unsaved edits are not lost, the menu on phones."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
import sqlalchemy as sa

from tests.bounces.helpers import plain
from tests.conftest import STAFF_PASSWORD, TEST_DATABASE_URL, form_values

AXE = Path(__file__).resolve().parents[1] / "vendor/axe-core-4.14.1/axe.min.js"
SAMPLE = Path(__file__).resolve().parents[2] / "newsletter/demo/has-track2-session-2020-06-08.txt"
WIDTHS = (390, 1280)
AXE_URL = "/__test__/axe.min.js"
# Not pages: the feed, raw messages, the frames' sources, JSON, downloads.
SKIPPED_SUFFIXES = (".xml", "/raw", "/html", ".json", ".css", ".ico", ".csv")

pytestmark = [pytest.mark.browser, pytest.mark.app_config(MAIL_SERVER=None)]

_AXE_RUN = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ` +
      v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | "));
}"""


@pytest.fixture
def site(live_server, make_staff, client) -> Any:
    """The demo, a reader who confirmed, a sent digest and a draft: every kind of page
    has something on it, and the outbox holds personal links."""
    from newsletter.delivery import execution, sends
    from newsletter.digests.models import Digest
    from newsletter.extensions import db
    from newsletter.subscriptions.lists import default_lists
    from newsletter.subscriptions.roster import add_subscriber

    app = live_server.app
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo"]).exit_code == 0
    make_staff("admin2@example.org", "admin")
    with app.app_context():
        add_subscriber("reader@example.org", lists=default_lists(), consent_note="test")
        digest = db.session.scalar(
            sa.select(Digest).where(Digest.status == "draft").order_by(Digest.id)
        )
        session_id = digest.items[0].point.session_id
        sends.start_send(digest)
        db.session.commit()
        sent_id = digest.id
    execution.work_on(app, sent_id)
    assert runner.invoke(args=["digest", "create-from-session", str(session_id)]).exit_code == 0
    with app.app_context():
        draft_id = db.session.scalar(sa.select(sa.func.max(Digest.id)))
    live_server.ids = {"session": session_id, "sent": sent_id, "draft": draft_id}
    _import_jobs(app)
    reply = plain("reader@example.org", "digest@news.example.org", "Re: the digest")
    assert runner.invoke(args=["inbound", "process", "-"], input=reply).exit_code == 0
    subscribe = form_values(client.get("/subscribe").get_data(as_text=True))
    subscribe["email"] = "newcomer@example.org"
    assert client.post("/subscribe", data=subscribe).status_code == 302
    return live_server


def _import_jobs(app: Any) -> None:
    """An uploaded file waiting for its options (the preview) and a finished import with
    a rejected row (the report)."""
    from newsletter.extensions import db
    from newsletter.subscriptions import imports
    from newsletter.subscriptions.lists import default_lists

    data = b"email,name,phone\nada@example.org,Ada,1\nnot an address,Nobody,2\n"
    with app.app_context():
        imports.store_upload(io.BytesIO(data), "waiting.csv", None, "admin2@example.org")
        done = imports.store_upload(io.BytesIO(data), "done.csv", None, "admin2@example.org")
        imports.start(done, default_lists(), consent_note="paper forms", dry_run=False)
        db.session.commit()
        done_id = done.id
        db.session.remove()
    imports.run(app, done_id)


def _log_in(page: Any, url: str) -> None:
    """The login page speaks the default language; after it, the staff member's own."""
    page.goto(url + "/staff/login")
    page.get_by_label("Email").fill("admin2@example.org")
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.locator("h1").first.wait_for()
    page.wait_for_url(url + "/staff/")


def _links(page: Any, base: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map((e) => e.href)")
    found = []
    for href in hrefs:
        parts = urlsplit(urljoin(base, href))
        if (
            parts.netloc == urlsplit(base).netloc
            and not parts.path.endswith(SKIPPED_SUFFIXES)
            and not parts.path.startswith("/language/")  # the switcher: one language a run
        ):
            found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def _check(page: Any, path: str, problems: list[str]) -> None:
    """Both widths for overflow; axe-core at the phone's width, where the layout differs
    (a run costs about half a second a page, and the rules barely depend on width)."""
    for width in reversed(WIDTHS):
        page.set_viewport_size({"width": width, "height": 800})
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        if scroll_width > width:
            problems.append(f"{path} at {width} px: {scroll_width} px wide")
    page.add_script_tag(url=AXE_URL)
    for violation in page.evaluate(_AXE_RUN):
        problems.append(f"{path} at {WIDTHS[0]} px: {violation}")


def _check_language(page: Any, path: str, language: str, problems: list[str]) -> None:
    """A public page speaks the cookie's language (a personal link's page its reader's,
    English here) and is laid out in its direction."""
    lang, direction = page.evaluate("[document.documentElement.lang, document.documentElement.dir]")
    personal = any(part in path for part in ("/preferences/", "/unsubscribe/", "/confirm/"))
    wanted = "en" if personal else language
    if lang != wanted:
        problems.append(f"{path}: lang={lang}, not {wanted}")
    if direction != ("ltr" if wanted == "en" else "rtl"):
        problems.append(f"{path}: dir={direction} for {wanted}")


def _staff_language(site: Any, tag: str) -> None:
    from newsletter.auth.models import StaffUser
    from newsletter.extensions import db

    with site.app.app_context():
        user = db.session.scalar(
            sa.select(StaffUser).where(StaffUser.email_key == "admin2@example.org")
        )
        user.language = tag
        db.session.commit()


def _check_staff_language(page: Any, path: str, language: str, problems: list[str]) -> None:
    """A staff page speaks the staff member's interface language, in its direction."""
    lang, direction = page.evaluate("[document.documentElement.lang, document.documentElement.dir]")
    if (lang, direction) != (language, "ltr" if language == "en" else "rtl"):
        problems.append(f"{path}: lang={lang} dir={direction} for a staff member in {language}")


# The crawl reads templates, which do not change with the database: in Dari and Pashto it
# runs on SQLite only, in English on both.
RIGHT_TO_LEFT_ON_SQLITE = pytest.mark.skipif(
    bool(TEST_DATABASE_URL), reason="the Dari and Pashto crawl runs on SQLite; English runs here"
)


@pytest.mark.parametrize(
    "language",
    [
        "en",
        pytest.param("fa-AF", marks=RIGHT_TO_LEFT_ON_SQLITE),
        pytest.param("ps", marks=RIGHT_TO_LEFT_ON_SQLITE),
    ],
)
def test_every_page_fits_a_phone_and_a_desktop_and_is_accessible(site, page, language):
    """In each language: public pages by the switcher's cookie, staff pages by the staff
    member's interface language (the same one here). Dari and Pashto right to left."""
    base = site.url
    _staff_language(site, language)
    page.context.add_cookies([{"name": "lang", "value": language, "url": base}])
    page.route(
        f"{base}{AXE_URL}",
        lambda route: route.fulfill(path=str(AXE), content_type="application/javascript"),
    )
    problems: list[str] = []
    page.on("console", lambda m: m.type == "error" and problems.append(f"{page.url}: {m.text}"))
    page.on("pageerror", lambda error: problems.append(f"{page.url}: {error}"))

    page.goto(base + "/staff/login")  # the one page only a logged-out person sees
    _check(page, "/staff/login", problems)
    _log_in(page, base)
    queue, seen, visited = ["/", "/staff/"], set(), []
    while queue:
        path = queue.pop(0)
        key = urlsplit(path).path  # one of each page: filters and page numbers alike
        if key in seen:
            continue
        seen.add(key)
        response = page.goto(base + path)
        assert response is not None
        assert response.status == 200, f"{path} answered {response.status}"
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        visited.append(path)
        queue += _links(page, base)
        _check(page, path, problems)
        if not urlsplit(path).path.startswith(("/staff", "/outbox")):
            _check_language(page, path, language, problems)
        else:
            _check_staff_language(page, path, language, problems)

    # A page reached by a form, not a link: the check of an import (a duplicate here).
    page.goto(base + "/staff/sessions/import")
    page.locator("textarea#text").fill(SAMPLE.read_text(encoding="utf-8"))
    page.locator("main button[type=submit]").last.click()
    page.locator('button[name="update"]').wait_for()  # "Update" the session found again
    _check(page, "/staff/sessions/import (review)", problems)

    kinds = ["/archive/", "/sessions/", "/outbox/", "/preferences/", "/unsubscribe/",
             "/confirm/", "/staff/settings", "/staff/people/", "/staff/subscribers/",
             "/staff/subscribers/new", "/staff/subscribers/exports", "/staff/lists/",
             f"/staff/digests/{site.ids['sent']}/deliveries",
             f"/staff/sessions/{site.ids['session']}/delete", "/erase", "/staff/import/",
             "/staff/inbound/"]  # fmt: skip
    for kind in kinds:
        assert any(kind in path for path in visited), f"the crawl never reached {kind}"
    assert problems == []


def _admin_page(site: Any, page: Any, path: str) -> None:
    _log_in(page, site.url)
    page.goto(site.url + path)


def test_edits_in_two_points_are_saved_by_one_save(site, page):
    """The lost edit of the issue: edit points 1 and 2, save once, both are kept, and
    the message is on screen where the person is."""
    _admin_page(site, page, f"/staff/sessions/{site.ids['session']}")
    page.get_by_label("Point 1", exact=True).fill("Point one, edited.")
    page.get_by_label("Point 2", exact=True).fill("Point two, edited.")
    page.get_by_role("button", name="Move point 3 up").click()
    flash = page.get_by_text("Saved the session and its points.")
    flash.wait_for()
    box = flash.bounding_box()
    assert box is not None
    assert 0 <= box["y"] < 800, "the message is off screen"
    assert page.get_by_label("Point 1", exact=True).input_value() == "Point one, edited."
    assert page.get_by_label("Point 3", exact=True).input_value() == "Point two, edited."


def test_leaving_with_unsaved_edits_asks_first(site, page):
    _admin_page(site, page, f"/staff/digests/{site.ids['draft']}")
    page.get_by_label("Item 1", exact=True).fill("Words not saved yet.")
    assert page.get_by_text("Unsaved changes").is_visible()
    asked = []

    def answer(dialog: Any) -> None:
        asked.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", answer)
    page.get_by_role("link", name="Sessions").first.click()
    page.wait_for_timeout(300)
    assert asked == ["beforeunload"]
    assert page.url.endswith(f"/staff/digests/{site.ids['draft']}")
    assert page.get_by_label("Item 1", exact=True).input_value() == "Words not saved yet."


def test_the_staff_menu_is_one_button_on_a_phone(site, page):
    page.set_viewport_size({"width": 390, "height": 800})
    _admin_page(site, page, "/staff/")
    header = page.locator(".site-header").bounding_box()
    assert header is not None
    assert header["height"] < 80  # one row, not three
    sessions = page.get_by_role("link", name="Sessions", exact=True)
    assert not sessions.is_visible()
    page.get_by_role("button", name="Menu").click()
    sessions.click()
    page.get_by_role("heading", name="Sessions").wait_for()
