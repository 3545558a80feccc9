"""Evaluations without HTTP: ask a completed booking's teacher, its provider's staff and the visit's
mentors; take each one's answers once; keep the question sets; and show the results (and their CSV)
to those who may see them."""

import base64
import csv
import hashlib
import hmac
import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, and_, case, extract, func, true, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from app.accounts import secrets
from app.accounts.models import Organisation, Role, User
from app.bookings.models import Booking, BookingStatus
from app.catalogue.models import Offer, OfferSession, OfferType
from app.config import Settings
from app.db import begin_write
from app.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from app.evaluations.models import Answer, EvaluationRequest, Question, QuestionKind, Respondent
from app.evaluations.schemas import QuestionIn, QuestionWording
from app.i18n import TIMEZONE, _, current_language, language, local_date, local_datetime
from app.mentors.models import Shift, ShiftStatus
from app.notifications.service import notify, queue_email
from app.text import has_control_characters
from app.web.labels import label

# One reminder, this long after the request, to those who have not answered.
REMIND_AFTER = timedelta(days=7)
# A free-text answer's length: a few paragraphs.
TEXT_MAX = 2000
SCALE = range(1, 6)
YES, NO = "yes", "no"


# --- errors -------------------------------------------------------------------------------------


class LinkClosed(DomainError):
    """The evaluation's link cannot be used: unknown, expired, or already answered."""

    status_code = 410

    def __init__(self, reason: str):
        self.reason = reason  # "unknown", "expired" or "answered"
        messages = {
            "unknown": _("This link to an evaluation does not work. Check that the whole address from the e-mail was used."),
            "expired": _("This link to an evaluation has expired."),
            "answered": _("This evaluation has already been answered. Thank you."),
        }
        super().__init__(messages[reason])
        self.status_code = {"unknown": 404, "expired": 410, "answered": 409}[reason]


class InvalidAnswers(InvalidInput):
    """Answers refused, each field's message under its name (`field_name`): nothing was saved."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(next(iter(errors.values())), field=next(iter(errors)))
        self.errors = errors


# --- the link -------------------------------------------------------------------------------------


def link_token(secret_key: str, request: EvaluationRequest) -> str:
    """The link's secret, signed with the portal's key from the request's fixed facts, so the
    reminder can send the same link again while only its hash is stored."""
    message = f"evaluation:{request.id}:{request.booking_id}:{int(request.sent_at.timestamp())}"
    digest = hmac.new(secret_key.encode(), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def link_path(token: str) -> str:
    return f"/evaluations/{token}"


def request_for_token(db: Session, token: str, *, now: datetime) -> EvaluationRequest:
    """The request whose link this is, while it may still be answered (else LinkClosed)."""
    request = db.exec(
        select(EvaluationRequest).where(EvaluationRequest.token_hash == secrets.token_hash(token[:100]))
    ).first()
    return _open(request, now=now)


def own_request(db: Session, user: User, request_id: int, *, now: datetime) -> EvaluationRequest:
    """The logged-in person's own request (from the inbox), while it may still be answered."""
    request = db.get(EvaluationRequest, request_id)
    if request is None or request.user_id != user.id:
        raise NotFound(_("We could not find that page."))
    return _open(request, now=now)


@dataclass(frozen=True)
class OpenRequest:
    """A request the person may still answer, with what it is about."""

    request: EvaluationRequest
    title: str
    starts_at: datetime


def open_requests(db: Session, user: User, *, now: datetime, limit: int = 10) -> list[OpenRequest]:
    """The person's requests not answered and not expired, the one that closes first at the top."""
    rows = db.exec(
        select(EvaluationRequest, Offer.title, OfferSession.starts_at)
        .join(Booking, col(Booking.id) == col(EvaluationRequest.booking_id))
        .join(OfferSession, col(OfferSession.id) == col(Booking.session_id))
        .join(Offer, col(Offer.id) == col(OfferSession.offer_id))
        .where(
            EvaluationRequest.user_id == user.id,
            col(EvaluationRequest.answered_at).is_(None),
            EvaluationRequest.expires_at > now,
        )
        .order_by(col(EvaluationRequest.expires_at), col(EvaluationRequest.id))
        .limit(limit)
    ).all()
    return [OpenRequest(*row) for row in rows]


