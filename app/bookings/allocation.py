"""Fair allocation rounds: for a high-demand offer, requests are collected until a deadline and the
seats are then allocated in one seeded, reproducible, logged run that spreads them across schools
and municipalities; the requests that get no place wait in the run's order.

The run, in short:
1. The draw: the requests, sorted by id, shuffled by `random.Random(seed)` (the seed is stored on
   the round when it opens, so anyone with the round's log can repeat the draw).
2. Turns: the next turn goes to the request whose school has had the fewest places this school year
   (bookings of any offer that hold seats or took place, plus what it won earlier in this run), then
   whose municipality has won the fewest places in this run, then the earliest in the draw.
3. A request whose turn comes gets its place if its date still has room (pupils and classes,
   counting what is held now) and the provider's capacity pools allow it; otherwise it stays on the
   date's waiting list, where its turn number gives its order.

What teachers are told: the log keeps, per request, the facts of its turn (drawn as no., turn no.,
the school's places, its municipality's wins, the outcome). Pages render the explanation from these
facts in the viewer's own language (`explain`); `Booking.allocation_note` keeps the same
explanation as text in the teacher's language at the time of the run, for lists, the API and
e-mail, where no rendering from facts happens.

School caps need no check here: a waiting request already counts toward its school's cap when it is
made (limits.bookings_toward_cap), and granting it does not change that count.
"""

import heapq
import json
import random
import secrets
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import func, or_, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, select

from app.accounts.models import Organisation, Role, User
from app.bookings import limits
from app.bookings import service as bookings
from app.bookings.models import (
    AllocationRound,
    Booking,
    BookingStatus,
    CapacityPool,
    RoundStatus,
)
from app.bookings.notices import tell_teacher
from app.calendar.bounds import school_year_of
from app.catalogue.models import Offer, OfferSession, OfferStatus, OfferType
from app.config import get_settings
from app.db import begin_write
from app.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from app.i18n import TIMEZONE, _, language, local_datetime, ngettext
from app.notifications.service import notify

LOG_VERSION = 1
# Why a request did not get a place: its date had no room, the provider's shared limit had none,
# or the date had begun or been cancelled before the run.
GRANTED, FULL, POOL, CLOSED = "granted", "full", "pool", "closed"


# --- opening a round -----------------------------------------------------------------------------


def may_manage(actor: User, offer: Offer) -> bool:
    """The offer's own provider and the region's staff run its rounds; a municipality's
    coordinator only those of offers in their municipality."""
    if actor.is_regional_staff:
        return True
    if actor.role == Role.coordinator:
        return offer.municipality is not None and offer.municipality == actor.municipality
    return actor.role == Role.provider and actor.organisation_id == offer.provider_id


def managed_offer(db: Session, actor: User, offer_id: int) -> Offer:
    """The offer, if the actor may run its rounds: NotFound when they may not even see it (another
    provider's draft), Forbidden when they see it but it is not theirs."""
    offer = db.get(Offer, offer_id)
    if offer is None:
        raise NotFound(_("No such offer."))
    if not may_manage(actor, offer):
        if offer.status != OfferStatus.published:
            raise NotFound(_("No such offer."))
        raise Forbidden(_("Only the offer's provider and the coordinators can run allocation rounds."))
    return offer


def open_round_of(db: Session, offer_id: int) -> AllocationRound | None:
    return db.exec(
        select(AllocationRound).where(AllocationRound.offer_id == offer_id, AllocationRound.status == RoundStatus.open)
    ).first()


