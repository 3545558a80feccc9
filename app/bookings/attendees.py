"""Who comes when: the classes booked into one session, for its provider (and the coordinators), as a
page and as a CSV file to open in Excel."""

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session, col, select

from app.accounts.models import Organisation, Role, User
from app.bookings import service as bookings
from app.bookings.models import Booking, BookingStatus
from app.catalogue import service as catalogue
from app.catalogue.models import Offer, OfferSession
from app.deps import Now, PageUser, PathId, SessionDep
from app.errors import NotFound
from app.i18n import TIMEZONE, _
from app.web.labels import grade, label
from app.web.templating import render

# More bookings than any session has (even a Girls Day with its waiting list): list_bookings pages,
# and this page wants them all.
ALL = 10_000
# The people a provider expects first: those who are sure to come, then those who may.
COMING_ORDER = {
    BookingStatus.confirmed: 0,
    BookingStatus.completed: 0,
    BookingStatus.pending: 1,
    BookingStatus.offered: 2,
}


@dataclass
class Totals:
    classes: int = 0
    pupils: int = 0
    girls: int = 0
    girls_unknown: int = 0  # classes that did not say how many girls they are
    adults: int = 0

    def add(self, booking: Booking) -> None:
        self.classes += 1
        self.pupils += booking.pupils
        self.adults += booking.adults
        if booking.girls is None:
            self.girls_unknown += 1
        else:
            self.girls += booking.girls


@dataclass
class SessionAttendees:
    session: OfferSession
    offer: Offer
    coming: list[Booking]  # hold their seats now: confirmed (or completed), pending, offered
    waiting: list[Booking]  # the waiting list, in the order places are offered
    # Cancelled, declined, expired, or a hold that ran out before anyone decided.
    gone: list[Booking]
    schools: dict[int, Organisation]
    teachers: dict[int, User]
    waiting_positions: dict[int, int]
    held_pupils: int
    held_classes: int
    confirmed: Totals = field(default_factory=Totals)
    # Awaiting approval, or a place offered and not yet taken.
    pending: Totals = field(default_factory=Totals)
    # A municipality's coordinator sees only the classes of its own schools.
    only_municipality: str | None = None

    def phone(self, booking: Booking) -> str:
        teacher = self.teachers.get(booking.teacher_id)
        return booking.contact_phone or (teacher.phone if teacher else "")


def _holds(booking: Booking, now: datetime) -> bool:
    """The same rule as bookings.holds_seats, for one booking already loaded."""
    if booking.status in (BookingStatus.confirmed, BookingStatus.completed):
        return True
    return booking.status in (BookingStatus.pending, BookingStatus.offered) and (
        booking.hold_until is None or booking.hold_until > now
    )


def session_attendees(
    db: Session, actor: User, session_id: int, *, now: datetime
) -> SessionAttendees:
    """The classes of a session, for the offer's own provider and for coordinators and admins (who see
    the bookings they may see anywhere else). Anyone else is told the session does not exist."""
    if actor.is_staff:
        session = db.get(OfferSession, session_id)
        offer = db.get(Offer, session.offer_id) if session else None
        if session is None or offer is None:
            raise NotFound(_("No such session."))
    elif actor.role == Role.provider:
        session, offer = catalogue.own_session(db, actor, session_id)
    else:
        raise NotFound(_("No such session."))

    # list_bookings applies the one rule of who sees which bookings (a municipality's coordinator: its schools).
    visible, _total = bookings.list_bookings(db, actor, session_id=session.id, limit=ALL)
    schools = {
        o.id: o
        for o in db.exec(
            select(Organisation).where(col(Organisation.id).in_({b.school_id for b in visible}))
        )
    }
    teachers = {
        u.id: u
        for u in db.exec(select(User).where(col(User.id).in_({b.teacher_id for b in visible})))
    }
    # Positions on the whole list (ids only), so a coordinator who sees part of it still reads true places.
    queue = db.exec(
        select(Booking.id)
        .where(Booking.session_id == session.id, Booking.status == BookingStatus.waitlisted)
        .order_by(*bookings.waiting_order())
    ).all()
    positions = {booking_id: n for n, booking_id in enumerate(queue, start=1)}

    def by_school(b: Booking):
        school = schools.get(b.school_id)
        return (school.name.lower() if school else "", b.class_name.lower(), b.id)

    coming = sorted(
        (b for b in visible if _holds(b, now)),
        key=lambda b: (COMING_ORDER[b.status], *by_school(b)),
    )
    waiting = sorted((b for b in visible if b.id in positions), key=lambda b: positions[b.id])
    gone = sorted(
        (b for b in visible if not _holds(b, now) and b.id not in positions),
        key=lambda b: (b.updated_at, b.id),
        reverse=True,
    )
    held_pupils, held_classes = bookings.held(db, [session.id], now=now).get(session.id, (0, 0))
    result = SessionAttendees(
        session=session,
        offer=offer,
        coming=coming,
        waiting=waiting,
        gone=gone,
        schools=schools,
        teachers=teachers,
        waiting_positions=positions,
        held_pupils=held_pupils,
        held_classes=held_classes,
        only_municipality=actor.municipality if actor.role == Role.coordinator else None,
    )
    for booking in coming:
        is_sure = booking.status in (BookingStatus.confirmed, BookingStatus.completed)
        (result.confirmed if is_sure else result.pending).add(booking)
    return result