def _open(request: EvaluationRequest | None, *, now: datetime) -> EvaluationRequest:
    if request is None:
        raise LinkClosed("unknown")
    if request.answered_at is not None:
        raise LinkClosed("answered")
    if request.expires_at <= now:
        raise LinkClosed("expired")
    return request


# --- asking ---------------------------------------------------------------------------------------


def _course_goes_on(db: Session, booking: Booking) -> bool:
    """A long course booked as one is evaluated once, when its last date is completed."""
    if booking.course_id is None:
        return False
    later = db.exec(
        select(Booking.id).where(
            Booking.course_id == booking.course_id, Booking.id != booking.id, Booking.status == BookingStatus.confirmed
        )
    ).first()
    return later is not None


def respondents(db: Session, booking: Booking, offer: Offer) -> list[tuple[User, Respondent]]:
    """Who is asked about a booking: its teacher, each active staff member of the offer's provider,
    and each mentor who had a shift on the date."""
    people: list[tuple[User, Respondent]] = []
    teacher = db.get(User, booking.teacher_id)
    if teacher is not None and teacher.is_active:
        people.append((teacher, Respondent.teacher))
    staff = db.exec(
        select(User)
        .where(User.organisation_id == offer.provider_id, User.role == Role.provider, col(User.is_active))
        .order_by(col(User.id))
    ).all()
    people += [(user, Respondent.provider) for user in staff]
    mentors = db.exec(
        select(User)
        .join(Shift, col(Shift.mentor_id) == col(User.id))
        .where(
            Shift.session_id == booking.session_id,
            col(Shift.status).in_([ShiftStatus.signed_up, ShiftStatus.completed]),
            col(User.is_active),
        )
        .order_by(col(User.id))
    ).all()
    people += [(user, Respondent.mentor) for user in mentors]
    return people


def ask_for_booking(db: Session, booking: Booking, *, now: datetime, settings: Settings) -> int:
    """Ask everyone concerned how the booking's activity went (`respondents`), each once: a request
    with a link that works until EVALUATION_LINK_DAYS, in the inbox and by e-mail. In the caller's
    transaction (the caller commits). Returns how many were asked."""
    if _course_goes_on(db, booking):
        return 0
    session = db.get(OfferSession, booking.session_id)
    offer = db.get(Offer, session.offer_id)
    asked = set(db.exec(select(EvaluationRequest.user_id).where(EvaluationRequest.booking_id == booking.id)).all())
    count = 0
    for user, respondent in respondents(db, booking, offer):
        if user.id in asked:
            continue
        asked.add(user.id)
        request = EvaluationRequest(
            booking_id=booking.id,
            user_id=user.id,
            respondent=respondent,
            token_hash=secrets.token_hash(secrets.new_token()),  # replaced by the signed link's below
            expires_at=now + timedelta(days=settings.evaluation_link_days),
            sent_at=now,
        )
        db.add(request)
        db.flush()
        request.token_hash = secrets.token_hash(link_token(settings.secret_key, request))
        db.add(request)
        _send(db, request, user, booking, session, offer, now=now, settings=settings, reminder=False)
        count += 1
    db.flush()
    return count


