"""Limits beyond a date's own capacity: capacity pools shared by several dates (and the providers'
pages for them), and coordinators' caps per school, offer type and school year."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from app.bookings import limits
from app.bookings import service as bookings
from app.bookings.models import Booking, BookingStatus, CapacityPool, CapacityPoolSession, SchoolCap
from app.bookings.schemas import BookingIn
from app.calendar.bounds import school_year_of
from app.catalogue.models import Offer, OfferSession, OfferStatus, OfferType
from app.db import utcnow
from app.errors import Conflict, InvalidInput, NotFound
from app.i18n import TIMEZONE
from tests.factories import log_in, make_provider, make_school, make_user, post_form

NOW = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)


def make_offer(db, provider, *, type=OfferType.course, waitlist_may_pass=True):
    offer = Offer(provider_id=provider.id, type=type, status=OfferStatus.published, title=f"Forløb {type.value}",
                  grade_min=0, grade_max=10, municipality="Aarhus", requires_approval=False, waitlist_may_pass=waitlist_may_pass)
    db.add(offer)
    db.commit()
    return offer


def make_session(db, offer, starts, capacity=100, classes=None):
    session = OfferSession(offer_id=offer.id, starts_at=starts, ends_at=starts + timedelta(hours=3),
                           capacity_pupils=capacity, capacity_classes=classes)
    db.add(session)
    db.commit()
    return session


def make_pool(db, provider, sessions, *, pupils=None, classes=None):
    pool = CapacityPool(provider_id=provider.id, name="Uge 40", capacity_pupils=pupils, capacity_classes=classes)
    db.add(pool)
    db.flush()
    db.add_all([CapacityPoolSession(pool_id=pool.id, session_id=s.id) for s in sessions])
    db.commit()
    return pool


def book(db, teacher, session, pupils=20, *, class_name="7.a", waitlist=False, now=NOW):
    data = BookingIn(session_id=session.id, class_name=class_name, grade=7, pupils=pupils, waitlist=waitlist)
    return bookings.book_session(db, teacher, data, now=now)


@pytest.fixture
def shared(db):
    """Two dates of one provider (room for 100 pupils each) sharing a pool, and one date outside it."""
    provider = make_provider(db)
    offer = make_offer(db, provider)
    first = make_session(db, offer, NOW + timedelta(days=30))
    second = make_session(db, offer, NOW + timedelta(days=31))
    outside = make_session(db, offer, NOW + timedelta(days=32))
    teachers = [make_user(db, "teacher", organisation=make_school(db)) for _ in range(5)]
    return provider, offer, (first, second, outside), teachers


# --- pools in the booking rules -----------------------------------------------------------------


def test_a_pool_limits_pupils_across_its_dates(db, shared):
    provider, _offer, (first, second, outside), (a, b, c, d, _e) = shared
    pool = make_pool(db, provider, [first, second], pupils=50)
    assert book(db, a, first, 25).status == BookingStatus.confirmed
    assert book(db, b, second, 25).status == BookingStatus.confirmed
    with pytest.raises(bookings.SessionFull):
        book(db, c, first, 1)  # the date has room for 75 more, the pool for none
    assert book(db, c, first, 1, waitlist=True).status == BookingStatus.waitlisted
    with pytest.raises(InvalidInput) as larger:
        book(db, d, second, 51, waitlist=True)  # the pool could never take it: refused, not put on the list
    assert larger.value.field == "pupils" and "50" in larger.value.message
    assert book(db, d, outside, 60).status == BookingStatus.confirmed  # not in the pool
    assert limits.pool_holdings(db, [pool.id], now=NOW) == {pool.id: (50, 2)}
    assert limits.pool_room(db, first.id, now=NOW) == (0, None)
    assert limits.pool_room(db, outside.id, now=NOW) == (None, None)


def test_a_pool_limits_classes_and_lapsed_holds_free_it(db, shared):
    provider, offer, (first, second, _outside), (a, b, c, _d, _e) = shared
    offer.requires_approval = True
    db.add(offer)
    db.commit()
    make_pool(db, provider, [first, second], classes=2)
    pending = book(db, a, first, 10)
    book(db, b, second, 10)
    with pytest.raises(bookings.SessionFull):
        book(db, c, second, 10)
    # A pending booking not approved in time holds nothing, with no job having run.
    later = pending.hold_until + timedelta(minutes=1)
    assert book(db, c, second, 10, now=later).status == BookingStatus.pending


def test_every_pool_of_a_date_must_have_room(db, shared):
    provider, _offer, (first, second, outside), (a, b, _c, _d, _e) = shared
    make_pool(db, provider, [first, second, outside], pupils=500)
    make_pool(db, provider, [second], classes=1)
    book(db, a, second, 10)
    with pytest.raises(bookings.SessionFull):
        book(db, b, second, 10)
    assert book(db, b, first, 10).status == BookingStatus.confirmed


def test_the_waiting_list_is_promoted_only_as_far_as_the_pool_allows(db, shared):
    provider, _offer, (first, second, _outside), (a, b, c, d, e) = shared
    pool = make_pool(db, provider, [first, second], pupils=60)
    freed = book(db, a, first, 30)
    book(db, b, second, 30)
    too_big = book(db, c, first, 40, waitlist=True)  # the date has room, the pool has not
    fits = book(db, d, first, 25, waitlist=True)
    also_fits = book(db, e, first, 10, waitlist=True)
    assert {too_big.status, fits.status, also_fits.status} == {BookingStatus.waitlisted}

    bookings.cancel_booking(db, a, freed.id, reason="", now=NOW)
    for booking in (too_big, fits, also_fits):
        db.refresh(booking)
    # 30 pupils came free in the pool: 40 do not fit, 25 do (and may pass the head), then 10 do not.
    assert too_big.status == BookingStatus.waitlisted
    assert fits.status == BookingStatus.offered
    assert also_fits.status == BookingStatus.waitlisted
    assert limits.pool_holdings(db, [pool.id], now=NOW) == {pool.id: (55, 2)}


def test_seats_freed_in_one_date_are_offered_to_the_waiting_list_of_another_date_in_the_pool(db, shared):
    provider, _offer, (first, second, _outside), (a, b, c, _d, _e) = shared
    make_pool(db, provider, [first, second], pupils=50)
    freed = book(db, a, first, 30)
    book(db, b, second, 20)
    waiting_elsewhere = book(db, c, second, 25, waitlist=True)  # the second date has room, the pool has not
    assert waiting_elsewhere.status == BookingStatus.waitlisted
    bookings.cancel_booking(db, a, freed.id, reason="", now=NOW)
    db.refresh(waiting_elsewhere)
    assert waiting_elsewhere.status == BookingStatus.offered


# --- pools managed by their provider --------------------------------------------------------------


def test_a_provider_manages_its_pools_and_cannot_touch_anothers(db, shared):
    provider, _offer, (first, second, outside), _teachers = shared
    owner = make_user(db, "provider", organisation=provider)
    stranger = make_user(db, "provider")
    teacher = make_user(db, "teacher")
    with pytest.raises(InvalidInput) as no_limit:
        limits.create_pool(db, owner, name="Uge 40", capacity_pupils=None, capacity_classes=None)
    assert no_limit.value.field == "capacity_pupils"
    with pytest.raises(InvalidInput):
        limits.create_pool(db, owner, name="Uge 40", capacity_pupils=0, capacity_classes=None)
    pool = limits.create_pool(db, owner, name=" Uge 40 ", capacity_pupils=None, capacity_classes=6)
    assert pool.name == "Uge 40"

    limits.set_pool_sessions(db, owner, pool.id, [first.id, second.id], now=NOW)
    limits.set_pool_sessions(db, owner, pool.id, [second.id, outside.id], now=NOW)
    members = db.exec(select(CapacityPoolSession.session_id).where(CapacityPoolSession.pool_id == pool.id)).all()
    assert sorted(members) == sorted([second.id, outside.id])
    limits.update_pool(db, owner, pool.id, name="Uge 41", capacity_pupils=100, capacity_classes=None)
    db.refresh(pool)
    assert (pool.name, pool.capacity_pupils, pool.capacity_classes) == ("Uge 41", 100, None)

    for attempt in (
        lambda: limits.own_pool(db, stranger, pool.id),
        lambda: limits.update_pool(db, stranger, pool.id, name="Mine", capacity_pupils=1, capacity_classes=None),
        lambda: limits.set_pool_sessions(db, stranger, pool.id, [], now=NOW),
        lambda: limits.delete_pool(db, stranger, pool.id),
    ):
        with pytest.raises(NotFound):
            attempt()
        db.rollback()
    assert [v.pool.id for v in limits.pool_views(db, stranger, now=NOW)] == []
    # Nor can a provider put another provider's date into its own pool.
    own = limits.create_pool(db, stranger, name="Egen", capacity_pupils=10, capacity_classes=None)
    with pytest.raises(NotFound):
        limits.set_pool_sessions(db, stranger, own.id, [first.id], now=NOW)
    with pytest.raises(Exception) as not_provider:
        limits.pool_views(db, teacher, now=NOW)
    assert not_provider.value.status_code == 403

    limits.delete_pool(db, owner, pool.id)
    assert db.get(CapacityPool, pool.id) is None
    assert db.exec(select(CapacityPoolSession).where(CapacityPoolSession.pool_id == pool.id)).all() == []


def test_past_and_cancelled_dates_keep_their_place_in_a_pool(db, shared):
    provider, offer, (first, second, _outside), _teachers = shared
    owner = make_user(db, "provider", organisation=provider)
    past = make_session(db, offer, NOW - timedelta(days=3))
    pool = make_pool(db, provider, [past, first], pupils=100)
    limits.set_pool_sessions(db, owner, pool.id, [second.id], now=NOW)
    members = db.exec(select(CapacityPoolSession.session_id).where(CapacityPoolSession.pool_id == pool.id)).all()
    assert sorted(members) == sorted([past.id, second.id])
    with pytest.raises(NotFound):
        limits.set_pool_sessions(db, owner, pool.id, [past.id], now=NOW)


# --- caps per school, offer type and school year ---------------------------------------------------


def cap(db, max_bookings, *, municipality=None, year=2026, offer_type=OfferType.course):
    db.add(SchoolCap(offer_type=offer_type, school_year=year, municipality=municipality, max_bookings=max_bookings))
    db.commit()


@pytest.fixture
def year_of_dates(db):
    """Dates of one course and one company week over two school years."""
    provider = make_provider(db)
    course = make_offer(db, provider)
    week = make_offer(db, provider, type=OfferType.company_week)
    starts = [datetime(2026, 10, 5, 8, tzinfo=UTC), datetime(2026, 11, 5, 8, tzinfo=UTC),
              datetime(2027, 3, 5, 8, tzinfo=UTC), datetime(2027, 9, 6, 8, tzinfo=UTC)]
    return [make_session(db, course, s) for s in starts], make_session(db, week, datetime(2027, 2, 1, 8, tzinfo=UTC))


def test_a_regional_cap_counts_a_schools_bookings_of_the_type_in_the_school_year(db, year_of_dates):
    (october, november, march, next_year), week = year_of_dates
    cap(db, 2)
    school = make_school(db, municipality="Herning")
    teacher = make_user(db, "teacher", organisation=school)
    colleague = make_user(db, "teacher", organisation=school)
    first = book(db, teacher, october, class_name="6.a")
    book(db, colleague, november, class_name="6.b")  # a colleague's booking counts for the school
    with pytest.raises(Conflict) as refused:
        book(db, teacher, march, class_name="6.c")
    assert "2026/27" in refused.value.message and "2" in refused.value.message
    assert book(db, teacher, week, class_name="6.c").status == BookingStatus.confirmed  # another type
    assert book(db, teacher, next_year, class_name="6.c").status == BookingStatus.confirmed  # next school year
    other_school = make_user(db, "teacher", organisation=make_school(db, municipality="Herning"))
    assert book(db, other_school, march).status == BookingStatus.confirmed  # its own count

    bookings.cancel_booking(db, teacher, first.id, reason="", now=NOW)
    assert book(db, teacher, march, class_name="6.c").status == BookingStatus.confirmed  # cancelling frees it


def test_a_municipal_cap_binds_its_schools_and_every_cap_must_hold(db, year_of_dates):
    (october, november, march, _next_year), _week = year_of_dates
    cap(db, 3)
    cap(db, 1, municipality="Aarhus")
    cap(db, 5, municipality="Herning")  # looser than the region's: the region's still holds
    aarhus = make_user(db, "teacher", organisation=make_school(db, municipality="Aarhus"))
    herning = make_user(db, "teacher", organisation=make_school(db, municipality="Herning"))
    book(db, aarhus, october)
    with pytest.raises(Conflict) as refused:
        book(db, aarhus, november, class_name="7.b")
    assert "Aarhus" in refused.value.message
    for session, name in ((october, "7.a"), (november, "7.b"), (march, "7.c")):
        book(db, herning, session, class_name=name)
    with pytest.raises(Conflict) as regional:
        book(db, herning, october, class_name="7.d")
    assert "Aarhus" not in regional.value.message and "3" in regional.value.message


def test_waiting_list_places_count_toward_a_cap_and_zero_closes_the_type(db, year_of_dates):
    (october, november, _march, next_year), _week = year_of_dates
    october.capacity_pupils = 20
    db.add(october)
    db.commit()
    cap(db, 1)
    cap(db, 0, year=2027)
    teacher = make_user(db, "teacher")
    book(db, make_user(db, "teacher"), october, 20)
    assert book(db, teacher, october, 20, waitlist=True).status == BookingStatus.waitlisted
    with pytest.raises(Conflict):
        book(db, teacher, november, class_name="8.b")
    with pytest.raises(Conflict) as closed:
        book(db, teacher, next_year, class_name="8.c")
    assert "2027/28" in closed.value.message


def test_the_school_year_begins_on_the_first_of_august_danish_time():
    start, end = limits.school_year_bounds(2026)
    assert start == datetime(2026, 7, 31, 22, 0, tzinfo=UTC)
    assert end == datetime(2027, 7, 31, 22, 0, tzinfo=UTC)


def test_coordinators_set_caps_within_their_own_area(db):
    regional = make_user(db, "coordinator")
    aarhus = make_user(db, "coordinator", municipality="Aarhus")
    teacher = make_user(db, "teacher")
    made = limits.set_cap(db, regional, offer_type=OfferType.girls_day, school_year=2026, municipality=None, max_bookings=2, now=NOW)
    again = limits.set_cap(db, regional, offer_type=OfferType.girls_day, school_year=2026, municipality=None, max_bookings=3, now=NOW)
    assert again.id == made.id and again.max_bookings == 3  # setting it again changes its number
    own = limits.set_cap(db, aarhus, offer_type=OfferType.girls_day, school_year=2026, municipality="Aarhus", max_bookings=1, now=NOW)
    for municipality in (None, "Herning"):
        with pytest.raises(InvalidInput) as refused:
            limits.set_cap(db, aarhus, offer_type=OfferType.course, school_year=2026, municipality=municipality, max_bookings=1, now=NOW)
        assert refused.value.field == "municipality"
    for bad in ({"max_bookings": -1}, {"max_bookings": 1001}, {"school_year": 2040}, {"municipality": "Oslo"}):
        with pytest.raises(InvalidInput):
            limits.set_cap(db, regional, **{"offer_type": OfferType.course, "school_year": 2026, "municipality": None,
                                            "max_bookings": 1, "now": NOW, **bad})
    assert {c.id for c in limits.list_caps(db, aarhus, from_year=2025)} == {made.id, own.id}
    with pytest.raises(NotFound):
        limits.delete_cap(db, aarhus, made.id)  # the region's
    with pytest.raises(Exception) as not_staff:
        limits.list_caps(db, teacher, from_year=2025)
    assert not_staff.value.status_code == 403
    limits.delete_cap(db, aarhus, own.id)
    limits.delete_cap(db, regional, made.id)
    assert limits.list_caps(db, regional, from_year=2025) == []


# --- the pages ------------------------------------------------------------------------------------


def upcoming(db, provider, *, title="Robotter"):
    offer = make_offer(db, provider)
    offer.title = title
    db.add(offer)
    starts = utcnow() + timedelta(days=40)
    return offer, make_session(db, offer, starts), make_session(db, offer, starts + timedelta(days=1))


def test_provider_creates_edits_fills_and_deletes_a_pool_in_the_pages(client, db, settings):
    provider = make_provider(db)
    _offer, first, second = upcoming(db, provider)
    log_in(client, db, make_user(db, "provider", organisation=provider), settings)
    assert "/provider/pools" in client.get("/provider/offers").text  # in the menu

    empty = post_form(client, "/provider/pools", {"name": "Uge 45"})
    assert empty.status_code == 422 and "Uge 45" in empty.text
    created = post_form(client, "/provider/pools", {"name": "Uge 45", "capacity_classes": "6"})
    assert created.status_code == 303
    pool_url = created.headers["location"].split("?")[0]
    pool = db.get(CapacityPool, int(pool_url.rsplit("/", 1)[1]))
    page = client.get(pool_url).text
    assert "Robotter" in page and f'value="{first.id}"' in page and f'value="{second.id}"' in page

    assert post_form(client, f"{pool_url}/sessions", {"session_ids": [str(first.id), str(second.id)]}).status_code == 303
    listing = client.get("/provider/pools").text
    assert "Uge 45" in listing and re.search(r"0 (af|of) 6", listing)  # held now, of the limit
    bad = post_form(client, pool_url, {"name": "Uge 45", "capacity_pupils": "mange"})
    assert bad.status_code == 422 and "Skriv et helt tal." in bad.text
    assert post_form(client, pool_url, {"name": "Uge 46", "capacity_pupils": "90"}).status_code == 303
    db.refresh(pool)
    assert (pool.name, pool.capacity_pupils, pool.capacity_classes) == ("Uge 46", 90, None)
    assert len(re.findall(r'name="session_ids" type="checkbox" value="\d+" checked', client.get(pool_url).text)) == 2

    log_in(client, db, make_user(db, "provider"), settings)
    assert client.get(pool_url).status_code == 404
    assert post_form(client, f"{pool_url}/delete").status_code == 404
    log_in(client, db, make_user(db, "provider", organisation=provider), settings)
    assert post_form(client, f"{pool_url}/delete").status_code == 303
    assert db.get(CapacityPool, pool.id) is None


def test_a_teacher_is_told_when_a_cap_stops_a_booking(client, db, settings):
    provider = make_provider(db)
    _offer, first, second = upcoming(db, provider)
    school = make_school(db, municipality="Aarhus")
    teacher = make_user(db, "teacher", organisation=school)
    db.add(Booking(session_id=first.id, school_id=school.id, teacher_id=teacher.id, status=BookingStatus.confirmed,
                   class_name="5.a", grade=5, pupils=20))
    year = school_year_of(second.starts_at.astimezone(TIMEZONE).date())
    cap(db, 1, municipality="Aarhus", year=year)
    log_in(client, db, teacher, settings)
    form = client.get(f"/sessions/{second.id}/book").text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form).group(1)
    refused = post_form(client, f"/sessions/{second.id}/book",
                        {"class_name": "5.b", "grade": "5", "pupils": "20", "adults": "1", "idempotency_key": key})
    assert refused.status_code == 422
    assert "Aarhus" in refused.text and limits.school_year_name(year) in refused.text


def test_a_teacher_is_told_when_a_full_pool_stops_a_booking(client, db, settings):
    provider = make_provider(db)
    _offer, first, second = upcoming(db, provider)
    make_pool(db, provider, [first, second], classes=1)
    other = make_school(db)
    db.add(Booking(session_id=first.id, school_id=other.id, teacher_id=make_user(db, "teacher", organisation=other).id,
                   status=BookingStatus.confirmed, class_name="5.a", grade=5, pupils=20))
    db.commit()
    log_in(client, db, make_user(db, "teacher"), settings)
    form = client.get(f"/sessions/{second.id}/book").text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form).group(1)
    refused = post_form(client, f"/sessions/{second.id}/book",
                        {"class_name": "5.b", "grade": "5", "pupils": "20", "adults": "1", "idempotency_key": key})
    assert refused.status_code == 422 and "venteliste" in refused.text.lower()


def test_coordinator_sets_and_deletes_caps_in_the_pages(client, db, settings):
    coordinator = make_user(db, "coordinator", municipality="Aarhus")
    log_in(client, db, coordinator, settings)
    page = client.get("/admin/caps").text
    assert "/admin/caps" in page and 'name="municipality" value="Aarhus"' in page
    year = school_year_of(utcnow().astimezone(TIMEZONE).date())
    form = {"offer_type": "girls_day", "school_year": str(year), "municipality": "Aarhus"}
    bad = post_form(client, "/admin/caps", {**form, "max_bookings": "to"})
    assert bad.status_code == 422 and "Skriv et helt tal." in bad.text
    client.cookies.set("stem_lang", "en", domain="testserver.local")
    english = post_form(client, "/admin/caps", {**form, "max_bookings": "-1"})
    assert english.status_code == 422 and "Write a whole number from 0 to 1000." in english.text
    elsewhere = post_form(client, "/admin/caps", {**form, "municipality": "Herning", "max_bookings": "1"})
    assert elsewhere.status_code == 422 and "only set limits for schools in Aarhus" in elsewhere.text
    assert post_form(client, "/admin/caps", {**form, "max_bookings": "2"}).status_code == 303
    (made,) = db.exec(select(SchoolCap).where(SchoolCap.offer_type == OfferType.girls_day)).all()
    assert (made.municipality, made.max_bookings, made.school_year) == ("Aarhus", 2, year)
    assert "Girls Day in Science" in client.get("/admin/caps").text

    log_in(client, db, make_user(db, "coordinator", municipality="Herning"), settings)
    assert post_form(client, f"/admin/caps/{made.id}/delete").status_code == 404
    log_in(client, db, coordinator, settings)
    assert post_form(client, f"/admin/caps/{made.id}/delete").status_code == 303
    assert db.get(SchoolCap, made.id) is None
