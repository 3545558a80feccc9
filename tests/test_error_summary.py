"""The error summary above a form names the field of each message (WCAG 2.1 3.3.1, 3.3.3): a screen
reader user hears the list before the fields, so "Fill in this field." alone would not say which."""

import re
from datetime import UTC, datetime, timedelta

from app.accounts.models import User
from app.catalogue import resources
from app.catalogue.models import Offer, OfferSession, OfferType, ResourceKind
from app.db import utcnow
from app.deps import get_now
from app.i18n import local_datetime
from app.web.templating import templates
from tests.factories import (
    error_summary,
    log_in,
    make_school,
    make_user,
    post_form,
    published_session,
)


def test_the_booking_form_names_each_field_in_danish_and_in_english(client, db, settings):
    _offer, session = published_session(db)
    log_in(client, db, make_user(db, "teacher", organisation=make_school(db)), settings)
    form = {"grade": "6", "pupils": "0", "adults": "1"}  # no class, too few pupils

    danish = post_form(client, f"/sessions/{session.id}/book", form)
    assert danish.status_code == 422
    assert error_summary(danish.text) == {
        "class_name": "Klasse: Udfyld dette felt.",
        "pupils": "Antal elever: Skriv et tal på mindst 1.",
    }
    # Next to the field, where its label is, the message stands alone.
    assert "</span>Skriv et tal på mindst 1.</p>" in danish.text

    client.cookies.set("stem_lang", "en", domain="testserver.local")
    english = post_form(client, f"/sessions/{session.id}/book", form)
    assert error_summary(english.text) == {
        "class_name": "Class: Fill in this field.",
        "pupils": "Number of pupils: Write a number of at least 1.",
    }


def test_the_offer_form_names_its_fields(client, db, settings):
    log_in(client, db, make_user(db, "provider"), settings)
    form = {
        "type": "course",
        "grade_min": "7",
        "grade_max": "9",
        "format": "at_provider",
        "language": "da",
        "cancellation_weekdays": "10",
    }
    untitled = post_form(client, "/provider/offers/new", form)
    assert untitled.status_code == 422
    assert error_summary(untitled.text) == {"title": "Titel: Udfyld dette felt."}
    upside_down = post_form(
        client, "/provider/offers/new", {**form, "title": "Robotter", "grade_max": "5"}
    )
    assert error_summary(upside_down.text) == {
        "grade_max": "Til klassetrin: Til-klassetrinnet kan ikke være lavere end fra-klassetrinnet."
    }


def test_a_coordinators_form_names_its_fields(app, client, db, settings):
    app.dependency_overrides[get_now] = lambda: datetime(2026, 9, 1, 8, 0, tzinfo=UTC)  # the 2027 dates below stay plannable
    log_in(client, db, make_user(db, "coordinator"), settings)
    page = post_form(
        client, "/admin/holidays", {"starts_on": "2027-02-15", "ends_on": "2027-02-10"}
    )
    assert page.status_code == 422
    assert error_summary(page.text) == {"name": "Navn: Udfyld dette felt."}
    later = post_form(
        client,
        "/admin/holidays",
        {"name": "Vinterferie", "starts_on": "2027-02-15", "ends_on": "2027-02-10"},
    )
    assert error_summary(later.text) == {"ends_on": "Sidste dag: Den sidste dag må ikke ligge før den første."}


def provider_and_offer(db) -> tuple[User, Offer]:
    provider = make_user(db, "provider")
    offer = Offer(
        provider_id=provider.organisation_id,
        type=OfferType.course,
        title="Robotter",
        grade_min=7,
        grade_max=9,
        municipality="Aarhus",
    )
    db.add(offer)
    db.commit()
    return provider, offer


def test_a_second_form_on_a_page_names_its_fields_and_links_to_them_with_its_prefix(
    client, db, settings
):
    provider, offer = provider_and_offer(db)
    log_in(client, db, provider, settings)
    page = post_form(
        client,
        f"/provider/offers/{offer.id}/sessions/recurring",
        {"starts": "09:00", "ends": "12:00"},
    )
    assert page.status_code == 422
    items = error_summary(page.text)
    assert items["weekly-weekdays"] == "Ugedage: Vælg mindst én."
    assert 'id="weekly-weekdays"' in page.text