def _send(
    db: Session,
    request: EvaluationRequest,
    user: User,
    booking: Booking,
    session: OfferSession,
    offer: Offer,
    *,
    now: datetime,
    settings: Settings,
    reminder: bool,
) -> None:
    school = db.get(Organisation, booking.school_id)
    token = link_token(settings.secret_key, request)
    with language(user.language):
        facts = {
            "title": offer.title,
            "when": local_datetime(session.starts_at, "medium"),
            "class_name": booking.class_name,
            "school": school.name if school else "",
        }
        subject = (_("Reminder: how was %(title)s?") if reminder else _("How was %(title)s?")) % facts
        if request.respondent == Respondent.teacher:
            first = _(
                "Class %(class_name)s took part in %(title)s on %(when)s. Please tell us how it went: "
                "it takes two minutes and helps the region's STEM barometer."
            )
        else:
            first = _(
                "Class %(class_name)s from %(school)s took part in %(title)s on %(when)s. Please tell us how it "
                "went: it takes two minutes and helps the region's STEM barometer."
            )
        hello = _("Hello %(name)s,") % {"name": user.name}
        until = _("The link can be used once, until %(date)s.") % {"date": local_date(request.expires_at)}
        greeting = _("Kind regards\nThe STEM portal")
        inbox_body = f"{hello}\n\n{first % facts}\n\n{until}\n\n{greeting}\n"
        # The inbox links to the form for the logged-in person; the e-mail carries the link that
        # needs no log-in (its secret is never stored, so it is not in the inbox).
        notify(
            db,
            user,
            kind="evaluation_reminder" if reminder else "evaluation",
            subject=subject,
            body=inbox_body,
            now=now,
            link=f"/evaluations/requests/{request.id}",
            booking_id=booking.id,
            base_url=settings.base_url,
            email=False,
        )
        if user.is_active:
            queue_email(
                db,
                to=user.email,
                subject=subject,
                body=f"{hello}\n\n{first % facts}\n\n{settings.base_url}{link_path(token)}\n{until}\n\n{greeting}\n",
                now=now,
                # The teacher's e-mail carries the booking's calendar file, as their other e-mails do.
                booking_id=booking.id if request.respondent == Respondent.teacher else None,
            )


def remind_unanswered(db: Session, *, now: datetime, settings: Settings) -> int:
    """The worker's job: one reminder, a week after the request, to whoever has not answered (and
    whose link still works). Each reminder is claimed by a conditional update in its own short
    transaction, so two workers send it once."""
    due = db.exec(
        select(EvaluationRequest.id)
        .where(
            col(EvaluationRequest.answered_at).is_(None),
            col(EvaluationRequest.reminded_at).is_(None),
            col(EvaluationRequest.user_id).is_not(None),
            EvaluationRequest.sent_at <= now - REMIND_AFTER,
            EvaluationRequest.expires_at > now,
        )
        .order_by(col(EvaluationRequest.id))
        .limit(500)
    ).all()
    db.rollback()
    sent = 0
    for request_id in due:
        begin_write(db)
        claimed = db.exec(
            update(EvaluationRequest)
            .where(
                col(EvaluationRequest.id) == request_id,
                col(EvaluationRequest.reminded_at).is_(None),
                col(EvaluationRequest.answered_at).is_(None),
            )
            .values(reminded_at=now)
        ).rowcount
        if claimed:
            request = db.get(EvaluationRequest, request_id)
            db.refresh(request)
            user = db.get(User, request.user_id) if request.user_id else None
            booking = db.get(Booking, request.booking_id)
            if user is not None and booking is not None:
                session = db.get(OfferSession, booking.session_id)
                offer = db.get(Offer, session.offer_id)
                _send(db, request, user, booking, session, offer, now=now, settings=settings, reminder=True)
                sent += 1
        db.commit()
    return sent


# --- the questions --------------------------------------------------------------------------------


def questions_for(db: Session, offer_type: OfferType, respondent: Respondent) -> list[Question]:
    """The questions asked now about a kind of activity, in order; the class poll only of the
    class's teacher."""
    query = select(Question).where(Question.offer_type == offer_type, col(Question.retired_at).is_(None))
    if respondent != Respondent.teacher:
        query = query.where(Question.kind != QuestionKind.class_poll)
    return list(db.exec(query.order_by(col(Question.position), col(Question.id))).all())


def all_questions(db: Session, offer_type: OfferType) -> list[Question]:
    """A kind's active questions, then its retired ones (newest first)."""
    active = db.exec(
        select(Question)
        .where(Question.offer_type == offer_type, col(Question.retired_at).is_(None))
        .order_by(col(Question.position), col(Question.id))
    ).all()
    retired = db.exec(
        select(Question)
        .where(Question.offer_type == offer_type, col(Question.retired_at).is_not(None))
        .order_by(col(Question.retired_at).desc(), col(Question.id).desc())
    ).all()
    return [*active, *retired]


def _staff(actor: User) -> None:
    if not actor.is_staff:
        raise Forbidden(_("Only coordinators and administrators may do this."))