def open_round(db: Session, actor: User, offer_id: int, closes_at: datetime, *, now: datetime) -> AllocationRound:
    """Start collecting requests for the offer until `closes_at`; bookings made meanwhile become
    requests that wait for the run (see service.book_session)."""
    offer = managed_offer(db, actor, offer_id)
    if offer.type == OfferType.expert:
        raise InvalidInput(_("An expert is booked on request; there are no dates to allocate."), field="closes_on")
    if closes_at <= now:
        raise InvalidInput(_("Choose a deadline in the future."), field="closes_on")
    later_dates = db.exec(
        select(func.count()).where(
            OfferSession.offer_id == offer.id, col(OfferSession.cancelled_at).is_(None), OfferSession.starts_at > closes_at
        )
    ).one()
    if not later_dates:
        raise InvalidInput(_("No date of the offer starts after this deadline. Choose an earlier one."), field="closes_on")
    # The offer's lock makes two coordinators who open a round at the same moment agree on one.
    begin_write(db)
    db.exec(select(Offer.id).where(Offer.id == offer.id).with_for_update()).one()
    if open_round_of(db, offer.id) is not None:
        db.rollback()
        raise Conflict(_("The offer already has an open allocation round."))
    allocation_round = AllocationRound(
        offer_id=offer.id, opened_by=actor.id, closes_at=closes_at, seed=secrets.token_hex(16), created_at=now
    )
    db.add(allocation_round)
    try:
        db.commit()
    except IntegrityError:  # the unique index: another round was opened at the same moment
        db.rollback()
        raise Conflict(_("The offer already has an open allocation round.")) from None
    db.refresh(allocation_round)
    return allocation_round


# --- the run: pure, so that it can be repeated from the log ------------------------------------


@dataclass(frozen=True)
class Request:
    """What the run needs to know about one request."""

    booking_id: int
    school_id: int
    municipality: str
    session_id: int
    pupils: int
    school_year: int


@dataclass
class Decision:
    """One turn of the run: the facts a teacher is shown."""

    booking_id: int
    turn: int  # 1 = served first
    drawn: int  # place in the seeded draw
    school_places: int  # the school's places this school year when its turn came, this run's wins included
    school_won: int  # of those, won earlier in this run
    municipality: str
    municipality_won: int  # places its municipality had won earlier in this run
    outcome: str  # granted, full, pool or closed
    status: str = ""  # the booking's status after the run
    queue_rank: int | None = None
    waiting_position: int | None = None  # on its date's waiting list right after the run


def draw_order(seed: str, booking_ids: Sequence[int]) -> list[int]:
    """The seeded draw: the same seed and requests give the same order on every machine."""
    order = sorted(booking_ids)
    random.Random(seed).shuffle(order)
    return order


def run_turns(
    requests: Sequence[Request],
    *,
    seed: str,
    places_before: dict[tuple[int, int], int],
    try_grant: Callable[[Request], str],
) -> list[Decision]:
    """Give the turns (see the module's docstring); `try_grant` decides and returns the outcome.

    A school's and a municipality's counts only grow during the run, so a heap whose entries are
    re-checked when they come out finds each next turn without rescanning every request."""
    drawn = {booking_id: n for n, booking_id in enumerate(draw_order(seed, [r.booking_id for r in requests]), 1)}
    school_won: Counter[tuple[int, int]] = Counter()
    municipality_won: Counter[str] = Counter()

    def priority(r: Request) -> tuple[int, int, int]:
        school = (r.school_id, r.school_year)
        return places_before.get(school, 0) + school_won[school], municipality_won[r.municipality], drawn[r.booking_id]

    by_id = {r.booking_id: r for r in requests}
    heap = [(*priority(r), r.booking_id) for r in requests]
    heapq.heapify(heap)
    decisions: list[Decision] = []
    while heap:
        *stored, booking_id = heapq.heappop(heap)
        request = by_id[booking_id]
        current = priority(request)
        if tuple(stored) != current:  # its school or municipality won since: back in line
            heapq.heappush(heap, (*current, booking_id))
            continue
        school = (request.school_id, request.school_year)
        outcome = try_grant(request)
        decisions.append(
            Decision(
                booking_id=booking_id,
                turn=len(decisions) + 1,
                drawn=drawn[booking_id],
                school_places=current[0],
                school_won=school_won[school],
                municipality=request.municipality,
                municipality_won=current[1],
                outcome=outcome,
            )
        )
        if outcome == GRANTED:
            school_won[school] += 1
            municipality_won[request.municipality] += 1
    return decisions


