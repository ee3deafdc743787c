"""Settings staff change in /staff/settings, as far as what a subscriber receives."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from PIL import Image

from newsletter.delivery import execution
from newsletter.digests.models import Digest
from newsletter.extensions import db
from newsletter.subscriptions.models import ConsentText
from tests.conftest import form_values

SETTINGS = {
    "site_name": "HAS Dialogue Digest",
    "organisation_name": "Heart of Asia Society",
    "postal_address": "House 12, Street 4\r\nKabul, Afghanistan",
    "sender_name": "HAS Digest",
    "reply_to": "Team@Example.org",
    "consent_text": "Yes, send me the HAS digest. I can leave at any time.",
    "brand_colour": "#7A1F5C",
    "time_zone": "Asia/Kabul",
}


@pytest.fixture
def admin(staff_login):
    return staff_login("admin@example.org", "admin")


def _save_settings(client, **changes) -> object:
    values = form_values(client.get("/staff/settings").get_data(as_text=True))
    values.update(changes)
    return client.post("/staff/settings", data=values)


def test_settings_reach_the_footer_of_a_sent_digest(
    app, client, admin, add_subscribers, digest_id, outbox
):
    reader = add_subscribers(1)[0]
    saved = _save_settings(client, **SETTINGS)
    assert saved.status_code == 302
    page = client.get("/staff/settings").get_data(as_text=True)
    assert "Settings saved." in page
    assert 'value="HAS Dialogue Digest"' in page

    send = form_values(client.get(f"/staff/digests/{digest_id}/send").get_data(as_text=True))
    assert client.post(f"/staff/digests/{digest_id}/send", data=send).status_code == 302
    execution.work_on(app, digest_id)
    message = outbox.wait_for(1)[0].message
    assert reader in message["To"]
    assert message["From"] == "HAS Digest <digest@news.example.org>"
    assert message["Reply-To"] == "Team@example.org"  # the domain normalised, not the mailbox
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    assert "Heart of Asia Society · House 12, Street 4, Kabul, Afghanistan" in html
    assert "Heart of Asia Society\nHouse 12, Street 4\nKabul, Afghanistan" in text.replace("\r", "")
    assert "#7a1f5c" in html  # the masthead in the brand colour
    assert ">HAS Dialogue Digest<" in html

    # The pages follow too, and the consent wording is kept as evidence.
    home = client.get("/").get_data(as_text=True)
    assert "Yes, send me the HAS digest." in home
    assert "Subscribe to HAS Dialogue Digest" in home
    brand = client.get(f"/site/brand.css?v={app.name}")
    assert "--brand: #7a1f5c;" in brand.get_data(as_text=True)
    with app.app_context():
        texts = db.session.scalars(sa.select(ConsentText.text)).all()
    assert SETTINGS["consent_text"] in texts


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("brand_colour", "red", "Give the colour as #rrggbb"),
        ("time_zone", "Mars/Olympus_Mons", "Not a valid choice"),
        ("reply_to", "not an address", "not a valid email address"),
        ("site_name", "", "This field is required."),
        ("consent_text", "  ", "This field is required."),
    ],
)
def test_bad_settings_are_refused_beside_the_field(app, client, admin, field, value, message):
    refused = _save_settings(client, **{**SETTINGS, field: value})
    assert refused.status_code == 400
    assert message in refused.get_data(as_text=True)
    assert "Dialogue Digest" in client.get("/").get_data(as_text=True)


@pytest.mark.app_config(ORGANISATION_NAME="", POSTAL_ADDRESS="")
def test_no_send_before_the_organisation_and_address_are_set(
    app, client, admin, add_subscribers, digest_id, outbox
):
    add_subscribers(1)
    home = client.get("/staff/").get_data(as_text=True)
    assert "Before the first send" in home
    send = form_values(client.get(f"/staff/digests/{digest_id}/send").get_data(as_text=True))
    refused = client.post(f"/staff/digests/{digest_id}/send", data=send, follow_redirects=True)
    assert "sets the organisation and the postal address in Settings" in refused.get_data(
        as_text=True
    )
    _save_settings(client, organisation_name="Example Society", postal_address="1 Street")
    assert "Before the first send" not in client.get("/staff/").get_data(as_text=True)
    assert client.post(f"/staff/digests/{digest_id}/send", data=send).status_code == 302


def test_a_logo_is_served_from_our_storage_with_its_words(app, client, admin):
    image = io.BytesIO()
    Image.new("RGB", (120, 40), "#7a1f5c").save(image, format="PNG")
    values = form_values(client.get("/staff/settings").get_data(as_text=True))
    values.update(logo=(io.BytesIO(image.getvalue()), "logo.png"), logo_alt="HAS logo")
    assert client.post("/staff/settings", data=values).status_code == 302
    home = client.get("/").get_data(as_text=True)
    src = home.split('<img src="', 1)[1].split('"', 1)[0]
    assert 'alt="HAS logo"' in home
    served = client.get(src)
    assert served.status_code == 200
    assert served.mimetype == "image/png"
    assert served.data == image.getvalue()
    values = form_values(client.get("/staff/settings").get_data(as_text=True))
    values.update(logo=(io.BytesIO(b"<svg onload=alert(1)>"), "logo.svg"))
    refused = client.post("/staff/settings", data=values)
    assert refused.status_code == 400
    assert "must be a PNG, JPEG or GIF" in refused.get_data(as_text=True)


def test_scheduling_is_entered_in_the_site_time_zone(app, client, admin, digest_id):
    _save_settings(client, time_zone="Asia/Kabul")
    page = client.get(f"/staff/digests/{digest_id}/send").get_data(as_text=True)
    assert 'name="zone" value="Asia/Kabul"' in page  # the zone field starts at the site's
    token = form_values(page)["csrf_token"]
    done = client.post(
        f"/staff/digests/{digest_id}/schedule",
        data={"csrf_token": token, "when": "2031-01-01T10:00"},
        follow_redirects=True,
    )
    assert "Scheduled for 2031-01-01 10:00 Asia/Kabul (2031-01-01 05:30 UTC)." in done.get_data(
        as_text=True
    )
    with app.app_context():
        scheduled = db.session.get(Digest, digest_id).scheduled_at
    assert scheduled == datetime(2031, 1, 1, 5, 30, tzinfo=UTC)


def test_brand_colours_stay_readable():
    from newsletter.settings.colours import AA, brand_palette, contrast

    for brand in ("#17324d", "#f5d000", "#7a1f5c", "#808080", "#ffffff", "#000000"):
        palette = brand_palette(brand)
        assert contrast(palette["brand"], palette["brand-ink"]) >= AA, brand
        assert contrast(palette["brand-link"], "#ffffff") >= AA, brand
        assert contrast(palette["brand-link-dark"], "#13171f") >= AA, brand


def test_the_favicon_is_there_at_the_root(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.data.startswith(b"\x00\x00\x01\x00")  # an ICO file
    assert 'rel="icon"' in client.get("/").get_data(as_text=True)
