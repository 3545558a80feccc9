"""What the OpenAPI schema promises of every operation, checked over the whole schema so that a new
endpoint cannot ship without it."""

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
