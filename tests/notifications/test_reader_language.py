"""Messages in the reader's chosen language (issue 16): an inbox message and an e-mail are written
in the language of the person who reads them (User.language), not of the person whose action
caused them, nor of the worker that writes some of them."""

from sqlmodel import select

from app.bookings import service as bookings
from app.bookings.notices import tell_about_new_bookings
from app.deps import get_now
from app.i18n import current_language, language
from app.notifications.models import Notification, OutboxMessage
from tests.bookings.conftest import NOW, book, make_world
from tests.factories import log_in, make_user, post_form


def english(db, user):
    user.language = "en"
    db.add(user)
    db.commit()
    return user


def test_a_teacher_who_chose_english_gets_english_when_a_danish_coordinator_approves(app, client, db, settings, mailbox, send_outbox):
    app.dependency_overrides[get_now] = lambda: NOW
    offer, session, teachers = make_world(db)
    teacher = english(db, teachers[0])
    booking = book(db, teacher, session)
    coordinator = make_user(db, "coordinator")  # Danish, the default
    log_in(client, db, coordinator, settings)
    assert post_form(client, f"/bookings/{booking.id}/approve", {}, follow_redirects=False).status_code == 303

    note = db.exec(select(Notification).where(Notification.user_id == teacher.id, Notification.kind == "approved")).one()
    assert note.subject == f"Approved: {offer.title}"
    assert note.body.startswith(f"Hello {teacher.name},") and "is approved" in note.body and "Kind regards" in note.body
    mail = db.exec(select(OutboxMessage).where(OutboxMessage.to_address == teacher.email, OutboxMessage.subject == note.subject)).one()
    assert "is approved" in mail.body
    send_outbox(NOW)
    (sent,) = [m for m in mailbox.to(teacher.email) if m["Subject"] == note.subject]
    assert "is approved" in sent.get_body(preferencelist=("plain",)).get_content()


def test_the_worker_writes_each_teacher_in_their_own_language(db):
    offer, session, teachers = make_world(db)
    danish, english_teacher = teachers[0], english(db, teachers[1])
    book(db, danish, session, class_name="7.a")
    book(db, english_teacher, session, class_name="7.b")
    with language("da"):  # the worker runs in the default language
        tell_about_new_bookings(db, now=NOW)
        assert current_language() == "da"
    db.commit()
    subjects = {n.user_id: n.subject for n in db.exec(select(Notification).where(Notification.kind == "booked"))}
    assert subjects[english_teacher.id] == f"Booking received: {offer.title}"
    assert subjects[danish.id] != subjects[english_teacher.id] and offer.title in subjects[danish.id]


def test_a_danish_teacher_gets_danish_when_an_english_coordinator_declines(db):
    offer, session, teachers = make_world(db)
    booking = book(db, teachers[0], session)
    coordinator = english(db, make_user(db, "coordinator"))
    with language(coordinator.language):  # the coordinator's request, in English
        bookings.decline_booking(db, coordinator, booking.id, reason="Fuldt", now=NOW)
    note = db.exec(select(Notification).where(Notification.user_id == teachers[0].id, Notification.kind == "declined")).one()
    assert note.subject == f"Afvist: {offer.title}"
