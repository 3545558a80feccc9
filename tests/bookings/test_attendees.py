"""Who comes when: a session's classes for its provider, with totals, as a page and as CSV."""

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from app.accounts.models import Organisation, User
from app.bookings import service as bookings
from app.bookings.attendees import session_attendees
from app.bookings.models import Booking, BookingStatus
from app.bookings.schemas import BookingIn
from app.catalogue.models import Offer, OfferSession, OfferStatus, OfferType
from app.deps import get_now
from tests.factories import log_in, make_provider, make_school, make_user

NOW = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
# 1 October 2026, 09:00-12:00 in Copenhagen (summer time, UTC+2).
STARTS = datetime(2026, 10, 1, 7, 0, tzinfo=UTC)


@dataclass
class World:
    provider: User
    offer: Offer
    session: OfferSession
    confirmed: Booking  # Aarhus, 20 pupils, 11 girls, 2 adults
    pending: Booking  # Herning, 15 pupils, girls not given, 1 adult
    offered: Booking  # passed the head of the waiting list when a place came free
    first_waiting: Booking
    second_waiting: Booking
    cancelled: Booking


def book(
    db,
    teacher,
    session,
    pupils,
    *,
    class_name,
    girls=None,
    adults=1,
    waitlist=False,
    needs="",
    phone="",
):
    data = BookingIn(
        session_id=session.id,
        class_name=class_name,
        grade=7,
        pupils=pupils,
        girls=girls,
        adults=adults,
        waitlist=waitlist,
        needs=needs,
        contact_phone=phone,
    )
    return bookings.book_session(db, teacher, data, now=NOW)


def teacher_at(db, school_name, municipality):
    return make_user(
        db, "teacher", organisation=make_school(db, municipality=municipality, name=school_name)
    )


@pytest.fixture
def world(db) -> World:
    provider_org = make_provider(db, name="Grundfos Lab")
    offer = Offer(
        provider_id=provider_org.id,
        type=OfferType.course,
        status=OfferStatus.published,
        title="Pumper & vand",
        grade_min=5,
        grade_max=9,
        municipality="Aarhus",
        requires_approval=True,
    )
    db.add(offer)
    db.flush()
    session = OfferSession(
        offer_id=offer.id, starts_at=STARTS, ends_at=STARTS + timedelta(hours=3), capacity_pupils=60
    )
    db.add(session)
    db.commit()
    a = teacher_at(db, "Åby Skole", "Aarhus")
    b = teacher_at(db, "Lindbjergskolen", "Herning")
    c = teacher_at(db, "Bakkeskolen", "Horsens")
    d = teacher_at(db, "Viby Skole", "Aarhus")
    e = teacher_at(db, "Ølsted Skole", "Hedensted")
    f = teacher_at(db, "Hammel Skole", "Favrskov")
    confirmed = book(
        db,
        a,
        session,
        20,
        class_name="7.a",
        girls=11,
        adults=2,
        needs="Kørestolsbruger",
        phone="20 30 40 50",
    )
    bookings.approve_booking(db, make_user(db, "coordinator"), confirmed.id, now=NOW)
    pending = book(db, b, session, 15, class_name="7.b")
    cancelled = book(db, d, session, 25, class_name="6.c")
    # All 60 places held: 30 pupils wait, and 5 wait behind them.
    first_waiting = book(db, c, session, 30, class_name="8.x", girls=14, waitlist=True)
    offered = book(db, e, session, 5, class_name="=1+1", girls=5, waitlist=True, needs="@SUM(A1)")
    # 25 places come free: too few for the 30, so the 5 behind them are offered a place; 20 are
    # left, too few for the 21 who come next.
    bookings.cancel_booking(db, d, cancelled.id, reason="Syg lærer", now=NOW)
    second_waiting = book(db, f, session, 21, class_name="5.a", waitlist=True)
    for booking in (confirmed, pending, offered, first_waiting, second_waiting, cancelled):
        db.refresh(booking)
    assert (
        offered.status == BookingStatus.offered
        and first_waiting.status == second_waiting.status == BookingStatus.waitlisted
    )
    provider = make_user(db, "provider", organisation=provider_org)
    return World(
        provider,
        offer,
        session,
        confirmed,
        pending,
        offered,
        first_waiting,
        second_waiting,
        cancelled,
    )


