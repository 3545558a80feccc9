"""The evaluation pages: the e-mailed link's form (no log-in), the inbox's, the results with their
CSV, and the coordinators' question sets."""

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlmodel import select

from app.catalogue.models import OfferType
from app.deps import get_now
from app.evaluations import service as evaluations
from app.evaluations.models import Answer, EvaluationRequest, Question, QuestionKind, Respondent
from tests.evaluations.conftest import NOW, make_visit, requests_of
from tests.evaluations.test_service import answer_all, good_answers, token_of
from tests.factories import error_summary, log_in, make_provider, make_user, post_form

LATER = NOW + timedelta(days=1)


@pytest.fixture
def at_later(app):
    app.dependency_overrides[get_now] = lambda: LATER


def saved_answers(db, request) -> int:
    return len(db.exec(select(Answer).where(Answer.request_id == request.id)).all())


def test_the_e_mailed_link_opens_the_form_and_takes_the_answers_once(client, db, settings, visit, mailbox, send_outbox, at_later):
    send_outbox(NOW)
    (mail,) = [m for m in mailbox.to(visit.teacher.email) if m["Subject"] == "Hvordan gik Robotter i skolen?"]
    text = mail.get_body(("plain",)).get_content()
    link = re.search(r"http://testserver(/evaluations/[A-Za-z0-9_-]{20,})", text).group(1)
    for staff in visit.staff + [visit.mentor]:
        assert any("/evaluations/" in m.get_body(("plain",)).get_content() for m in mailbox.to(staff.email))

    page = client.get(link)
    assert page.status_code == 200
    assert page.headers["referrer-policy"] == "strict-origin-when-cross-origin"  # the path never leaves
    request = requests_of(db, visit.booking)[visit.teacher.id]
    form = evaluations.form_for(db, request)
    overall = form.questions[0]
    assert f"<legend>{overall.text_da}</legend>" in page.text
    for n in range(1, 6):
        assert f'type="radio" id="q{overall.id}-{n}" name="q{overall.id}" value="{n}"' in page.text
    assert 'inputmode="numeric"' in page.text  # the class poll's counts

    sent = post_form(client, link, good_answers(form))
    assert sent.status_code == 303 and sent.headers["location"] == "/evaluations/thanks"
    assert client.get("/evaluations/thanks").status_code == 200
    assert saved_answers(db, request) == len(form.questions)
    # A second submission (a double click, the back button) is refused with a clear page.
    again = post_form(client, link, good_answers(form))
    assert again.status_code == 409 and "error-summary" not in again.text
    assert saved_answers(db, request) == len(form.questions)
    reopened = client.get(link)
    assert reopened.status_code == 200 and "<form method=\"post\" action=\"/evaluations/" not in reopened.text


def test_a_wrong_answer_is_shown_beside_its_field_in_danish_and_nothing_is_saved(client, db, settings, visit, at_later):
    request = requests_of(db, visit.booking)[visit.teacher.id]
    form = evaluations.form_for(db, request)
    link = evaluations.link_path(token_of(settings, request))
    poll = next(q for q in form.questions if q.kind == QuestionKind.class_poll)
    scale = form.questions[1]
    values = good_answers(form)
    values.pop(evaluations.field_name(scale))
    values[evaluations.field_name(poll, "girls")] = "30"
    page = post_form(client, link, values)
    assert page.status_code == 422
    summary = error_summary(page.text)
    assert summary[f"q{scale.id}"] == f"{scale.text_da}: Vælg en af mulighederne på listen."
    assert summary[f"q{poll.id}_girls"].endswith("Skriv et tal på højst 10.")
    assert f'id="q{scale.id}-error"' in page.text and f'id="q{poll.id}_girls-error"' in page.text
    assert 'value="30"' in page.text  # what was typed stays
    assert saved_answers(db, request) == 0
    db.refresh(request)
    assert request.answered_at is None


def test_an_expired_or_unknown_link_shows_a_clear_page(client, db, settings, visit, app):
    request = requests_of(db, visit.booking)[visit.mentor.id]
    link = evaluations.link_path(token_of(settings, request))
    app.dependency_overrides[get_now] = lambda: request.expires_at + timedelta(seconds=1)
    assert client.get(link).status_code == 410
    assert post_form(client, link, {}).status_code == 410
    assert client.get("/evaluations/" + "x" * 43).status_code == 404
    assert post_form(client, "/evaluations/" + "x" * 500, {}).status_code == 404


def test_the_inbox_opens_the_persons_own_form_only(client, db, settings, visit, at_later):
    request = requests_of(db, visit.booking)[visit.mentor.id]
    log_in(client, db, visit.mentor, settings)
    page = client.get(f"/evaluations/requests/{request.id}")
    assert page.status_code == 200
    form = evaluations.form_for(db, request)
    assert all(q.kind != QuestionKind.class_poll for q in form.questions)  # the teacher's only
    assert post_form(client, f"/evaluations/requests/{request.id}", good_answers(form)).status_code == 303
    assert saved_answers(db, request) == len(form.questions)
    log_in(client, db, visit.teacher, settings)
    assert client.get(f"/evaluations/requests/{request.id}").status_code == 404


