"""Evaluations without HTTP: who is asked, answering once, the reminder, the rules of each answer,
the question sets, and who sees which results."""

import csv
import io
from datetime import timedelta

import pytest
from sqlmodel import select

from app.accounts.models import Role
from app.bookings import reminders
from app.bookings.models import Booking, BookingStatus
from app.catalogue.models import OfferSession, OfferType
from app.errors import Conflict, Forbidden
from app.evaluations import service as evaluations
from app.evaluations.models import Answer, EvaluationRequest, Question, QuestionKind, Respondent
from app.evaluations.schemas import QuestionIn, QuestionWording
from app.i18n import language
from app.notifications.models import Notification, OutboxMessage
from tests.evaluations.conftest import NOW, make_visit, requests_of
from tests.factories import make_provider, make_user


def token_of(settings, request: EvaluationRequest) -> str:
    return evaluations.link_token(settings.secret_key, request)


def good_answers(form: evaluations.EvaluationForm) -> dict[str, str]:
    values = {}
    for q in form.questions:
        match q.kind:
            case QuestionKind.scale:
                values[evaluations.field_name(q)] = "4"
            case QuestionKind.yes_no:
                values[evaluations.field_name(q)] = "yes"
            case QuestionKind.text:
                values[evaluations.field_name(q)] = "Eleverne var meget optagede.\nTak!"
            case QuestionKind.class_poll:
                values[evaluations.field_name(q, "girls")] = "6"
                values[evaluations.field_name(q, "boys")] = "3"
    return values


def answer_all(db, settings, visit, *, now=NOW + timedelta(days=1), score: str | None = None) -> None:
    for request in requests_of(db, visit.booking).values():
        values = good_answers(evaluations.form_for(db, request))
        if score:
            values = {k: score if v == "4" else v for k, v in values.items()}
        evaluations.answer(db, token_of(settings, request), values, now=now)


def test_completion_asks_the_teacher_the_providers_staff_and_the_visits_mentors_once_each(db, settings, visit):
    db.refresh(visit.booking)
    assert visit.booking.status == BookingStatus.completed
    asked = requests_of(db, visit.booking)
    assert {user_id: r.respondent for user_id, r in asked.items()} == {
        visit.teacher.id: Respondent.teacher,
        visit.staff[0].id: Respondent.provider,
        visit.staff[1].id: Respondent.provider,
        visit.mentor.id: Respondent.mentor,
    }
    for request in asked.values():
        assert request.sent_at == NOW and request.expires_at == NOW + timedelta(days=settings.evaluation_link_days)
        assert request.answered_at is None and len(request.token_hash) == 64
    inbox = db.exec(select(Notification).where(Notification.kind == "evaluation", Notification.booking_id == visit.booking.id)).all()
    assert sorted(n.user_id for n in inbox) == sorted(asked)
    # The inbox leads to the logged-in form; the link's secret is in the e-mail only.
    assert {n.link for n in inbox} == {f"/evaluations/requests/{r.id}" for r in asked.values()}
    mails = db.exec(select(OutboxMessage).where(OutboxMessage.subject == "Hvordan gik Robotter i skolen?")).all()
    assert len(mails) == 4
    for request in asked.values():
        assert any(f"http://testserver/evaluations/{token_of(settings, request)}" in m.body for m in mails)
    # Asked once: the job again, or the service again, asks nobody more.
    assert reminders.complete_and_ask_for_evaluation(db, now=NOW + timedelta(hours=1), settings=settings) == 0
    assert evaluations.ask_for_booking(db, visit.booking, now=NOW + timedelta(hours=1), settings=settings) == 0
    assert len(requests_of(db, visit.booking)) == 4


def test_the_class_poll_is_asked_of_the_teacher_only(db, visit):
    kinds = {r: [q.kind for q in evaluations.questions_for(db, OfferType.course, r)] for r in Respondent}
    assert QuestionKind.class_poll in kinds[Respondent.teacher]
    assert QuestionKind.class_poll not in kinds[Respondent.provider] + kinds[Respondent.mentor]
    # The default set: short, with scales, a yes/no and comments, for every kind of activity.
    for offer_type in OfferType:
        questions = evaluations.questions_for(db, offer_type, Respondent.teacher)
        assert [q.kind for q in questions] == ["scale"] * 4 + ["yes_no", "class_poll", "text"]
        assert all(q.text_da and q.text_en for q in questions)