def _active_question(db: Session, question_id: int) -> Question:
    question = db.get(Question, question_id)
    if question is None:
        raise NotFound(_("We could not find that page."))
    if question.retired_at is not None:
        raise Conflict(_("This question is retired already."))
    return question


def add_question(db: Session, actor: User, data: QuestionIn, *, now: datetime) -> Question:
    """A new question, last in its kind's set."""
    _staff(actor)
    last = db.exec(
        select(func.max(Question.position)).where(
            Question.offer_type == data.offer_type, col(Question.retired_at).is_(None)
        )
    ).one()
    question = Question(
        offer_type=data.offer_type,
        kind=data.kind,
        text_da=data.text_da,
        text_en=data.text_en,
        position=(last or 0) + 10,
        created_at=now,
    )
    db.add(question)
    db.commit()
    return question


def reword_question(db: Session, actor: User, question_id: int, data: QuestionWording, *, now: datetime) -> Question:
    """A new wording: the question is retired with its answers, and its successor (same kind and
    place, `replaces_id` pointing back) is asked from now on."""
    _staff(actor)
    begin_write(db)
    old = _active_question(db, question_id)
    claimed = db.exec(
        update(Question).where(col(Question.id) == old.id, col(Question.retired_at).is_(None)).values(retired_at=now)
    ).rowcount
    if not claimed:
        db.rollback()
        raise Conflict(_("This question is retired already."))
    new = Question(
        offer_type=old.offer_type,
        kind=old.kind,
        text_da=data.text_da,
        text_en=data.text_en,
        position=old.position,
        replaces_id=old.id,
        created_at=now,
    )
    db.add(new)
    db.commit()
    return new


def retire_question(db: Session, actor: User, question_id: int, *, now: datetime) -> None:
    """No longer asked; its answers stay in the results."""
    _staff(actor)
    question = _active_question(db, question_id)
    question.retired_at = now
    db.add(question)
    db.commit()


def move_question(db: Session, actor: User, question_id: int, *, up: bool) -> None:
    """Swap a question with its neighbour above (or below) in its kind's set."""
    _staff(actor)
    question = _active_question(db, question_id)
    siblings = questions_for(db, question.offer_type, Respondent.teacher)
    index = next(i for i, q in enumerate(siblings) if q.id == question.id)
    other = index - 1 if up else index + 1
    if not 0 <= other < len(siblings):
        return
    # Positions numbered afresh, so two questions that shared a number are also put in order.
    siblings[index], siblings[other] = siblings[other], siblings[index]
    for number, item in enumerate(siblings, start=1):
        item.position = number * 10
        db.add(item)
    db.commit()


move = move_question


# --- answering ------------------------------------------------------------------------------------


def field_name(question: Question, part: str = "") -> str:
    """The answer form's field for a question (a class poll has two: `_girls` and `_boys`)."""
    return f"q{question.id}{'_' + part if part else ''}"


@dataclass
class EvaluationForm:
    request: EvaluationRequest
    booking: Booking
    session: OfferSession
    offer: Offer
    school: Organisation | None
    questions: list[Question]


def form_for(db: Session, request: EvaluationRequest) -> EvaluationForm:
    booking = db.get(Booking, request.booking_id)
    session = db.get(OfferSession, booking.session_id)
    offer = db.get(Offer, session.offer_id)
    return EvaluationForm(
        request=request,
        booking=booking,
        session=session,
        offer=offer,
        school=db.get(Organisation, booking.school_id),
        questions=questions_for(db, offer.type, request.respondent),
    )


def _count(value: str | None, name: str, errors: dict[str, str], *, most: int) -> int | None:
    if value is None or not value.strip():
        return None
    try:
        number = int(value.strip())
    except ValueError:
        errors[name] = _("Write a whole number.")
        return None
    if number < 0:
        errors[name] = _("Write a number of at least %(limit)s.") % {"limit": 0}
    elif number > most:
        errors[name] = _("Write a number of at most %(limit)s.") % {"limit": most}
    else:
        return number
    return None


