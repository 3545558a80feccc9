"""Notifications: the inbox in the portal and the e-mail outbox the worker sends from."""

import subprocess
import sys
from datetime import timedelta

from sqlmodel import select

from app.config import Settings
from app.db import utcnow
from app.notifications import service as notifications
from app.notifications.models import Notification, OutboxMessage
from tests.conftest import ROOT, clock_env, free_port
from tests.factories import api_headers, log_in, make_user, post_form


def _message(db, user, subject="Godkendt: Robotter", link="/bookings"):
    notifications.notify(db, user, kind="approved", subject=subject, body="Hej", now=utcnow(), link=link, base_url="https://stem.example")
    db.commit()


def test_the_inbox_shows_messages_newest_first_and_marks_them_read(client, db, settings):
    teacher = make_user(db, "teacher")
    other = make_user(db, "teacher")
    _message(db, teacher, "Første")
    _message(db, teacher, "Anden", link="/catalogue")
    _message(db, other, "Ikke din")
    log_in(client, db, teacher, settings)
    assert "2" in client.get("/inbox/unread").text
    page = client.get("/inbox").text
    assert page.index("Anden") < page.index("Første") and "Ikke din" not in page
    newest = db.exec(select(Notification).where(Notification.user_id == teacher.id, Notification.subject == "Anden")).one()
    opened = post_form(client, f"/inbox/{newest.id}/open")
    assert opened.status_code == 303 and opened.headers["location"] == "/catalogue"
    assert "1" in client.get("/inbox/unread").text
    post_form(client, "/inbox/read")
    assert client.get("/inbox/unread").text == ""
    theirs = db.exec(select(Notification).where(Notification.user_id == other.id)).one()
    assert post_form(client, f"/inbox/{theirs.id}/open").status_code == 404


def test_the_inbox_buttons_say_where_they_lead(client, db, settings):
    teacher = make_user(db, "teacher")
    for link in ("/bookings/7", "/evaluations/requests/3", "/offers/2", "/catalogue"):
        _message(db, teacher, f"Til {link}", link=link)
    log_in(client, db, teacher, settings)
    page = client.get("/inbox").text
    for label in ("Gå til bookingen", "Gå til evalueringen", "Gå til aktiviteten", "Gå til siden"):
        assert f">{label}<span" in page
    assert "Åbn beskeden" not in page


def test_the_inbox_api(client, db, settings):
    teacher = make_user(db, "teacher")
    _message(db, teacher)
    headers = api_headers(db, teacher, settings)
    page = client.get("/api/v1/notifications", headers=headers).json()
    assert page["total"] == 1 and page["items"][0]["read_at"] is None
    read = client.post(f"/api/v1/notifications/{page['items'][0]['id']}/read", headers=headers).json()
    assert read["read_at"] is not None
    assert client.post("/api/v1/notifications/2147483647/read", headers=headers).status_code == 404


def test_the_outbox_sends_once_and_keeps_messages_when_the_mail_server_is_down(db, settings, mailbox):
    teacher = make_user(db, "teacher")
    _message(db, teacher)
    now = utcnow()
    down = settings.model_copy(update={"smtp_port": free_port()})  # nothing listens there
    assert notifications.send_outbox(db, down, now=now, attachment=lambda db, m: None) == 0
    message = db.exec(select(OutboxMessage).where(OutboxMessage.to_address == teacher.email)).one()
    assert message.sent_at is None and message.attempts == 1 and message.last_error
    # Not retried before its back-off has passed, then delivered exactly once.
    assert notifications.send_outbox(db, settings, now=now, attachment=lambda db, m: None) == 0
    later = now + timedelta(minutes=2)
    assert notifications.send_outbox(db, settings, now=later, attachment=lambda db, m: None) == 1
    assert notifications.send_outbox(db, settings, now=later, attachment=lambda db, m: None) == 0
    (mail,) = mailbox.to(teacher.email)
    assert mail["Subject"] == "Godkendt: Robotter" and "https://stem.example/bookings" in mail.get_content()


def test_a_message_that_cannot_be_made_fails_like_an_undeliverable_one_and_stops_no_other(db, settings, mailbox):
    broken, fine = make_user(db, "teacher"), make_user(db, "teacher")
    _message(db, broken, "Uden kalender")
    _message(db, fine, "Med kalender")

    def attachment(db, message):
        if message.to_address == broken.email:
            raise ValueError("no such booking")
        return None

    assert notifications.send_outbox(db, settings, now=utcnow(), attachment=attachment) == 1
    assert [m["Subject"] for m in mailbox.to(fine.email)] == ["Med kalender"]
    (failed,) = notifications.undelivered(db)
    assert failed.to_address == broken.email and failed.attempts == 1
    assert failed.last_error == "ValueError: no such booking"