@pytest.fixture
def fixed_clock(app):
    app.dependency_overrides[get_now] = lambda: NOW
    return NOW


def test_the_provider_sees_who_comes_with_totals(db, world):
    a = session_attendees(db, world.provider, world.session.id, now=NOW)
    assert [b.id for b in a.coming] == [
        world.confirmed.id,
        world.pending.id,
        world.offered.id,
    ]  # sure first
    assert [b.id for b in a.waiting] == [world.first_waiting.id, world.second_waiting.id]
    assert [b.id for b in a.gone] == [world.cancelled.id]
    assert (
        a.confirmed.classes,
        a.confirmed.pupils,
        a.confirmed.girls,
        a.confirmed.girls_unknown,
        a.confirmed.adults,
    ) == (1, 20, 11, 0, 2)
    # Awaiting approval (15 pupils, girls not given) and a place offered (5 girls).
    assert (
        a.pending.classes,
        a.pending.pupils,
        a.pending.girls,
        a.pending.girls_unknown,
        a.pending.adults,
    ) == (2, 20, 5, 1, 2)
    assert (a.held_pupils, a.held_classes) == (40, 3)
    assert a.waiting_positions == {world.first_waiting.id: 1, world.second_waiting.id: 2}
    assert a.phone(world.confirmed) == "20 30 40 50"


def test_an_offered_place_whose_hold_ran_out_no_longer_counts_as_coming(db, world):
    later = world.offered.hold_until + timedelta(minutes=1)  # before any job has marked it expired
    a = session_attendees(db, world.provider, world.session.id, now=later)
    assert [b.id for b in a.coming] == [world.confirmed.id, world.pending.id]
    assert world.offered.id in {b.id for b in a.gone}
    assert a.pending.classes == 1 and a.held_pupils == 35


def test_the_page_lists_the_classes_in_danish_copenhagen_time(
    client, db, settings, world, fixed_clock
):
    log_in(client, db, world.provider, settings)
    response = client.get(f"/provider/sessions/{world.session.id}/attendees")
    assert response.status_code == 200
    assert "no-store" in response.headers["cache-control"]
    html = response.text
    assert "Pumper &amp; vand" in html and "1. oktober 2026 09.00–12.00" in html
    for text in (
        "Åby Skole",
        "Lindbjergskolen",
        "Kørestolsbruger",
        "20 30 40 50",
        "Skole",
        "Kommune",
        "Elever",
        "Heraf piger",
    ):
        assert text in html
    coming, waiting = html.split('id="waiting"')
    assert coming.index("Åby Skole") < coming.index("Lindbjergskolen")
    assert waiting.index("Bakkeskolen") < waiting.index("Hammel Skole")
    footer = re.sub(
        r"\s+", " ", re.sub(r"<[^>]+>", " ", coming.split("<tfoot>")[1].split("</tfoot>")[0])
    )
    assert re.search(r": 1 klasse 20 11 2 ", footer) and re.search(
        r": 2 klasser 20 5 .*? 2 ", footer
    )
    # The cancelled class is listed apart, collapsed, with the teacher's reason.
    assert '<details class="gone">' in html and "Syg lærer" in html.split('<details class="gone">')[1]
    assert "Viby Skole" not in coming and "Viby Skole" not in waiting.split('<details class="gone">')[0]
    # Scrollable tables are reachable by keyboard and named; every column and row has its header.
    assert 'class="table-wrap" tabindex="0" role="region"' in html and "<caption" in html
    assert 'scope="col"' in html and 'scope="row"' in html
    assert f'href="/provider/sessions/{world.session.id}/attendees.csv"' in html


def test_the_sessions_page_links_to_who_comes(client, db, settings, world, fixed_clock):
    log_in(client, db, world.provider, settings)
    html = client.get(f"/provider/offers/{world.offer.id}/sessions").text
    assert f'href="/provider/sessions/{world.session.id}/attendees"' in html


def read_csv(response) -> list[list[str]]:
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM that makes Excel read UTF-8
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))