def test_answers_are_saved_once_and_a_second_submission_is_refused(db, settings, visit):
    request = requests_of(db, visit.booking)[visit.teacher.id]
    token = token_of(settings, request)
    form = evaluations.form_for(db, evaluations.request_for_token(db, token, now=NOW))
    evaluations.answer(db, token, good_answers(form), now=NOW + timedelta(days=1))
    db.refresh(request)
    assert request.answered_at == NOW + timedelta(days=1)
    saved = db.exec(select(Answer).where(Answer.request_id == request.id)).all()
    assert len(saved) == len(form.questions)
    poll = next(a for a in saved if a.girls is not None)
    assert (poll.girls, poll.boys) == (6, 3)
    with pytest.raises(evaluations.LinkClosed) as refused:
        evaluations.answer(db, token, good_answers(form), now=NOW + timedelta(days=1, seconds=1))
    assert refused.value.reason == "answered"
    assert len(db.exec(select(Answer).where(Answer.request_id == request.id)).all()) == len(form.questions)


def test_a_link_expires_and_an_unknown_one_never_works(db, settings, visit):
    request = requests_of(db, visit.booking)[visit.mentor.id]
    with pytest.raises(evaluations.LinkClosed) as expired:
        evaluations.request_for_token(db, token_of(settings, request), now=request.expires_at)
    assert expired.value.reason == "expired"
    with pytest.raises(evaluations.LinkClosed) as unknown:
        evaluations.request_for_token(db, "not-a-token", now=NOW)
    assert unknown.value.reason == "unknown"


def test_one_reminder_after_a_week_with_the_same_link(db, settings, visit):
    asked = requests_of(db, visit.booking)
    teacher_request = asked[visit.teacher.id]
    form = evaluations.form_for(db, teacher_request)
    evaluations.answer(db, token_of(settings, teacher_request), good_answers(form), now=NOW + timedelta(days=2))
    assert evaluations.remind_unanswered(db, now=NOW + timedelta(days=6), settings=settings) == 0
    assert evaluations.remind_unanswered(db, now=NOW + timedelta(days=7), settings=settings) == 3  # not the teacher
    assert evaluations.remind_unanswered(db, now=NOW + timedelta(days=8), settings=settings) == 0
    reminded = db.exec(select(Notification).where(Notification.kind == "evaluation_reminder")).all()
    assert sorted(n.user_id for n in reminded) == sorted([visit.mentor.id, *(s.id for s in visit.staff)])
    mentor_request = asked[visit.mentor.id]
    db.refresh(mentor_request)
    assert mentor_request.reminded_at == NOW + timedelta(days=7)
    (mail,) = db.exec(select(OutboxMessage).where(OutboxMessage.to_address == visit.mentor.email,
                                                  OutboxMessage.subject.startswith("Reminder"))).all() or db.exec(
        select(OutboxMessage).where(OutboxMessage.to_address == visit.mentor.email, OutboxMessage.created_at == NOW + timedelta(days=7))).all()
    assert f"/evaluations/{token_of(settings, mentor_request)}" in mail.body
    # The reminder's link is the first one: it still opens the form.
    assert evaluations.request_for_token(db, token_of(settings, mentor_request), now=NOW + timedelta(days=7)).id == mentor_request.id


def _poll(form):
    return next(q for q in form.questions if q.kind == QuestionKind.class_poll)


def _of_kind(form, kind):
    return next(q for q in form.questions if q.kind == kind)


WRONG = [
    # (what, the field's name from the form, its wrong value, the Danish message)
    ("scale", "", None, "Vælg en af mulighederne på listen."),
    ("scale", "", "6", "Vælg en af mulighederne på listen."),
    ("scale", "", "0", "Vælg en af mulighederne på listen."),
    ("scale", "", "fem", "Vælg en af mulighederne på listen."),
    ("yes_no", "", None, "Vælg ja eller nej."),
    ("yes_no", "", "måske", "Vælg ja eller nej."),
    ("text", "", "x" * 2001, "Brug højst 2000 tegn."),
    ("text", "", "Fint\x07", "Fjern specialtegnene (kontroltegn) fra teksten."),
    ("class_poll", "girls", "mange", "Skriv et helt tal."),
    ("class_poll", "girls", "-1", "Skriv et tal på mindst 0."),
    ("class_poll", "girls", "11", "Skriv et tal på højst 10."),  # the booking had 10 girls
    ("class_poll", "boys", "15", "Skriv et tal på højst 8."),  # 24 pupils, 10 girls, 6 of them answered
]