def test_the_worker_command_sends_the_outbox(tmp_path, mailbox, smtp_server):
    """`python -m app worker --once` against its own database and the test SMTP server."""
    from sqlmodel import Session

    from app.db import make_engine
    from tests.conftest import fresh_database

    url = fresh_database(str(tmp_path / "worker.db"))
    engine = make_engine(url)
    with Session(engine) as db:
        teacher = make_user(db, "teacher")
        _message(db, teacher, "Fra arbejderen")
        address = teacher.email
    engine.dispose()
    controller, _box = smtp_server
    env = {"DATABASE_URL": url, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(controller.port), "PATH": "/usr/bin:/bin", **clock_env()}
    done = subprocess.run([sys.executable, "-m", "app", "worker", "--once"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "'sent': 1" in done.stdout
    assert [m["Subject"] for m in mailbox.to(address)] == ["Fra arbejderen"]


def test_settings_without_smtp_host_log_instead(db, caplog):
    teacher = make_user(db, "teacher")
    _message(db, teacher, "Til loggen")
    assert notifications.send_outbox(db, Settings(environment="test"), now=utcnow(), attachment=lambda db, m: None) == 1
    assert "Til loggen" in caplog.text


def test_the_secretariat_sees_undelivered_e_mail_and_sends_it_again(client, db, settings, mailbox):
    teacher, admin = make_user(db, "teacher"), make_user(db, "admin")
    _message(db, teacher)
    now = utcnow()
    down = settings.model_copy(update={"smtp_port": free_port()})
    for attempt in range(notifications.MAX_ATTEMPTS):  # the worker gives up at last
        notifications.send_outbox(db, down, now=now + timedelta(days=attempt), attachment=lambda db, m: None)
    message = db.exec(select(OutboxMessage).where(OutboxMessage.to_address == teacher.email)).one()
    assert message.attempts == notifications.MAX_ATTEMPTS
    assert notifications.send_outbox(db, settings, now=now + timedelta(days=99), attachment=lambda db, m: None) == 0

    log_in(client, db, teacher, settings)
    assert client.get("/admin/outbox").status_code == 403
    # A municipality's coordinator sees none of the region's undelivered e-mail, nor sends it again.
    log_in(client, db, make_user(db, "coordinator", municipality="Randers"), settings)
    page = client.get("/admin/outbox")
    assert page.status_code == 403 and teacher.email not in page.text
    assert "/admin/outbox" not in client.get("/profile").text  # not in the menu either
    assert post_form(client, f"/admin/outbox/{message.id}/retry").status_code == 403
    assert post_form(client, "/admin/outbox/retry").status_code == 403
    db.refresh(message)
    assert message.attempts == notifications.MAX_ATTEMPTS
    log_in(client, db, admin, settings)
    assert "/admin/outbox" in client.get("/profile").text
    page = client.get("/admin/outbox").text
    assert teacher.email in page and "Opgivet" in page and message.last_error[:20] in page
    assert post_form(client, f"/admin/outbox/{message.id}/retry").status_code == 303
    assert notifications.send_outbox(db, settings, now=utcnow(), attachment=lambda db, m: None) == 1
    assert len(mailbox.to(teacher.email)) == 1
    assert "Alle e-mails er leveret" in client.get("/admin/outbox").text
    assert post_form(client, f"/admin/outbox/{message.id}/retry").status_code == 404  # sent: nothing to retry


def test_the_secretariat_is_warned_when_e_mail_waits_for_a_worker_that_does_not_run(client, db, settings):
    teacher, admin = make_user(db, "teacher"), make_user(db, "admin")
    log_in(client, db, admin, settings)
    _message(db, teacher)  # just written: the worker has a few seconds yet
    assert "Alle e-mails er leveret" in client.get("/admin/outbox").text
    message = db.exec(select(OutboxMessage).where(OutboxMessage.to_address == teacher.email)).one()
    message.send_after = utcnow() - notifications.OVERDUE - timedelta(minutes=1)
    db.add(message)
    db.commit()
    page = client.get("/admin/outbox").text
    assert "1 e-mail har ventet mere end 10 minutter" in page and "python -m app worker" in page
    assert "Alle e-mails er leveret" not in page
