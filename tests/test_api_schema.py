"""What the OpenAPI schema promises of every operation, checked over the whole schema so that a new
endpoint cannot ship without it."""

import re
from datetime import timedelta
from typing import Annotated

from app.db import MAX_ID
from app.main import create_app


def test_every_id_parameter_is_bounded():
    """An id beyond the database's integer (2**31 - 1) is refused with 422, never a 500."""
    schema = create_app().openapi()
    unbounded = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if not parameter["name"].endswith("_id"):
                    continue
                types = parameter["schema"].get("anyOf", [parameter["schema"]])
                numbers = [t for t in types if t.get("type") == "integer"]
                if not numbers or any(t.get("minimum", 0) < 1 or t.get("maximum", MAX_ID + 1) > MAX_ID for t in numbers):
                    unbounded.append(f"{method.upper()} {path} {parameter['name']}")
    assert unbounded == []


def test_an_id_filter_outside_the_database_s_range_is_422(client, db, settings):
    from tests.factories import api_headers, make_user

    headers = api_headers(db, make_user(db, "admin"), settings)
    for value in ("2147483648", "99999999999999999999", "-9223372036854775807", "0"):
        answer = client.get("/api/v1/users", params={"organisation_id": value}, headers=headers)
        assert answer.status_code == 422, (value, answer.text)
        assert answer.json()["detail"][0]["loc"] == ["query", "organisation_id"]


def test_every_operation_declares_its_errors_as_json():
    schema = create_app().openapi()
    undeclared = []
    for path, operations in schema["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, operation in operations.items():
            errors = {code: answer for code, answer in operation["responses"].items() if code >= "400"}
            if not {"400", "503"} <= errors.keys() or any(
                a["content"]["application/json"]["schema"] != {"$ref": "#/components/schemas/ApiError"}
                for a in errors.values()
            ):
                undeclared.append(f"{method.upper()} {path}")
    assert undeclared == []
    def errors(method: str, path: str) -> set[str]:
        return {code for code in schema["paths"][path][method]["responses"] if code >= "400"}

    assert errors("post", "/api/v1/auth/token") == {"400", "401", "422", "429", "503"}
    assert errors("get", "/api/v1/me") == {"400", "401", "403", "503"}  # a token, no input
    assert errors("get", "/api/v1/offers") == {"400", "422", "503"}  # public, a list
    assert errors("get", "/api/v1/offers/{offer_id}") == {"400", "404", "422", "503"}
    assert errors("post", "/api/v1/bookings") == {"400", "401", "403", "404", "409", "422", "503"}
    calendar = schema["paths"]["/api/v1/bookings/{booking_id}.ics"]["get"]["responses"]["200"]
    assert list(calendar["content"]) == ["text/calendar"]


def test_a_text_field_s_pattern_is_the_form_s_rule():
    """The pattern in the schema accepts exactly what a form accepts: the text stripped of the
    whitespace around it, then within its lengths and without control characters."""
    import re

    from hypothesis import given, settings
    from hypothesis import strategies as st
    from pydantic import ValidationError, create_model
    from pydantic.fields import Field

    from app.accounts.schemas import Form
    from app.text import MULTILINE, text_pattern

    def accepts(model, text: str) -> bool:
        try:
            model(text=text)
        except ValidationError:
            return False
        return True

    cases = []
    for multiline in (False, True):
        for low, high in ((0, None), (1, 5), (3, 5)):
            markers = [MULTILINE] if multiline else []
            model = create_model("T", __base__=Form, text=(Annotated[str, *markers, Field(min_length=low, max_length=high)], ...))
            pattern = re.compile(text_pattern(multiline=multiline, min_length=low, max_length=high))
            cases.append((model, pattern))
    characters = st.sampled_from(["a", "é", " ", "\t", "\n", "\r", "\x00", "\x07", "\x1c", "\x7f", "\x85", "\xa0", "\u2028", "\u3000"])

    @settings(max_examples=300, deadline=None)
    @given(st.text(characters, max_size=9))
    def agree(text):
        for model, pattern in cases:
            assert (pattern.fullmatch(text) is not None) == accepts(model, text), (pattern.pattern, text)

    agree()


def test_the_whitespace_a_form_strips_is_the_pattern_s():
    from pydantic import ConfigDict, TypeAdapter

    from app.accounts.schemas import Form
    from app.text import WHITESPACE

    assert Form.model_config["str_strip_whitespace"]
    text = TypeAdapter(str, config=ConfigDict(str_strip_whitespace=True))
    characters = [chr(c) for c in range(0x10000) if not 0xD800 <= c <= 0xDFFF]
    stripped = {c for c in characters if text.validate_python(f"{c}a{c}") == "a"}
    assert stripped == {c for c in characters if re.fullmatch(f"[{WHITESPACE}]", c)}


def test_a_query_day_s_pattern_is_its_range():
    from app.calendar.bounds import FIRST_DAY, LAST_DAY

    schema = create_app().openapi()
    day = next(p for p in schema["paths"]["/api/v1/offers"]["get"]["parameters"] if p["name"] == "from")
    pattern = day["schema"]["anyOf"][0]["pattern"]
    assert re.match(pattern, FIRST_DAY.isoformat()) and re.match(pattern, LAST_DAY.isoformat())
    assert not re.match(pattern, (FIRST_DAY - timedelta(days=1)).isoformat())
    assert not re.match(pattern, (LAST_DAY + timedelta(days=1)).isoformat())


def test_a_405_allows_every_method_of_the_address(client):
    assert client.options("/api/v1/bookings").headers["allow"] == "GET, POST"
    assert client.request("TRACE", "/api/v1/offers/1").headers["allow"] == "GET, PATCH, PUT"
    page = client.delete("/catalogue")
    assert page.status_code == 405 and page.headers["allow"] == "GET"


def test_a_nul_in_an_api_address_is_refused_in_json(client):
    answer = client.get("/api/v1/offers", params={"q": "a\x00b"})
    assert answer.status_code == 400 and answer.json() == {"detail": "Bad request: NUL character in the address"}


def test_a_text_too_long_for_a_pattern_counts_the_whitespace_around_it_too():
    """Such a text keeps its maxLength in the schema, which counts all that is sent."""
    from pydantic import ValidationError

    from app.api_schema import LONGEST_IN_PATTERN
    from tests.test_text import FORMS

    long_texts = [
        (form, name, limit)
        for form in FORMS
        for name, field in form.model_fields.items()
        for limit in [getattr(m, "max_length", None) for m in field.metadata]
        if limit and limit > LONGEST_IN_PATTERN and "str" in str(field.annotation)
    ]
    assert long_texts  # the offer's description
    for form, name, limit in long_texts:
        try:
            form.model_validate({name: " " + "a" * limit})
        except ValidationError as error:
            assert [e["type"] for e in error.errors() if e["loc"] == (name,)] == ["string_too_long"]
        else:
            raise AssertionError(f"{form.__name__}.{name} takes more than {limit} characters as sent")