# --- CSV -----------------------------------------------------------------------------------------

# Danish Excel reads a CSV with the list separator of the Danish regional settings, which is the
# semicolon (the comma is the decimal mark there); a comma-separated file opens as one column. The
# portal's users work in Denmark, so the semicolon is used whatever language the page is in.
CSV_DELIMITER = ";"
# A cell that starts like this is run as a formula by spreadsheet programs (CSV injection, OWASP):
# teachers type the class name and needs, so such text is kept as text with a leading apostrophe.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _status_text(booking: Booking, positions: dict[int, int]) -> str:
    if booking.id in positions:
        return _("On the waiting list, number %(num)d") % {"num": positions[booking.id]}
    return label(booking.status)


def attendees_csv(attendees: SessionAttendees) -> str:
    """The classes that come or may come, then the waiting list, in the visitor's language."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=CSV_DELIMITER, lineterminator="\r\n")
    writer.writerow(
        [
            _("Status"),
            _("School"),
            _("Municipality"),
            _("Class"),
            _("Grade"),
            _("Pupils"),
            _("Of whom girls"),
            _("Adults"),
            _("Special needs"),
            _("Teacher"),
            _("E-mail address"),
            _("Phone"),
        ]
    )
    for booking in [*attendees.coming, *attendees.waiting]:
        school = attendees.schools.get(booking.school_id)
        teacher = attendees.teachers.get(booking.teacher_id)
        writer.writerow(
            _cell(value)
            for value in (
                _status_text(booking, attendees.waiting_positions),
                school.name if school else "",
                school.municipality if school else "",
                booking.class_name,
                grade(booking.grade),
                booking.pupils,
                "" if booking.girls is None else booking.girls,
                booking.adults,
                booking.needs,
                teacher.name if teacher else "",
                teacher.email if teacher else "",
                attendees.phone(booking),
            )
        )
    return out.getvalue()


def _slug(text: str) -> str:
    """ASCII for a file name: Danish letters spelt out, the rest without accents, words joined by -."""
    text = text.lower().translate(str.maketrans({"æ": "ae", "ø": "oe", "å": "aa"}))
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:60] or "session"


def csv_filename(attendees: SessionAttendees) -> str:
    day = attendees.session.starts_at.astimezone(TIMEZONE).date().isoformat()
    word = _("attendees")  # not inside the f-string, where the message extractor would not see it
    return f"{_slug(word)}-{_slug(attendees.offer.title)}-{day}.csv"


# --- pages ---------------------------------------------------------------------------------------

router = APIRouter()
# Teachers' names, e-mails and phones: not for shared caches or the browser's disk.
PRIVATE = {"Cache-Control": "private, no-store"}


@router.get("/provider/sessions/{session_id}/attendees")
def attendees_page(
    request: Request, db: SessionDep, user: PageUser, session_id: PathId, now: Now
) -> Response:
    attendees = session_attendees(db, user, session_id, now=now)
    response = render(request, "bookings/attendees.html", {"a": attendees, "now": now})
    response.headers.update(PRIVATE)
    return response


@router.get("/provider/sessions/{session_id}/attendees.csv")
def attendees_download(db: SessionDep, user: PageUser, session_id: PathId, now: Now) -> Response:
    attendees = session_attendees(db, user, session_id, now=now)
    name = csv_filename(attendees)
    return Response(
        # The byte order mark tells Excel the file is UTF-8; without it æ, ø and å come out garbled.
        content=attendees_csv(attendees).encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        headers={
            **PRIVATE,
            # The name is plain ASCII (see _slug), so no RFC 5987 filename* is needed.
            "Content-Disposition": f'attachment; filename="{name}"',
        },
    )