@pytest.mark.parametrize(("kind", "part", "value", "message"), WRONG)
def test_each_wrong_answer_is_refused_in_danish_naming_its_field_and_nothing_is_saved(db, settings, visit, kind, part, value, message):
    request = requests_of(db, visit.booking)[visit.teacher.id]
    form = evaluations.form_for(db, request)
    values = good_answers(form)
    name = evaluations.field_name(_of_kind(form, kind), part)
    if value is None:
        values.pop(name)
    else:
        values[name] = value
    with language("da"), pytest.raises(evaluations.InvalidAnswers) as refused:
        evaluations.answer(db, token_of(settings, request), values, now=NOW + timedelta(days=1))
    assert refused.value.errors == {name: message}
    db.refresh(request)
    assert request.answered_at is None
    assert db.exec(select(Answer).where(Answer.request_id == request.id)).all() == []


def test_an_empty_class_poll_and_empty_comments_are_fine(db, settings, visit):
    request = requests_of(db, visit.booking)[visit.teacher.id]
    form = evaluations.form_for(db, request)
    values = good_answers(form)
    for name in [evaluations.field_name(_poll(form), "girls"), evaluations.field_name(_poll(form), "boys"),
                 evaluations.field_name(_of_kind(form, QuestionKind.text))]:
        values[name] = ""
    evaluations.answer(db, token_of(settings, request), values, now=NOW + timedelta(days=1))
    saved = db.exec(select(Answer).where(Answer.request_id == request.id)).all()
    assert len(saved) == len(form.questions) - 2


def test_only_staff_keep_the_questions(db):
    question = evaluations.questions_for(db, OfferType.expert, Respondent.teacher)[0]
    for role in ("provider", "teacher", "mentor"):
        user = make_user(db, role) if role != "mentor" else make_user(db, Role.mentor)
        with pytest.raises(Forbidden):
            evaluations.retire_question(db, user, question.id, now=NOW)
        with pytest.raises(Forbidden):
            evaluations.add_question(db, user, QuestionIn(offer_type="expert", kind="scale", text_da="Spørgsmål", text_en="Question"), now=NOW)


def test_coordinators_add_move_and_retire_questions(db):
    coordinator = make_user(db, "coordinator")
    added = evaluations.add_question(
        db, coordinator, QuestionIn(offer_type="girls_day", kind="yes_no", text_da="Mødte pigerne en rollemodel?", text_en="Did the girls meet a role model?"), now=NOW
    )
    asked = evaluations.questions_for(db, OfferType.girls_day, Respondent.teacher)
    assert asked[-1].id == added.id
    evaluations.move_question(db, coordinator, added.id, up=True)
    asked = evaluations.questions_for(db, OfferType.girls_day, Respondent.teacher)
    assert asked[-2].id == added.id
    evaluations.retire_question(db, coordinator, added.id, now=NOW)
    assert added.id not in [q.id for q in evaluations.questions_for(db, OfferType.girls_day, Respondent.teacher)]
    assert added.id in [q.id for q in evaluations.all_questions(db, OfferType.girls_day)]


def test_rewording_keeps_the_old_answers_with_the_old_question(db, settings):
    coordinator = make_user(db, "coordinator")
    first = make_visit(db, settings, title="Første")
    answer_all(db, settings, first, score="2")
    old = evaluations.questions_for(db, OfferType.course, Respondent.teacher)[0]
    new = evaluations.reword_question(
        db, coordinator, old.id, QuestionWording(text_da="Hvor godt var forløbet for klassen?", text_en="How good was the course for the class?"), now=NOW + timedelta(days=2)
    )
    db.refresh(old)
    assert old.retired_at == NOW + timedelta(days=2) and new.replaces_id == old.id and new.position == old.position
    assert evaluations.questions_for(db, OfferType.course, Respondent.teacher)[0].id == new.id
    later = make_visit(db, settings, title="Senere", ended=NOW + timedelta(days=3))
    answer_all(db, settings, later, now=NOW + timedelta(days=4), score="5")
    found = {r.question.id: r for r in evaluations.results(db, coordinator).questions}
    assert (found[old.id].answers, found[old.id].average) == (4, 2.0)
    assert (found[new.id].answers, found[new.id].average) == (4, 5.0)
    with pytest.raises(Conflict):  # the old wording is retired: reword the new one
        evaluations.reword_question(db, coordinator, old.id, QuestionWording(text_da="Igen", text_en="Again"), now=NOW)