def test_the_resource_of_a_date_is_named_with_the_date(client, db, settings):
    provider, offer = provider_and_offer(db)
    starts = utcnow() + timedelta(days=30)
    first, second = (
        OfferSession(
            offer_id=offer.id,
            starts_at=starts + timedelta(hours=h),
            ends_at=starts + timedelta(hours=h + 3),
            capacity_pupils=20,
        )
        for h in (0, 1)
    )
    db.add_all([first, second])
    db.commit()
    lab = resources.create_resource(db, provider, name="Lab 2", kind=ResourceKind.room)
    resources.attach_resource(db, provider, first.id, lab.id)
    log_in(client, db, provider, settings)
    page = post_form(
        client, f"/provider/sessions/{second.id}/resources", {"resource_id": str(lab.id)}
    )
    assert page.status_code == 409
    # The table has a field for every date: the summary says whose, and links to it.
    ((link, text),) = error_summary(page.text).items()
    assert link == f"resource-{second.id}"
    assert text.startswith(f"Tilføj en ressource ({local_datetime(second.starts_at, 'medium')}): Lab 2 er allerede optaget")


def test_the_log_in_form_names_its_fields(client):
    page = post_form(client, "/login", {})
    assert error_summary(page.text) == {
        "email": "E-mailadresse: Skriv din e-mailadresse.",
        "password": "Adgangskode: Skriv din adgangskode.",
    }


def test_an_error_of_the_whole_form_or_of_no_field_on_it_stands_alone_without_a_link():
    macro = templates.env.from_string(
        '{% from "macros/forms.html" import error_summary with context %}{{ error_summary(errors, labels) }}'
    )
    html = macro.render(
        errors={
            "": "Noget gik galt.",  # app.web.forms.FORM_ERROR
            "pupils": "Udfyld dette felt.",
            "starts_at": "Vælg et tidspunkt.",  # a field this form does not show
        },
        labels={"pupils": "Antal elever"},
    )
    assert error_summary(html) == {"pupils": "Antal elever: Udfyld dette felt."}  # the only link
    assert "<li>Noget gik galt.</li>" in html and "<li>Vælg et tidspunkt.</li>" in html
    assert 'href="#"' not in html and 'href="#starts_at"' not in html


def test_an_error_about_the_whole_form_is_shown_alone_and_marks_no_field(client, db, settings):
    user = make_user(db, "teacher", organisation=make_school(db))
    for _attempt in range(settings.login_max_failures):
        post_form(client, "/login", {"email": user.email, "password": "wrong-password-1"})
    page = post_form(client, "/login", {"email": user.email, "password": "wrong-password-1"})
    assert page.status_code == 429
    box = re.search(r'<div class="error-summary".*?</div>', page.text, re.S).group(0)
    # Not filed under the e-mail field (the summary would say "E-mailadresse: For mange…").
    assert re.search(r"<li>For mange mislykkede forsøg\..*?</li>", box)
    assert error_summary(page.text) == {} and 'aria-invalid="true"' not in page.text


def test_a_class_already_booked_at_that_time_is_an_error_of_the_class_field(client, db, settings):
    (_offer, first), (_other, second) = published_session(db), published_session(db)  # at the same time
    log_in(client, db, make_user(db, "teacher", organisation=make_school(db)), settings)
    form = {"class_name": "6.a", "grade": "6", "pupils": "20", "adults": "1"}
    assert post_form(client, f"/sessions/{first.id}/book", form).status_code in (200, 303)
    page = post_form(client, f"/sessions/{second.id}/book", form)
    assert page.status_code == 422
    assert error_summary(page.text) == {
        "class_name": "Klasse: Klassen 6.a er allerede booket til en anden aktivitet på det tidspunkt."
    }
