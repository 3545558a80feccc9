"""The first run: without an SMTP server each e-mail is one line in the log and kept to be read on
/dev/mail; scripts/serve ends with where to open the portal and the README's demo accounts."""

import logging
from pathlib import Path

from app import demo
from app.config import Settings
from app.notifications import mail

ROOT = Path(__file__).resolve().parents[1]


def test_without_an_smtp_host_an_email_is_one_line_in_the_log_and_kept(caplog):
    settings = Settings(smtp_host=None, environment="test")
    with caplog.at_level(logging.INFO, logger="app.notifications.mail"):
        mail.deliver(settings, to="laerer@example.dk", subject="Din booking", body="Hej\nlinje to", calendar=b"BEGIN:VCALENDAR")
    (record,) = caplog.records
    assert "\n" not in record.getMessage()
    assert "laerer@example.dk" in record.getMessage() and "Din booking" in record.getMessage()
    kept = mail.SENT_TO_LOG[0]
    assert (kept.to, kept.subject, kept.body) == ("laerer@example.dk", "Din booking", "Hej\nlinje to")


def test_serve_ends_with_the_address_and_the_readmes_demo_accounts():
    readme = (ROOT / "README.md").read_text()
    block = demo.welcome("http://127.0.0.1:8000")
    assert block.startswith("Open http://127.0.0.1:8000 — log in as")
    assert demo.PASSWORD in block and demo.PASSWORD in readme
    for email in demo.ACCOUNTS.values():
        assert email in block and f"`{email}`" in readme
    serve = (ROOT / "scripts" / "serve").read_text()
    assert "-m app welcome" in serve.split("uvicorn", 1)[1]  # after the server has started