def test_the_provider_sees_their_own_evaluations_only_and_coordinators_by_municipality(db, settings):
    own, other = make_provider(db), make_provider(db)
    aarhus = make_visit(db, settings, provider=own, municipality="Aarhus", title="Egen")
    herning = make_visit(db, settings, provider=other, municipality="Herning", title="Anden")
    answer_all(db, settings, aarhus, score="5")
    answer_all(db, settings, herning, score="1")
    provider = make_user(db, "provider", organisation=own)
    regional = make_user(db, "coordinator")
    aarhus_coordinator = make_user(db, "coordinator", municipality="Aarhus")

    def seen(user, **filters):
        found = evaluations.results(db, user, evaluations.ResultFilters(**filters))
        return found.asked, found.answered, sorted({c.offer_title for c in found.comments})

    assert seen(provider) == (4, 4, ["Egen"])
    # A provider cannot widen the view with a coordinator's filter.
    assert seen(provider, provider_id=other.id) == (4, 4, ["Egen"])
    assert seen(regional) == (8, 8, ["Anden", "Egen"])
    assert seen(regional, provider_id=other.id) == (4, 4, ["Anden"])
    assert seen(regional, municipality="Herning") == (4, 4, ["Anden"])
    assert seen(aarhus_coordinator) == (4, 4, ["Egen"])
    assert seen(regional, offer_type=OfferType.expert) == (0, 0, [])
    assert seen(regional, first_day=(NOW + timedelta(days=1)).date()) == (0, 0, [])
    overall = next(r for r in evaluations.results(db, provider).questions if r.question.kind == QuestionKind.scale)
    assert overall.average == 5.0
    (month,) = evaluations.results(db, provider).months
    assert (month.month.isoformat(), month.answered, month.average) == ("2026-09-01", 4, 5.0)
    yes_no = next(r for r in evaluations.results(db, regional).questions if r.question.kind == QuestionKind.yes_no)
    assert yes_no.yes_share == 1.0 and yes_no.answers == 8
    poll = next(r for r in evaluations.results(db, regional).questions if r.question.kind == QuestionKind.class_poll)
    assert (poll.girls, poll.boys) == (12, 6)
    with pytest.raises(Forbidden):
        evaluations.results(db, aarhus.teacher)

    rows = list(csv.reader(io.StringIO(evaluations.results_csv(db, provider)), delimiter=";"))
    header, body = rows[0], rows[1:]
    answers = len(db.exec(select(Answer).join(EvaluationRequest).where(EvaluationRequest.booking_id == aarhus.booking.id)).all())
    assert len(body) == answers and {r[0] for r in body} == {str(aarhus.booking.id)}
    assert header[:2] == ["Booking", "Aktivitet"]
    assert {r[1] for r in body} == {"Egen"}
    assert "Eleverne var meget optagede.\nTak!" in {r[9] for r in body}
    assert len(list(csv.reader(io.StringIO(evaluations.results_csv(db, regional)), delimiter=";"))) == 2 * answers + 1


def test_a_course_booked_as_one_is_evaluated_once_after_its_last_date(db, settings):
    visit = make_visit(db, settings, complete=False)
    later = OfferSession(offer_id=visit.offer.id, starts_at=NOW + timedelta(days=7), ends_at=NOW + timedelta(days=7, hours=3), capacity_pupils=50)
    db.add(later)
    db.flush()
    first = visit.booking
    second = Booking(session_id=later.id, school_id=first.school_id, teacher_id=first.teacher_id, status=BookingStatus.confirmed,
                     class_name=first.class_name, grade=first.grade, pupils=first.pupils)
    db.add(second)
    db.flush()
    visit.booking.course_id = second.course_id = visit.booking.id
    db.add_all([visit.booking, second])
    db.commit()
    reminders.complete_and_ask_for_evaluation(db, now=NOW, settings=settings)
    assert requests_of(db, visit.booking) == {}
    reminders.complete_and_ask_for_evaluation(db, now=NOW + timedelta(days=7, hours=3), settings=settings)
    assert requests_of(db, second).keys() == {visit.teacher.id, *(s.id for s in visit.staff)}
    assert db.exec(select(Question)).first() is not None


def test_of_two_submissions_racing_the_second_saves_nothing(db, settings, visit):
    request = requests_of(db, visit.booking)[visit.teacher.id]
    values = good_answers(evaluations.form_for(db, request))
    # Both found the link open; the first is saved, then the second reaches the conditional update.
    evaluations.answer(db, token_of(settings, request), values, now=NOW + timedelta(days=1))
    with pytest.raises(evaluations.LinkClosed):
        evaluations._save(db, request, values, now=NOW + timedelta(days=1))
    assert len(db.exec(select(Answer).where(Answer.request_id == request.id)).all()) == len(values) - 1  # the poll: one row