def test_results_the_provider_sees_their_own_and_the_coordinators_by_municipality(client, db, settings):
    own, other = make_provider(db), make_provider(db)
    aarhus = make_visit(db, settings, provider=own, municipality="Aarhus", title="Egen aktivitet")
    herning = make_visit(db, settings, provider=other, municipality="Herning", title="Andens aktivitet")
    answer_all(db, settings, aarhus)
    answer_all(db, settings, herning)

    def seen(user) -> tuple[str, list[list[str]]]:
        log_in(client, db, user, settings)
        page = client.get("/evaluations")
        assert page.status_code == 200
        assert 'href="/evaluations.csv"' in page.text
        download = client.get("/evaluations.csv")
        assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig")), delimiter=";"))
        return page.text, rows[1:]

    per_visit = len(db.exec(select(Answer).join(EvaluationRequest).where(EvaluationRequest.booking_id == aarhus.booking.id)).all())
    page, rows = seen(make_user(db, "provider", organisation=own))
    assert "Egen aktivitet" in page and "Andens aktivitet" not in page
    assert len(rows) == per_visit and {r[1] for r in rows} == {"Egen aktivitet"}
    page, rows = seen(make_user(db, "coordinator"))
    assert "Egen aktivitet" in page and "Andens aktivitet" in page and len(rows) == 2 * per_visit
    page, rows = seen(make_user(db, "coordinator", municipality="Herning"))
    assert "Egen aktivitet" not in page and {r[1] for r in rows} == {"Andens aktivitet"}
    # The coordinators filter like the bookings list.
    log_in(client, db, make_user(db, "admin"), settings)
    filtered = client.get(f"/evaluations?provider={own.id}&type=course&starts_from=2026-08-01&starts_before=2026-09-30")
    assert "Egen aktivitet" in filtered.text and "Andens aktivitet" not in filtered.text
    assert f'href="/evaluations.csv?type=course&amp;provider={own.id}' in filtered.text
    log_in(client, db, aarhus.teacher, settings)
    assert client.get("/evaluations").status_code == 403
    assert client.get("/evaluations.csv").status_code == 403


def test_coordinators_reword_add_move_and_retire_questions(client, db, settings):
    coordinator = make_user(db, "coordinator")
    log_in(client, db, coordinator, settings)
    page = client.get("/evaluations/questions?type=expert")
    assert page.status_code == 200
    first = evaluations.questions_for(db, OfferType.expert, Respondent.teacher)[0]
    assert first.text_da in page.text

    refused = post_form(client, f"/evaluations/questions/{first.id}/reword", {"text_da": "", "text_en": "Overall?"})
    assert refused.status_code == 422
    (message,) = error_summary(refused.text).values()
    assert list(error_summary(refused.text)) == [f"q{first.id}-text_da"] and message.endswith("Udfyld dette felt.")
    done = post_form(client, f"/evaluations/questions/{first.id}/reword",
                     {"text_da": "Hvordan var eksperten?", "text_en": "How was the expert?"})
    assert done.status_code == 303
    new = evaluations.questions_for(db, OfferType.expert, Respondent.teacher)[0]
    assert (new.text_da, new.replaces_id) == ("Hvordan var eksperten?", first.id)

    added = post_form(client, "/evaluations/questions",
                      {"offer_type": "expert", "kind": "yes_no", "text_da": "Kom eksperten til tiden?", "text_en": "Was the expert on time?"})
    assert added.status_code == 303
    last = evaluations.questions_for(db, OfferType.expert, Respondent.teacher)[-1]
    assert last.text_da == "Kom eksperten til tiden?"
    assert post_form(client, "/evaluations/questions", {"offer_type": "expert", "kind": "poll", "text_da": "x\ny", "text_en": ""}).status_code == 422
    assert post_form(client, f"/evaluations/questions/{last.id}/move", {"direction": "up"}).status_code == 303
    assert evaluations.questions_for(db, OfferType.expert, Respondent.teacher)[-2].id == last.id
    assert post_form(client, f"/evaluations/questions/{last.id}/retire").status_code == 303
    assert last.id not in [q.id for q in evaluations.questions_for(db, OfferType.expert, Respondent.teacher)]
    assert post_form(client, f"/evaluations/questions/{last.id}/retire").status_code == 409

    log_in(client, db, make_user(db, "provider"), settings)
    assert client.get("/evaluations/questions").status_code == 403
    assert db.get(Question, first.id).retired_at is not None