def replay(log: dict) -> list[tuple[int, str]]:
    """Repeat a round's run from its log alone: the seed, the requests, the places the schools had
    and what the dates held before the run. Gives (booking id, outcome) in turn order, to compare
    with the log's decisions. The provider's pools span other offers, so a "pool" outcome is taken
    from the log as a fact (when the date itself had room)."""
    requests = [Request(**r) for r in log["requests"]]
    places_before = {(school_id, year): n for school_id, year, n in log["places_before"]}
    dates = {int(k): dict(v) for k, v in log["sessions"].items()}
    recorded = {d["booking_id"]: d["outcome"] for d in log["decisions"]}

    def try_grant(r: Request) -> str:
        date = dates[r.session_id]
        if date["closed"]:
            return CLOSED
        if date["held_pupils"] + r.pupils > date["capacity_pupils"] or (
            date["capacity_classes"] is not None and date["held_classes"] + 1 > date["capacity_classes"]
        ):
            return FULL
        if recorded.get(r.booking_id) == POOL:
            return POOL
        date["held_pupils"] += r.pupils
        date["held_classes"] += 1
        return GRANTED

    decisions = run_turns(requests, seed=log["seed"], places_before=places_before, try_grant=try_grant)
    return [(d.booking_id, d.outcome) for d in decisions]


# --- the run on the database ---------------------------------------------------------------------


