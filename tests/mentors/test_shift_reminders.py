"""The worker's messages about shifts (issue 14): reminders a week and a day before with the
shift's calendar file, alerts for dates short of mentors, and a mentor's calendar feed."""

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from app.accounts.models import Organisation, Role
from app.calendar import service as calendar
from app.catalogue.filters import CatalogueFilters
from app.catalogue.models import Offer
from app.mentors import reminders, shifts
from app.notifications.models import Notification, OutboxMessage
from tests.factories import make_mentor, make_user, mentoring_date

NOW = datetime(2027, 3, 1, 9, tzinfo=UTC)


def test_a_mentor_is_reminded_a_week_and_a_day_before_once_each(db, send_outbox, mailbox):
    date_ = mentoring_date(db, starts_at=NOW + timedelta(days=10))
    mentor = make_mentor(db)
    shifts.sign_up(db, mentor, date_.id, now=NOW)

    assert reminders.remind_mentors(db, now=NOW) == 0
    week_before = date_.starts_at - timedelta(days=6)
    assert reminders.remind_mentors(db, now=week_before) == 1
    assert reminders.remind_mentors(db, now=week_before + timedelta(hours=1)) == 0
    day_before = date_.starts_at - timedelta(hours=20)
    assert reminders.remind_mentors(db, now=day_before) == 1
    assert reminders.remind_mentors(db, now=day_before + timedelta(hours=1)) == 0

    told = db.exec(select(Notification).where(Notification.user_id == mentor.id).order_by(Notification.id)).all()
    assert [n.kind for n in told] == ["shift_reminder", "shift_reminder"]
    assert all(n.link == f"/mentor/shifts/{date_.id}" for n in told)
    queued = db.exec(select(OutboxMessage).where(OutboxMessage.to_address == mentor.email)).all()
    assert len(queued) == 2 and all("BEGIN:VEVENT" in m.calendar for m in queued)
    send_outbox(day_before)
    received = mailbox.to(mentor.email)
    assert len(received) == 2
    attachment = next(part for part in received[0].walk() if part.get_content_type() == "text/calendar")
    assert f"session-{date_.id}@stem-portal" in attachment.get_content()


def test_a_shift_taken_the_day_before_gets_one_reminder(db):
    date_ = mentoring_date(db, starts_at=NOW + timedelta(hours=20))
    shifts.sign_up(db, make_mentor(db), date_.id, now=NOW)
    assert reminders.remind_mentors(db, now=NOW) == 1
    assert reminders.remind_mentors(db, now=NOW + timedelta(hours=2)) == 0


def test_a_date_short_of_mentors_alerts_its_provider_and_coordinators_once(db, settings):
    date_ = mentoring_date(db, starts_at=NOW + timedelta(days=settings.mentor_shortage_days - 1), mentors_min=2)
    far = mentoring_date(db, starts_at=NOW + timedelta(days=settings.mentor_shortage_days + 5), mentors_min=2)
    enough = mentoring_date(db, starts_at=NOW + timedelta(days=3), mentors_min=1)
    shifts.sign_up(db, make_mentor(db), date_.id, now=NOW)
    shifts.sign_up(db, make_mentor(db), enough.id, now=NOW)
    offer = db.get(Offer, date_.offer_id)
    staff = make_user(db, Role.provider, organisation=db.get(Organisation, offer.provider_id))
    aarhus = make_user(db, Role.coordinator, municipality="Aarhus")
    herning = make_user(db, Role.coordinator, municipality="Herning")

    assert reminders.alert_short_dates(db, now=NOW, settings=settings) == 1
    assert reminders.alert_short_dates(db, now=NOW, settings=settings) == 0
    for user, expected in ((staff, 1), (aarhus, 1), (herning, 0)):
        told = db.exec(select(Notification).where(Notification.user_id == user.id, Notification.kind == "mentors_short")).all()
        assert len(told) == expected, user.email
    assert "1 af de 2" in db.exec(select(Notification.body).where(Notification.user_id == staff.id)).one()
    assert far.id != date_.id


def test_a_mentors_calendar_feed_holds_their_shifts(db, settings):
    mentor = make_mentor(db)
    mine = mentoring_date(db, starts_at=NOW + timedelta(days=5))
    other = mentoring_date(db, starts_at=NOW + timedelta(days=6))
    shifts.sign_up(db, mentor, mine.id, now=NOW)
    feed = calendar.feed_calendar(db, mentor, CatalogueFilters(), base_url="http://x", now=NOW).decode()
    assert f"session-{mine.id}@stem-portal" in feed and f"session-{other.id}@stem-portal" not in feed
