"""The Danish catalog is complete: every message in the code and templates has a Danish text with
the same placeholders. Run scripts/translations and translate what it adds when this fails."""

import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.pofile import read_po

from app.i18n import language, local_datetime, local_number, local_span, local_time

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def test_every_message_has_a_danish_translation_with_the_same_placeholders(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            Path(sys.executable).parent / "pybabel",
            "-q",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_",
            "-k",
            "gettext",
            "-k",
            "ngettext:1,2",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
    )
    with pot.open("rb") as f:
        wanted = {m.id: m for m in read_po(f) if m.id}
    with (ROOT / "translations/da/LC_MESSAGES/messages.po").open("rb") as f:
        danish = {m.id: m for m in read_po(f, locale="da") if m.id}

    missing = [m for m in wanted if m not in danish or not all(_strings(danish[m]))]
    assert missing == [], "messages without a Danish translation"
    for msgid, message in danish.items():
        assert not message.fuzzy, msgid
        source = set(PLACEHOLDER.findall(" ".join(_ids(msgid))))
        for text in _strings(message):
            assert set(PLACEHOLDER.findall(text)) == source, msgid


def _ids(msgid) -> tuple[str, ...]:
    return msgid if isinstance(msgid, tuple) else (msgid,)


def _strings(message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


def test_dates_times_and_numbers_are_written_as_each_language_writes_them():
    moment = datetime(2027, 1, 27, 7, 30, tzinfo=UTC)  # 08.30 in Copenhagen
    with language("da"):
        assert local_datetime(moment) == "27. jan. 2027 08.30"  # no seconds, no zone
        assert local_datetime(moment, "full") == "onsdag den 27. januar 2027 08.30"
        assert (local_time(moment), local_number(74.46)) == ("08.30", "74,5")
    with language("en"):
        assert local_datetime(moment) == "27 Jan 2027, 08:30"
        assert (local_time(moment), local_number(74.46)) == ("08:30", "74.5")


def test_no_message_is_written_inside_an_f_string():
    """pybabel does not look inside f-strings, so a message written there is never translated."""
    inside = re.compile(r"""\bf(["']).*\b_\(""")
    found = [f"{path.relative_to(ROOT)}:{number}" for path in sorted((ROOT / "app").rglob("*.py"))
             for number, line in enumerate(path.read_text().splitlines(), 1) if inside.search(line)]
    assert found == []


def test_a_span_of_one_day_gives_the_end_as_a_time_only():
    starts = datetime(2026, 12, 2, 7, 15, tzinfo=UTC)
    with language("da"):
        assert local_span(starts, starts.replace(hour=10, minute=30)) == "2. dec. 2026 08.15–11.30"
        assert local_span(starts, starts.replace(day=4, hour=14)) == "2. dec. 2026 08.15 – 4. dec. 2026 15.15"
