"""Every user-visible string has a Simplified Chinese translation, compiled and current."""

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.utils import translation

PACKAGE = Path(__file__).resolve().parents[2]
PO = PACKAGE / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def translated(entries):
    return {(e.msgctxt, e.msgid): (e.msgstr, tuple(sorted(e.msgstr_plural.items())))
            for e in entries if not e.obsolete}  # fmt: skip


def test_every_message_is_translated_and_none_is_fuzzy():
    catalog = polib.pofile(str(PO))
    untranslated = [e.msgid for e in catalog.untranslated_entries()]
    fuzzy = [e.msgid for e in catalog.fuzzy_entries()]
    assert untranslated == []
    assert fuzzy == []


def test_the_compiled_catalog_matches_the_po_file():
    assert translated(polib.mofile(str(MO))) == translated(
        e for e in polib.pofile(str(PO)) if e.msgid
    ), "run `make messages` to recompile django.mo"


def test_placeholders_survive_translation():
    for entry in polib.pofile(str(PO)):
        for placeholder in ("%(", "%s", "%d"):
            if entry.msgid.count(placeholder) != entry.msgstr.count(placeholder) and entry.msgstr:
                pytest.fail(f"placeholders differ in {entry.msgid!r} → {entry.msgstr!r}")


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext is not installed")
def test_no_string_in_the_code_is_missing_from_the_catalog(tmp_path):
    # makemessages on a copy of the package: any msgid it finds must already be in our .po.
    copy = tmp_path / "erpcare"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("static", "__pycache__", "tests"))
    subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", "zh_Hans", "--no-location",
         "--no-obsolete"],
        cwd=copy, check=True, capture_output=True,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "",
             "PYTHONPATH": str(PACKAGE.parent)},
    )  # fmt: skip
    fresh = {e.msgid for e in polib.pofile(str(copy / PO.relative_to(PACKAGE))) if e.msgid}
    ours = {e.msgid for e in polib.pofile(str(PO)) if e.msgid}
    assert sorted(fresh - ours) == [], "run `make messages` and translate the new strings"


def test_chinese_is_served_when_the_browser_asks_for_it():
    with translation.override("zh-hans"):
        assert translation.gettext("New") != "New"