def _lock(db: Session, allocation_round_id: int) -> AllocationRound:
    """Begin the write transaction and lock the round (so that two workers run it once)."""
    begin_write(db)
    if db.get_bind().dialect.name == "postgresql":
        # A run waits longer than a booking does: it runs once, in the background.
        db.exec(text("SET LOCAL lock_timeout = '10s'"))
    found = db.exec(
        select(AllocationRound)
        .where(AllocationRound.id == allocation_round_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if found is None:
        raise NotFound(_("No such allocation round."))
    return found


def _lock_dates_and_pools(db: Session, offer_id: int) -> tuple[dict[int, OfferSession], dict[int, list[CapacityPool]]]:
    """Lock every date of the offer, then every pool they are in, each in id order (the order the
    booking service keeps, so that a run and a booking never wait for each other in a circle)."""
    dates = db.exec(
        select(OfferSession)
        .where(OfferSession.offer_id == offer_id)
        .order_by(col(OfferSession.id))
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    limits.lock_pools_of(db, [d.id for d in dates])
    # Already locked above; lock_pools gives each date's pools as the booking service sees them.
    return {d.id: d for d in dates}, {d.id: limits.lock_pools(db, d.id) for d in dates}


def _places_this_school_year(db: Session, wanted: set[tuple[int, int]], *, now: datetime) -> dict[tuple[int, int], int]:
    """Per (school, school year): bookings of any offer that hold seats now or took place."""
    if not wanted:
        return {}
    years = {year for _school, year in wanted}
    start, _end = limits.school_year_bounds(min(years))
    _start, end = limits.school_year_bounds(max(years))
    rows = db.exec(
        select(Booking.school_id, OfferSession.starts_at)
        .join(OfferSession, col(OfferSession.id) == col(Booking.session_id))
        .where(
            col(Booking.school_id).in_({school for school, _year in wanted}),
            OfferSession.starts_at >= start,
            OfferSession.starts_at < end,
            or_(bookings.holds_seats(now), Booking.status == BookingStatus.completed),
        )
    ).all()
    places: Counter[tuple[int, int]] = Counter()
    for school_id, starts_at in rows:
        key = (school_id, school_year_of(starts_at.astimezone(TIMEZONE).date()))
        if key in wanted:
            places[key] += 1
    return dict(places)


def allocate(db: Session, round_id: int, *, now: datetime) -> AllocationRound:
    """Run a round whose deadline has passed: one transaction under the locks of every date of the
    offer and their pools. Commits; raises Conflict when the round is still open or already run."""
    try:
        allocation_round = _lock(db, round_id)
        if allocation_round.status != RoundStatus.open:
            raise Conflict(_("The places of this round have already been allocated."))
        if allocation_round.closes_at > now:
            raise Conflict(
                _("The round collects requests until %(when)s.") % {"when": local_datetime(allocation_round.closes_at)}
            )
        offer = db.get(Offer, allocation_round.offer_id)
        dates, pools = _lock_dates_and_pools(db, offer.id)
    except DomainError:
        db.rollback()  # let go of the locks at once
        raise
    except OperationalError as error:
        db.rollback()
        if "lock" in str(error).lower() or "busy" in str(error).lower():
            raise bookings.Busy(_("Many are booking right now. Please try again in a moment.")) from None
        raise

    # Whoever waited for a date before the round keeps their place ahead of it: free places go
    # to them first (round requests have no rank yet, so the list passes them over) ...
    for date in dates.values():
        bookings.promote_waiting_list(db, date, offer, now=now)
    db.flush()
    date_ids = list(dates)
    waiting_before = db.exec(
        select(Booking)
        .where(
            col(Booking.session_id).in_(date_ids),
            Booking.status == BookingStatus.waitlisted,
            col(Booking.queue_rank).is_(None),
            or_(col(Booking.round_id).is_(None), col(Booking.round_id) != allocation_round.id),
        )
        .order_by(*bookings.waiting_order())
    ).all()
    requested = db.exec(
        select(Booking)
        .where(Booking.round_id == allocation_round.id, Booking.status == BookingStatus.waitlisted)
        .order_by(col(Booking.id))
    ).all()
    schools = {
        o.id: o for o in db.exec(select(Organisation).where(col(Organisation.id).in_({b.school_id for b in requested})))
    }
    requests = [
        Request(
            booking_id=b.id,
            school_id=b.school_id,
            municipality=schools[b.school_id].municipality,
            session_id=b.session_id,
            pupils=b.pupils,
            school_year=school_year_of(dates[b.session_id].starts_at.astimezone(TIMEZONE).date()),
        )
        for b in requested
    ]
    places_before = _places_this_school_year(db, {(r.school_id, r.school_year) for r in requests}, now=now)
    held_before = bookings.held(db, date_ids, now=now)
    snapshot = {
        str(d.id): {
            "capacity_pupils": d.capacity_pupils,
            "capacity_classes": d.capacity_classes,
            "held_pupils": held_before.get(d.id, (0, 0))[0],
            "held_classes": held_before.get(d.id, (0, 0))[1],
            "closed": _closed(d, now),
        }
        for d in dates.values()
    }
    by_id = {b.id: b for b in requested}
    reason = f"allocation round {allocation_round.id}"

    def try_grant(request: Request) -> str:
        date = dates[request.session_id]
        if _closed(date, now):
            return CLOSED
        if not bookings.fits(date, bookings.held(db, [date.id], now=now).get(date.id, (0, 0)), request.pupils):
            return FULL
        if not limits.pools_fit(db, pools[date.id], request.pupils, now=now):
            return POOL
        booking = by_id[request.booking_id]
        to = BookingStatus.pending if offer.requires_approval else BookingStatus.confirmed
        bookings.set_status(db, booking, None, to, now, reason)
        booking.hold_until = bookings.approval_deadline(date, now) if to == BookingStatus.pending else None
        db.flush()  # the next turn counts this place
        return GRANTED

    decisions = run_turns(requests, seed=allocation_round.seed, places_before=places_before, try_grant=try_grant)

    # ... and the round's requests follow in turn order, behind anyone already ranked on these dates.
    base = db.exec(select(func.max(Booking.queue_rank)).where(col(Booking.session_id).in_(date_ids))).one() or 0
    for n, booking in enumerate(waiting_before, base + 1):
        booking.queue_rank = n
        db.add(booking)
    base += len(waiting_before)
    for decision in decisions:
        booking = by_id[decision.booking_id]
        booking.queue_rank = decision.queue_rank = base + decision.turn
        decision.status = booking.status.value
        db.add(booking)
    db.flush()
    for decision in decisions:
        if decision.outcome != GRANTED:
            decision.waiting_position = bookings.waitlist_position(db, by_id[decision.booking_id])

    total = len(decisions)
    several = len({r.municipality for r in requests}) > 1
    for decision in decisions:
        booking = by_id[decision.booking_id]
        teacher = db.get(User, booking.teacher_id)
        with language(teacher.language):
            booking.allocation_note = _note(
                asdict(decision), total, requires_approval=offer.requires_approval, several_municipalities=several
            )
        db.add(booking)
        if decision.outcome == GRANTED:
            tell_teacher(db, booking, "booked", now=now)
        else:
            _tell_waiting(db, booking, teacher, offer, dates[booking.session_id], now=now)

    allocation_round.status = RoundStatus.allocated
    allocation_round.allocated_at = now
    allocation_round.log = json.dumps(
        {
            "version": LOG_VERSION,
            "round_id": allocation_round.id,
            "offer_id": offer.id,
            "seed": allocation_round.seed,
            "closes_at": allocation_round.closes_at.isoformat(),
            "allocated_at": now.isoformat(),
            "rules": "turns by (the school's places this school year incl. this run's wins, "
            "the municipality's wins in this run, the draw); a turn gets a place if its date and pools have room",
            "requests": [asdict(r) for r in requests],
            "places_before": [[school, year, n] for (school, year), n in sorted(places_before.items())],
            "sessions": snapshot,
            "draw": draw_order(allocation_round.seed, [r.booking_id for r in requests]),
            "waiting_before": [b.id for b in waiting_before],
            "decisions": [asdict(d) for d in decisions],
        }
    )
    db.add(allocation_round)
    db.commit()
    db.refresh(allocation_round)
    return allocation_round


def _closed(date: OfferSession, now: datetime) -> bool:
    return date.cancelled_at is not None or date.starts_at <= now


def allocate_now(db: Session, actor: User, offer_id: int, *, now: datetime) -> AllocationRound:
    """The provider or a coordinator runs the offer's round now that its deadline has passed."""
    offer = managed_offer(db, actor, offer_id)
    allocation_round = open_round_of(db, offer.id)
    if allocation_round is None:
        raise Conflict(_("The offer has no open allocation round."))
    return allocate(db, allocation_round.id, now=now)


def allocate_due_rounds(db: Session, *, now: datetime) -> int:
    """The worker's job: run every round whose deadline has passed; returns how many ran."""
    due = db.exec(
        select(AllocationRound.id)
        .where(AllocationRound.status == RoundStatus.open, AllocationRound.closes_at <= now)
        .order_by(col(AllocationRound.id))
    ).all()
    db.rollback()
    done = 0
    for round_id in due:
        try:
            allocate(db, round_id, now=now)
            done += 1
        except (Conflict, bookings.Busy):  # another worker ran it, or it waits for the next pass
            db.rollback()
    return done


def _tell_waiting(
    db: Session, booking: Booking, teacher: User, offer: Offer, date: OfferSession, *, now: datetime
) -> None:
    """A request that got no place: the teacher learns where the class stands and why."""
    with language(teacher.language):
        facts = {"title": offer.title, "when": local_datetime(date.starts_at), "class_name": booking.class_name}
        body = (
            _("Hello %(name)s,") % {"name": teacher.name}
            + "\n\n"
            + _("The places for %(title)s on %(when)s have been allocated by a draw. Class %(class_name)s did not get "
                "a place this time.") % facts
            + " "
            + booking.allocation_note
            + "\n\n"
            + _("Kind regards\nThe STEM portal")
            + "\n"
        )
        notify(
            db,
            teacher,
            kind="allocation_waitlisted",
            subject=_("The draw for %(title)s") % facts,
            body=body,
            now=now,
            link=f"/bookings/{booking.id}/allocation",
            booking_id=booking.id,
            base_url=get_settings().base_url,
        )


# --- what people are shown -----------------------------------------------------------------------


def _sentences(facts: dict, total: int, *, requires_approval: bool, several_municipalities: bool) -> list[str]:
    """The explanation of one turn, in the current language. The municipality is mentioned only
    where it can have mattered: when the round had requests from more than one."""
    said = [_("Your request was drawn as no. %(drawn)d of %(total)d.") % {"drawn": facts["drawn"], "total": total}]
    places, won = facts["school_places"], facts["school_won"]
    if places == 0:
        said.append(_("Your school had no places this school year, so it was among the first to be served."))
    elif won:
        said.append(
            ngettext(
                "Your school already had %(num)d place this school year (%(won)d of them from this draw), "
                "so schools with fewer places were served first.",
                "Your school already had %(num)d places this school year (%(won)d of them from this draw), "
                "so schools with fewer places were served first.",
                places,
            )
            % {"num": places, "won": won}
        )
    else:
        said.append(
            ngettext(
                "Your school already had %(num)d place this school year, so schools with fewer places were served first.",
                "Your school already had %(num)d places this school year, so schools with fewer places were served first.",
                places,
            )
            % {"num": places}
        )
    if facts["municipality_won"] and several_municipalities:
        said.append(
            ngettext(
                "Schools in %(municipality)s had already won %(num)d place in this draw, so among schools with as many "
                "places, those from other municipalities came first.",
                "Schools in %(municipality)s had already won %(num)d places in this draw, so among schools with as many "
                "places, those from other municipalities came first.",
                facts["municipality_won"],
            )
            % {"municipality": facts["municipality"], "num": facts["municipality_won"]}
        )
    said.append(_("Your turn came as no. %(turn)d.") % {"turn": facts["turn"]})
    position = {"num": facts.get("waiting_position") or 0}
    match facts["outcome"]:
        case "granted" if requires_approval:
            said.append(_("There was room on the date, so your class got a place. A coordinator approves the booking."))
        case "granted":
            said.append(_("There was room on the date, so your class got a place."))
        case "full":
            said.append(_("The date was full before your turn, so your class went on the waiting list as no. %(num)d.") % position)
        case "pool":
            said.append(
                _("The provider's shared limit for several dates was reached before your turn, so your class went on "
                  "the waiting list as no. %(num)d.") % position
            )
        case _:
            said.append(_("The date had begun or was cancelled before the draw, so no place could be given."))
    return said


def _note(facts: dict, total: int, **context: bool) -> str:
    """The explanation as the booking keeps it (at most 500 characters): without the sentence on
    municipalities if it must, cut short only as a last resort."""
    note = " ".join(_sentences(facts, total, **context))
    if len(note) > 500:
        note = " ".join(_sentences(facts, total, **{**context, "several_municipalities": False}))
    return note if len(note) <= 500 else note[:499] + "…"


def round_log(allocation_round: AllocationRound) -> dict:
    return json.loads(allocation_round.log) if allocation_round.log else {}


@dataclass
class Explanation:
    """What a booking's teacher (or anyone who may see the booking) is shown about its round."""

    state: str  # "none": not a round request; "collecting"; "drawing" (deadline passed); "allocated"
    allocation_round: AllocationRound | None = None
    offer: Offer | None = None
    sentences: tuple[str, ...] = ()
    drawn: int | None = None
    turn: int | None = None
    total: int = 0
    waiting_position: int | None = None  # now, not at the draw


def explain(db: Session, viewer: User, booking: Booking, *, now: datetime) -> Explanation:
    """Why the booking got what it got, in the viewer's language (NotFound if they may not see it)."""
    booking = bookings.get_booking(db, viewer, booking.id)
    if booking.round_id is None:
        return Explanation(state="none")
    allocation_round = db.get(AllocationRound, booking.round_id)
    offer = db.get(Offer, allocation_round.offer_id)
    if allocation_round.status == RoundStatus.open:
        return Explanation(state="collecting" if allocation_round.closes_at > now else "drawing",
                           allocation_round=allocation_round, offer=offer)
    log = round_log(allocation_round)
    facts = next((d for d in log.get("decisions", []) if d["booking_id"] == booking.id), None)
    position = bookings.waitlist_position(db, booking)
    if facts is None:  # e.g. cancelled by the teacher before the draw
        return Explanation(state="allocated", allocation_round=allocation_round, offer=offer, waiting_position=position)
    total = len(log["decisions"])
    return Explanation(
        state="allocated",
        allocation_round=allocation_round,
        offer=offer,
        sentences=tuple(
            _sentences(
                facts,
                total,
                requires_approval=offer.requires_approval,
                several_municipalities=len({r["municipality"] for r in log["requests"]}) > 1,
            )
        ),
        drawn=facts["drawn"],
        turn=facts["turn"],
        total=total,
        waiting_position=position,
    )


@dataclass
class LogLine:
    """One turn of a run, as the round's page shows it."""

    decision: dict
    booking: Booking | None
    school: str
    date: OfferSession | None


@dataclass
class RoundView:
    allocation_round: AllocationRound
    requests: list[tuple[Booking, str, str]]  # the open round's requests: booking, school, municipality
    lines: list[LogLine]
    granted: int
    due: bool

    @property
    def log_text(self) -> str:
        """The log, laid out for people to read."""
        return json.dumps(round_log(self.allocation_round), indent=1) if self.allocation_round.log else ""


def offer_rounds(db: Session, actor: User, offer_id: int, *, now: datetime) -> tuple[Offer, list[RoundView]]:
    """The offer's rounds, newest first, with the open one's requests and each run's log."""
    offer = managed_offer(db, actor, offer_id)
    rounds = db.exec(
        select(AllocationRound).where(AllocationRound.offer_id == offer.id).order_by(col(AllocationRound.id).desc())
    ).all()
    dates = {d.id: d for d in db.exec(select(OfferSession).where(OfferSession.offer_id == offer.id))}
    views = []
    for allocation_round in rounds:
        booked = {
            b.id: b for b in db.exec(select(Booking).where(Booking.round_id == allocation_round.id).order_by(col(Booking.id)))
        }
        schools = {
            o.id: o
            for o in db.exec(select(Organisation).where(col(Organisation.id).in_({b.school_id for b in booked.values()})))
        }
        requests = [
            (b, schools[b.school_id].name, schools[b.school_id].municipality)
            for b in booked.values()
            if b.status == BookingStatus.waitlisted and allocation_round.status == RoundStatus.open
        ]
        lines = []
        for decision in round_log(allocation_round).get("decisions", []):
            booking = booked.get(decision["booking_id"])
            school = schools.get(booking.school_id) if booking else None
            lines.append(LogLine(decision, booking, school.name if school else "", dates.get(booking.session_id) if booking else None))
        views.append(
            RoundView(
                allocation_round=allocation_round,
                requests=requests,
                lines=lines,
                granted=sum(1 for line in lines if line.decision["outcome"] == GRANTED),
                due=allocation_round.status == RoundStatus.open and allocation_round.closes_at <= now,
            )
        )
    return offer, views


def visible_rounds(db: Session, actor: User) -> list[tuple[AllocationRound, Offer, int]]:
    """Rounds the actor runs, newest first, with their offer and number of requests: a provider's
    own offers', a municipality's coordinator's offers in the municipality, every round for the
    region's staff."""
    if actor.role not in (Role.provider, Role.coordinator, Role.admin):
        raise Forbidden(_("Only providers and coordinators run allocation rounds."))
    query = (
        select(AllocationRound, Offer, func.count(col(Booking.id)))
        .join(Offer, col(Offer.id) == col(AllocationRound.offer_id))
        .outerjoin(Booking, col(Booking.round_id) == col(AllocationRound.id))
        .group_by(col(AllocationRound.id), col(Offer.id))
        .order_by(col(AllocationRound.id).desc())
        .limit(200)
    )
    if actor.role == Role.provider:
        query = query.where(Offer.provider_id == actor.organisation_id)
    elif not actor.is_regional_staff:  # a municipality's coordinator: the rounds they may run
        query = query.where(Offer.municipality == actor.municipality)
    return [(r, o, n) for r, o, n in db.exec(query).all()]
