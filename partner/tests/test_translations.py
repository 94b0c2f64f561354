"""Every interface string is translated in each language, the compiled catalogues are current, and no
string of the code or templates is missing from the catalogues."""

import gettext
import os
import re
import shutil
from pathlib import Path

import pytest

LOCALE = Path(__file__).resolve().parents[1] / "locale"
LANGUAGES = ("it", "fr", "de", "pl")


def _entries(po: Path) -> list[tuple[str, str, bool]]:
    entries = []
    for block in po.read_text(encoding="utf-8").split("\n\n"):
        if "msgid" not in block or block.lstrip().startswith("#~"):
            continue
        fuzzy = "#, fuzzy" in block
        msgid = "".join(re.findall(r'^(?:msgid|msgid_plural)? ?"(.*)"$', block.split("msgstr")[0], re.M))
        msgstr = "".join(re.findall(r'^(?:msgstr(?:\[\d\])?)? ?"(.*)"$', "msgstr" + block.split("msgstr", 1)[1], re.M))
        entries.append((msgid, msgstr, fuzzy))
    return entries


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_interface_string_is_translated(language):
    po = LOCALE / language / "LC_MESSAGES" / "django.po"
    missing = [msgid for msgid, msgstr, fuzzy in _entries(po) if msgid and (not msgstr or fuzzy)]
    assert missing == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalogue_holds_what_the_source_says(language):
    folder = LOCALE / language / "LC_MESSAGES"
    with (folder / "django.mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    stale = [
        msgid
        for msgid, msgstr, _ in _entries(folder / "django.po")
        if msgid and "%" not in msgid and "\\" not in msgid and compiled.gettext(msgid) != msgstr
    ]
    assert stale == [], "run `partner compilemessages`"


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The catalogues as `makemessages` would leave them today, made in a copy of the locale folder:
    the committed catalogues merged with every string the code and templates hold now."""
    from django.core.management import call_command
    from django.test import override_settings

    work = tmp_path_factory.mktemp("makemessages")
    shutil.copytree(LOCALE, work / "locale")
    # The sources are read through a link, so that makemessages writes into the copy, never the
    # committed folder (it writes next to the nearest locale folder above each file).
    (work / "partner").symlink_to(LOCALE.parent, target_is_directory=True)
    here = os.getcwd()
    os.chdir(work)
    try:
        with override_settings(LOCALE_PATHS=[work / "locale"]):
            call_command(
                "makemessages",
                locale=list(LANGUAGES),
                domain="django",
                symlinks=True,
                ignore_patterns=["partner/locale/*", "partner/static/*", "*/tests/*", "partner/tests/*"],
                verbosity=0,
            )
    finally:
        os.chdir(here)
    return work / "locale"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_string_in_the_code_has_a_translation_in_the_committed_catalogue(language, extracted):
    """A string added to the code or a template and never translated shows in English on that
    language's pages: the catalogue merged with today's code has it empty (or a guess, fuzzy)."""
    merged = extracted / language / "LC_MESSAGES" / "django.po"
    missing = sorted({msgid for msgid, msgstr, fuzzy in _entries(merged) if msgid and (not msgstr or fuzzy)})
    listed = "\n".join(missing)
    assert missing == [], (
        f"{len(missing)} strings without a {language} translation (add them to partner/locale):\n{listed}"
    )