def test_the_csv_export_has_the_same_classes_and_counts(client, db, settings, world, fixed_clock):
    log_in(client, db, world.provider, settings)
    response = client.get(f"/provider/sessions/{world.session.id}/attendees.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    # "deltagere-..." once the Danish catalog has the word; the offer and the day in Copenhagen time.
    assert re.fullmatch(
        r'attachment; filename="deltagere-pumper-vand-2026-10-01\.csv"',
        response.headers["content-disposition"],
    )
    header, *rows = read_csv(response)
    assert header[:6] == ["Status", "Skole", "Kommune", "Klasse", "Klassetrin", "Elever"]
    assert [r[1] for r in rows] == [
        "Åby Skole",
        "Lindbjergskolen",
        "Ølsted Skole",
        "Bakkeskolen",
        "Hammel Skole",
    ]
    by_school = {r[1]: r for r in rows}
    assert by_school["Åby Skole"][2:8] == [
        "Aarhus",
        "7.a",
        by_school["Åby Skole"][4],
        "20",
        "11",
        "2",
    ]
    assert (
        by_school["Åby Skole"][8] == "Kørestolsbruger"
        and by_school["Åby Skole"][11] == "20 30 40 50"
    )
    assert by_school["Lindbjergskolen"][6] == "" and by_school["Bakkeskolen"][6] == "14"
    assert sum(int(r[5]) for r in rows[:3]) == 40
    assert "2" in by_school["Hammel Skole"][0]  # second on the waiting list
    # A teacher's text that a spreadsheet would run as a formula stays text.
    assert by_school["Ølsted Skole"][3] == "'=1+1" and by_school["Ølsted Skole"][8] == "'@SUM(A1)"
    emails = {r[10] for r in rows}
    assert len(emails) == 5 and all("@example.dk" in e for e in emails)


def test_english_headers_with_the_language_switch(client, db, settings, world, fixed_clock):
    log_in(client, db, world.provider, settings)
    client.cookies.set("stem_lang", "en")
    header, *_rows = read_csv(client.get(f"/provider/sessions/{world.session.id}/attendees.csv"))
    assert header[:6] == ["Status", "School", "Municipality", "Class", "Grade", "Pupils"]
    html = client.get(f"/provider/sessions/{world.session.id}/attendees").text
    assert '<html lang="en">' in html and "Who comes" in html and "Municipality" in html
    assert "1 October 2026, 09:00–12:00" in html


@pytest.mark.parametrize("suffix", ["", ".csv"])
def test_other_providers_and_teachers_are_told_it_does_not_exist(
    client, db, settings, world, suffix
):
    url = f"/provider/sessions/{world.session.id}/attendees{suffix}"
    booked_teacher = db.get(User, world.confirmed.teacher_id)
    for user in (make_user(db, "provider"), booked_teacher, make_user(db, "mentor")):
        log_in(client, db, user, settings)
        response = client.get(url)
        assert response.status_code == 404
        assert booked_teacher.email not in response.text
    client.cookies.clear()
    assert client.get(url).status_code == 303  # log in first
    log_in(client, db, world.provider, settings)
    assert (
        client.get(f"/provider/sessions/{world.session.id + 1000}/attendees{suffix}").status_code
        == 404
    )


def test_coordinators_see_the_classes_they_may_see_anywhere(
    client, db, settings, world, fixed_clock
):
    aarhus_teacher = db.get(User, world.confirmed.teacher_id)
    herning_teacher = db.get(User, world.pending.teacher_id)
    log_in(client, db, make_user(db, "coordinator"), settings)
    html = client.get(f"/provider/sessions/{world.session.id}/attendees").text
    assert aarhus_teacher.email in html and herning_teacher.email in html

    log_in(client, db, make_user(db, "coordinator", municipality="Herning"), settings)
    response = client.get(f"/provider/sessions/{world.session.id}/attendees.csv")
    _header, *rows = read_csv(response)
    assert [r[1] for r in rows] == ["Lindbjergskolen"]
    html = client.get(f"/provider/sessions/{world.session.id}/attendees").text
    assert herning_teacher.email in html and aarhus_teacher.email not in html and "Herning" in html
    school = db.get(Organisation, world.first_waiting.school_id)
    assert school.name not in html
