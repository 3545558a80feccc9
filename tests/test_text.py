"""Text people type: every one-line field of every form refuses line breaks and control characters
(a title with CR/LF once made every e-mail about its offer fail for good), and the fields with
lines keep them."""

import pytest
from pydantic import BaseModel, ValidationError
from sqlmodel import func, select

from app.accounts.schemas import Form
from app.catalogue.models import Offer
from app.text import MULTILINE
from tests.factories import api_headers, error_summary, log_in, make_user, post_form


def all_forms(base: type[BaseModel] = Form) -> list[type[BaseModel]]:
    found = []
    for form in base.__subclasses__():
        found += [form, *all_forms(form)]
    return found


def text_fields(form: type[BaseModel]) -> dict[str, bool]:
    """The form's text fields, each with whether it has lines."""
    return {
        name: MULTILINE in field.metadata
        for name, field in form.model_fields.items()
        if "str" in str(field.annotation) and "Literal" not in str(field.annotation)
    }


def errors_of(form: type[BaseModel], name: str, value: str) -> list[str]:
    try:
        form.model_validate({name: value})
    except ValidationError as error:
        return [e["type"] for e in error.errors() if e["loc"] == (name,)]
    return []


FORMS = all_forms()


def test_the_forms_are_all_found():
    assert sum(len(text_fields(form)) for form in FORMS) >= 30


@pytest.mark.parametrize("form", FORMS, ids=lambda f: f.__name__)
def test_every_one_line_field_refuses_line_breaks_and_control_characters(form):
    for name, has_lines in text_fields(form).items():
        if has_lines:
            assert errors_of(form, name, "first line\nsecond\tline") == [], (form.__name__, name)
            assert errors_of(form, name, "bell\x07") == ["control_character"], (form.__name__, name)
        else:
            for bad in ("a\r\nBcc: x@evil.example", "line\nbreak.....", "tab\there.....", "nul\x00.....", "c1\x85c1......", "ls\u2028line..."):
                errors = errors_of(form, name, bad)
                # Refused for the character, or, where the field refuses the rest anyway (not a
                # municipality, not an e-mail address), refused all the same.
                clean = "".join(" " if c < " " or "\x7f" <= c <= "\x9f" else c for c in bad)
                assert "not_one_line" in errors or (errors and errors_of(form, name, clean)), (form.__name__, name, bad)


def test_an_offer_title_with_a_line_break_is_refused_naming_the_field(client, db, settings):
    provider = make_user(db, "provider")
    headers = api_headers(db, provider, settings)
    before = db.exec(select(func.count()).select_from(Offer)).one()
    body = {"type": "course", "title": "CRLF\r\nBcc: attacker@evil.example", "grade_min": 0, "grade_max": 10}
    answer = client.post("/api/v1/offers", headers=headers, json=body)
    assert answer.status_code == 422
    assert [e["loc"] for e in answer.json()["detail"]] == [["body", "title"]]
    patched = client.post("/api/v1/offers", headers=headers, json={**body, "title": "Fint"}).json()
    answer = client.patch(f"/api/v1/offers/{patched['id']}", headers=headers, json={"title": "a\nb"})
    assert answer.status_code == 422 and "title" in answer.text
    answer = client.patch(f"/api/v1/offers/{patched['id']}", headers=headers, json={"description": "- a\n- b"})
    assert answer.status_code == 200 and answer.json()["description"] == "- a\n- b"
    assert db.exec(select(func.count()).select_from(Offer)).one() == before + 1

    log_in(client, db, provider, settings)
    page = post_form(client, "/provider/offers/new", {"type": "course", "title": "Første\nAnden", "grade_min": "1", "grade_max": "3"})
    assert page.status_code == 422
    assert error_summary(page.text)["title"] == "Titel: Skriv det på én linje, uden linjeskift eller andre specialtegn."


def test_names_outside_the_forms_are_one_line_too(client, db, settings):
    provider, teacher = make_user(db, "provider"), make_user(db, "teacher")
    log_in(client, db, provider, settings)
    resource = post_form(client, "/provider/resources", {"name": "Lab\r\nX-Injected: yes", "kind": "room"})
    assert resource.status_code == 422 and "Skriv det på én linje" in resource.text
    pool = post_form(client, "/provider/pools", {"name": "Pulje\nto", "capacity_pupils": "100"})
    assert pool.status_code == 422 and "Skriv det på én linje" in pool.text
    log_in(client, db, teacher, settings)
    search = post_form(client, "/catalogue/saved", {"name": "Min\nsøgning", "query": "type=course"})
    assert search.status_code == 422 and "Skriv det på én linje" in search.text