def read_answers(form: EvaluationForm, values: Mapping[str, str]) -> tuple[list[Answer], dict[str, str]]:
    """The answers as given, or each refused field's message under its name: scales from 1 to 5
    and yes or no must be answered; comments are optional, at most TEXT_MAX characters and no
    control characters but line breaks; a class poll's counts are optional, whole numbers from 0,
    girls no more than the booking's girls (when known) and together no more than its pupils."""
    answers: list[Answer] = []
    errors: dict[str, str] = {}
    booking = form.booking
    for question in form.questions:
        name = field_name(question)
        raw = (values.get(name) or "").strip()
        match question.kind:
            case QuestionKind.scale:
                score = int(raw) if raw.isdigit() and len(raw) == 1 else None
                if score not in SCALE:
                    errors[name] = _("Choose one of the options in the list.")
                else:
                    answers.append(Answer(question_id=question.id, score=score))
            case QuestionKind.yes_no:
                if raw not in (YES, NO):
                    errors[name] = _("Choose yes or no.")
                else:
                    answers.append(Answer(question_id=question.id, score=1 if raw == YES else 0))
            case QuestionKind.text:
                text = (values.get(name) or "").strip()
                if len(text) > TEXT_MAX:
                    errors[name] = _("Use at most %(count)d characters.") % {"count": TEXT_MAX}
                elif has_control_characters(text, multiline=True):
                    errors[name] = _("Remove the special characters (control characters) from the text.")
                elif text:
                    answers.append(Answer(question_id=question.id, text=text.replace("\r\n", "\n")))
            case QuestionKind.class_poll:
                girls_name, boys_name = field_name(question, "girls"), field_name(question, "boys")
                most_girls = booking.pupils if booking.girls is None else booking.girls
                girls = _count(values.get(girls_name), girls_name, errors, most=most_girls)
                most_boys = booking.pupils - (booking.girls or 0) - (girls or 0)
                boys = _count(values.get(boys_name), boys_name, errors, most=max(most_boys, 0))
                if girls is not None or boys is not None:
                    answers.append(Answer(question_id=question.id, girls=girls or 0, boys=boys or 0))
    return answers, errors


def answer(db: Session, token: str, values: Mapping[str, str], *, now: datetime) -> EvaluationRequest:
    """Save the answers of the link's request, all in one transaction, once: a second submission
    (a double click, the link opened again) finds it answered (LinkClosed "answered"). Refused
    answers raise InvalidAnswers and save nothing."""
    begin_write(db)
    request = request_for_token(db, token, now=now)
    return _save(db, request, values, now=now)


def answer_own(db: Session, user: User, request_id: int, values: Mapping[str, str], *, now: datetime) -> EvaluationRequest:
    """`answer`, from the logged-in person's inbox."""
    begin_write(db)
    request = own_request(db, user, request_id, now=now)
    return _save(db, request, values, now=now)


def _save(db: Session, request: EvaluationRequest, values: Mapping[str, str], *, now: datetime) -> EvaluationRequest:
    form = form_for(db, request)
    answers, errors = read_answers(form, values)
    if errors:
        db.rollback()
        raise InvalidAnswers(errors)
    # The conditional update is the once-only rule: of two submissions, the one that comes second
    # (on PostgreSQL, after waiting for the first's row lock) updates nothing.
    claimed = db.exec(
        update(EvaluationRequest)
        .where(
            col(EvaluationRequest.id) == request.id,
            col(EvaluationRequest.answered_at).is_(None),
            EvaluationRequest.expires_at > now,
        )
        .values(answered_at=now)
    ).rowcount
    if not claimed:
        db.rollback()
        raise LinkClosed("answered")
    for item in answers:
        item.request_id = request.id
        db.add(item)
    db.commit()
    db.refresh(request)
    return request


# --- results --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResultFilters:
    offer_type: OfferType | None = None
    provider_id: int | None = None  # the coordinators' filter; a provider always sees their own
    municipality: str | None = None  # the school's
    first_day: date | None = None  # of the activity
    last_day: date | None = None


@dataclass
class QuestionResult:
    question: Question
    answers: int
    average: float | None  # a scale's mean, 1-5
    yes_share: float | None  # a yes/no question's share of yes, 0-1
    girls: int
    boys: int


@dataclass
class MonthResult:
    month: date  # its first day
    answered: int
    average: float | None  # of every scale answer that month


