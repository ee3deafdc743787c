"""The shipped catalogs: complete, never fuzzy, in step with the sources, and honest
about who wrote them."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from newsletter import i18n

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = sorted((ROOT / "newsletter" / "translations").glob("*/LC_MESSAGES/messages.po"))
NOT_REVIEWED = "not reviewed by a native speaker"


def _read(path: Path):
    with path.open("rb") as handle:
        return read_po(handle)


def test_every_default_language_has_a_catalog():
    names = {path.parts[-3] for path in CATALOGS}
    assert names == {"fa_AF", "ps"}


@pytest.mark.parametrize("path", CATALOGS, ids=lambda path: path.parts[-3])
def test_catalog_is_complete_and_not_fuzzy(path):
    catalog = _read(path)
    assert not catalog.fuzzy, "the header is marked fuzzy: pybabel would not compile it"
    untranslated = [m.id for m in catalog if m.id and not m.string]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert untranslated == [], f"untranslated in {path.parts[-3]}: {untranslated[:5]}"
    assert fuzzy == [], f"fuzzy (never used) in {path.parts[-3]}: {fuzzy[:5]}"


@pytest.mark.parametrize("path", CATALOGS, ids=lambda path: path.parts[-3])
def test_placeholders_survive_translation(path):
    """A translation that drops or renames ``%(site)s`` would fail when formatted."""
    catalog = _read(path)
    for message in catalog:
        if message.id and message.python_format:
            if isinstance(message.id, tuple):  # ngettext: every form keeps the plural's
                wanted = i18n.placeholders(message.id[1])
                for form in message.string:
                    assert i18n.placeholders(form) == wanted, message.id
            else:
                assert i18n.placeholders(message.string) == i18n.placeholders(message.id), (
                    message.id
                )


@pytest.mark.parametrize("path", CATALOGS, ids=lambda path: path.parts[-3])
def test_unreviewed_entries_say_so(path):
    """Every entry carries the translator's note until a native speaker has read it; the
    header explains the note."""
    catalog = _read(path)
    assert NOT_REVIEWED in (catalog.header_comment or "")
    for message in catalog:
        if message.id:
            notes = " ".join(message.auto_comments + message.user_comments)
            assert NOT_REVIEWED in notes or "reviewed by" in notes, message.id


def test_catalogs_are_up_to_date_with_the_sources():
    """Extracting the sources again (as ``make extract-messages`` does, with babel.cfg)
    gives exactly the entries each catalog holds: no new wording left out, no removed
    wording kept (run ``make update-catalogs``)."""
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    keywords = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "_l": None}
    wanted = set()
    for folder in ("newsletter", "templates"):
        for _file, _line, message, _comments, context in extract_from_dir(
            str(ROOT / folder), method_map, options_map, keywords=keywords
        ):
            wanted.add((context, message if isinstance(message, str) else message[0]))
    for path in CATALOGS:
        held = {
            (m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in _read(path) if m.id
        }
        assert sorted(wanted - held, key=str) == [], f"missing from {path.parts[-3]}"
        assert sorted(held - wanted, key=str) == [], f"no longer in the sources: {path.parts[-3]}"


@pytest.mark.parametrize("path", CATALOGS, ids=lambda path: path.parts[-3])
def test_compiled_catalog_is_current(path):
    """The app reads the .mo beside each .po: it must exist and be newer."""
    compiled = path.with_suffix(".mo")
    assert compiled.exists(), "run make translations (make install and make test do)"
    assert compiled.stat().st_mtime >= path.stat().st_mtime, "the .mo is older than the .po"
