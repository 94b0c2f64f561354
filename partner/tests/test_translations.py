"""Every interface string is translated in each language, and the compiled catalogues are current."""

import gettext
import re
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