@dataclass
class Comment:
    when: datetime
    offer_title: str
    respondent: Respondent
    question: Question
    text: str


@dataclass
class Results:
    asked: int = 0
    answered: int = 0
    questions: list[QuestionResult] = field(default_factory=list)
    months: list[MonthResult] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)


School = aliased(Organisation, name="school")
Provider = aliased(Organisation, name="provider")


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=TIMEZONE)


def _scope(actor: User, filters: ResultFilters) -> list[ColumnElement[bool]]:
    """The conditions on requests joined with their booking, date, offer and school: the provider's
    staff see their own organisation's offers only; a municipality's coordinator their schools'."""
    conditions: list[ColumnElement[bool]] = []
    if actor.role == Role.provider:
        conditions.append(col(Offer.provider_id) == actor.organisation_id)
    elif actor.role == Role.coordinator and actor.municipality:
        conditions.append(School.municipality == actor.municipality)
    elif not actor.is_staff:
        raise Forbidden(_("Only providers and coordinators may see evaluations."))
    if filters.provider_id and actor.is_staff:
        conditions.append(col(Offer.provider_id) == filters.provider_id)
    if filters.offer_type:
        conditions.append(col(Offer.type) == filters.offer_type)
    if filters.municipality:
        conditions.append(School.municipality == filters.municipality)
    if filters.first_day:
        conditions.append(col(OfferSession.starts_at) >= _midnight(filters.first_day))
    if filters.last_day:
        conditions.append(col(OfferSession.starts_at) < _midnight(filters.last_day + timedelta(days=1)))
    return conditions


def _joined(query):
    return (
        query.join(Booking, col(Booking.id) == col(EvaluationRequest.booking_id))
        .join(OfferSession, col(OfferSession.id) == col(Booking.session_id))
        .join(Offer, col(Offer.id) == col(OfferSession.offer_id))
        .join(School, School.id == col(Booking.school_id))
    )


def results(db: Session, actor: User, filters: ResultFilters | None = None) -> Results:
    """What the evaluations the actor may see say: how many were asked and answered; per question
    (each wording apart) its answers, a scale's average, a yes/no question's share of yes and a
    class poll's sums; per month of the activity, the answers and the average score; the comments."""
    filters = filters or ResultFilters()
    where = and_(true(), *_scope(actor, filters))
    asked, answered = db.exec(
        _joined(
            select(func.count(), func.count(col(EvaluationRequest.answered_at))).select_from(EvaluationRequest)
        ).where(where)
    ).one()
    found = Results(asked=asked, answered=answered)

    per_question = db.exec(
        _joined(
            select(
                Answer.question_id,
                func.count(),
                func.avg(Answer.score),
                func.coalesce(func.sum(Answer.girls), 0),
                func.coalesce(func.sum(Answer.boys), 0),
            )
            .select_from(Answer)
            .join(EvaluationRequest, col(EvaluationRequest.id) == col(Answer.request_id))
        )
        .where(where)
        .group_by(col(Answer.question_id))
    ).all()
    by_id = {row[0]: row for row in per_question}
    questions = db.exec(
        select(Question)
        .where(col(Question.id).in_(list(by_id)))
        .order_by(col(Question.offer_type), col(Question.retired_at).is_not(None), col(Question.position), col(Question.id))
    ).all()
    for question in questions:
        _id, count, mean, girls, boys = by_id[question.id]
        mean = float(mean) if mean is not None else None
        found.questions.append(
            QuestionResult(
                question=question,
                answers=count,
                average=mean if question.kind == QuestionKind.scale else None,
                yes_share=mean if question.kind == QuestionKind.yes_no else None,
                girls=int(girls),
                boys=int(boys),
            )
        )

    year = extract("year", col(OfferSession.starts_at))
    month = extract("month", col(OfferSession.starts_at))
    scale_score = case((col(Question.kind) == QuestionKind.scale.value, col(Answer.score)))
    months = db.exec(
        _joined(
            select(year, month, func.count(func.distinct(col(EvaluationRequest.id))), func.avg(scale_score))
            .select_from(Answer)
            .join(EvaluationRequest, col(EvaluationRequest.id) == col(Answer.request_id))
            .join(Question, col(Question.id) == col(Answer.question_id))
        )
        .where(where)
        .group_by(year, month)
        .order_by(year, month)
    ).all()
    found.months = [
        MonthResult(month=date(int(y), int(m), 1), answered=n, average=float(a) if a is not None else None)
        for y, m, n, a in months
    ]

    comments = db.exec(
        _joined(
            select(Answer.text, Question, EvaluationRequest.respondent, Offer.title, OfferSession.starts_at)
            .select_from(Answer)
            .join(EvaluationRequest, col(EvaluationRequest.id) == col(Answer.request_id))
            .join(Question, col(Question.id) == col(Answer.question_id))
        )
        .where(where, col(Answer.text).is_not(None))
        .order_by(col(OfferSession.starts_at).desc(), col(Answer.request_id).desc())
        .limit(200)
    ).all()
    found.comments = [
        Comment(when=starts_at, offer_title=title, respondent=respondent, question=question, text=text)
        for text, question, respondent, title, starts_at in comments
    ]
    return found


