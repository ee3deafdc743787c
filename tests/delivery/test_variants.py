"""A digest with an English and a Dari variant, sent to a mixed list: each subscriber
gets exactly one copy, in their language; a Pashto reader (no Pashto variant) gets the
English one; staff are told beforehand how many get that fallback."""

from __future__ import annotations

import re
from collections import Counter

import sqlalchemy as sa

from newsletter.delivery import execution, sends
from newsletter.digests import variants
from newsletter.digests.models import Digest
from newsletter.extensions import db
from newsletter.subscriptions.models import Subscriber

DARI_SUBJECT = "خلاصهٔ گفت‌وگوی منطقه‌ای: صلح و تجارت"


def give_dari_variant(app, digest_id: int, complete: bool = True) -> None:
    """A Dari variant: a subject, and every item's words (all but one if not complete)."""
    with app.app_context():
        digest = db.session.get(Digest, digest_id)
        items = {
            item.id: f"نکتهٔ شمارهٔ {number} دربارهٔ همکاری منطقه‌ای و تجارت"
            for number, item in enumerate(digest.items, start=1)
        }
        if not complete:
            items[digest.items[-1].id] = ""
        variants.save(
            digest,
            "fa-AF",
            {"subject": DARI_SUBJECT, "preheader": "نکات اصلی تازه‌ترین نشست ما"},
            items,
        )
        db.session.commit()


def set_languages(app, languages: dict[str, str]) -> None:
    with app.app_context():
        for email, language in languages.items():
            db.session.execute(
                sa.update(Subscriber).where(Subscriber.email_key == email).values(language=language)
            )
        db.session.commit()


def _mixed_list(app, add_subscribers) -> dict[str, str]:
    english = add_subscribers(3, prefix="en")
    dari = add_subscribers(3, prefix="fa")
    pashto = add_subscribers(2, prefix="ps")
    languages = {
        **dict.fromkeys(english, ""),  # no choice: the default
        **dict.fromkeys(dari, "fa-AF"),
        **dict.fromkeys(pashto, "ps"),
    }
    set_languages(app, languages)
    return languages


def test_each_reader_gets_one_copy_in_their_language(
    app, add_subscribers, digest_id, start, outbox
):
    languages = _mixed_list(app, add_subscribers)
    give_dari_variant(app, digest_id)
    with app.app_context():
        digest = db.session.get(Digest, digest_id)
        counts = variants.readers_by_language(sends.audience_ids(digest))
        assert counts == Counter({"en": 3, "fa-AF": 3, "ps": 2})
        assert variants.fallbacks(digest, counts) == {"ps": 2}
        english_subject = digest.subject
    start(digest_id)
    execution.work_on(app, digest_id)
    received = outbox.wait_for(len(languages))
    assert Counter(message.to for message in received) == Counter(dict.fromkeys(languages, 1))
    for message in received:
        parsed = message.message
        html = parsed.get_body(("html",)).get_content()
        if languages[message.to] == "fa-AF":
            assert parsed["Subject"] == DARI_SUBJECT
            assert parsed["Content-Language"] == "fa-AF"
            assert '<html lang="fa-AF" dir="rtl"' in html
            assert "نکتهٔ شمارهٔ 1 دربارهٔ" in html
            assert "لغو اشتراک" in html  # the footer in Dari too
        else:  # English, chosen or as the fallback of Pashto readers
            assert parsed["Subject"] == english_subject
            assert parsed["Content-Language"] == "en"
            assert '<html lang="en" dir="ltr"' in html
            assert "Unsubscribe" in html


def test_an_incomplete_variant_is_not_sent(app, add_subscribers, digest_id, start, outbox):
    """Half a translation would mix languages: its readers get the default variant,
    and staff see them counted as fallbacks."""
    languages = _mixed_list(app, add_subscribers)
    give_dari_variant(app, digest_id, complete=False)
    with app.app_context():
        digest = db.session.get(Digest, digest_id)
        assert variants.missing(digest, "fa-AF") == [f"item {len(digest.items)}"]
        counts = variants.readers_by_language(sends.audience_ids(digest))
        assert variants.fallbacks(digest, counts) == {"fa-AF": 3, "ps": 2}
    start(digest_id)
    execution.work_on(app, digest_id)
    received = outbox.wait_for(len(languages))
    assert {message.message["Content-Language"] for message in received} == {"en"}


def test_the_archive_keeps_each_variant_with_hreflang_links_and_a_feed_per_language(
    app, client, add_subscribers, digest_id, start, outbox
):
    import feedparser

    _mixed_list(app, add_subscribers)
    give_dari_variant(app, digest_id)
    with app.app_context():
        digest = db.session.get(Digest, digest_id)
        sends.start_send(digest, in_archive=True)
        db.session.commit()
    execution.work_on(app, digest_id)
    with app.app_context():
        slug = db.session.get(Digest, digest_id).slug
        english_subject = db.session.get(Digest, digest_id).subject

    english = client.get(f"/archive/{slug}").get_data(as_text=True)
    links = re.findall(r'<link rel="alternate" hreflang="([^"]+)" href="([^"]+)"', english)
    assert [(tag, href.rsplit("/archive/", 1)[1]) for tag, href in links] == [
        ("en", slug),
        ("fa-AF", f"{slug}/fa-AF"),
    ]
    assert 'rel="alternate" hreflang="ps"' not in english  # no Pashto variant was sent
    dari = client.get(f"/archive/{slug}/fa-AF")
    assert dari.status_code == 200
    page = dari.get_data(as_text=True)
    assert f"<title>{DARI_SUBJECT}" in page
    assert 'lang="fa-AF" dir="rtl"' in page  # the article, whatever the page's language
    assert "نکتهٔ شمارهٔ 1 دربارهٔ" in page
    assert client.get(f"/archive/{slug}/ps").status_code == 404

    feed = feedparser.parse(client.get("/archive/feed.xml?lang=fa-AF").data)
    assert feed.bozo == 0, feed.bozo_exception
    assert feed.feed.language == "fa-AF"
    assert [entry.title for entry in feed.entries] == [DARI_SUBJECT]
    assert feed.entries[0].link.endswith(f"/archive/{slug}/fa-AF")
    english_feed = feedparser.parse(client.get("/archive/feed.xml").data)
    assert [entry.title for entry in english_feed.entries] == [english_subject]
    assert client.get("/archive/feed.xml?lang=xx").status_code == 404