# Spreadsheet programs run a cell that starts like this as a formula (CSV injection): kept as text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_DELIMITER = ";"  # what Danish Excel reads (app.bookings.attendees)


def _cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def answer_rows(db: Session, actor: User, filters: ResultFilters | None = None) -> Iterator[tuple]:
    """Every answer the actor may see: (booking, offer, kind, provider, school, municipality, date,
    respondent, question, answer, answered_at), oldest activity first."""
    filters = filters or ResultFilters()
    query = (
        _joined(
            select(Answer, Question, EvaluationRequest, Booking, Offer, OfferSession, School.name, School.municipality, Provider.name)
            .select_from(Answer)
            .join(EvaluationRequest, col(EvaluationRequest.id) == col(Answer.request_id))
            .join(Question, col(Question.id) == col(Answer.question_id))
        )
        .join(Provider, Provider.id == col(Offer.provider_id))
        .where(*_scope(actor, filters))
        .order_by(col(OfferSession.starts_at), col(Booking.id), col(EvaluationRequest.id), col(Question.position), col(Question.id))
    )
    yield from db.exec(query.execution_options(yield_per=500))


def _answer_text(answer: Answer, question: Question) -> str:
    match question.kind:
        case QuestionKind.scale:
            return str(answer.score)
        case QuestionKind.yes_no:
            return _("Yes") if answer.score else _("No")
        case QuestionKind.class_poll:
            return _("%(girls)d girls, %(boys)d boys") % {"girls": answer.girls or 0, "boys": answer.boys or 0}
    return answer.text or ""


def results_csv(db: Session, actor: User, filters: ResultFilters | None = None) -> str:
    """One row per answer, in the current language (the questions as they were worded)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=CSV_DELIMITER, lineterminator="\r\n")
    writer.writerow(
        [
            _("Booking"), _("Activity"), _("Kind of activity"), _("Provider"), _("School"), _("Municipality"),
            _("Date"), _("Respondent"), _("Question"), _("Answer"), _("Score"), _("Girls"), _("Boys"), _("Answered"),
        ]
    )
    danish = current_language() == "da"
    for answer_, question, request, booking, offer, session, school, municipality, provider in answer_rows(db, actor, filters):
        writer.writerow(
            [_cell(v) for v in (
                booking.id,
                offer.title,
                label(offer.type),
                provider,
                school,
                municipality,
                session.starts_at.astimezone(TIMEZONE).date().isoformat(),
                label(request.respondent),
                question.text_da if danish else question.text_en,
                _answer_text(answer_, question),
                "" if answer_.score is None else answer_.score,
                "" if answer_.girls is None else answer_.girls,
                "" if answer_.boys is None else answer_.boys,
                request.answered_at.astimezone(TIMEZONE).date().isoformat() if request.answered_at else "",
            )]
        )
    return out.getvalue()


def providers_with_evaluations(db: Session) -> Sequence[Organisation]:
    """The providers a coordinator may filter the results by."""
    return db.exec(
        select(Organisation)
        .where(col(Organisation.id).in_(select(Offer.provider_id).distinct()))
        .order_by(col(Organisation.name))
    ).all()
