"""What the OpenAPI schema tells beyond what FastAPI derives from the routes, so that a client (and
schemathesis, tests/test_schemathesis.py) can rely on it: the errors each operation may answer, in
the JSON that app.main's error handlers write, and the rules of the forms that pydantic's own
schema leaves out (a form's text is stripped and one line, a municipality is one of the 19, a NUL
anywhere in the address is refused at the door).

Rules across fields (girls no more than pupils, a session's end after its start) or on stored data
(an expert's hours, a date in the planning period) cannot be said in JSON Schema: they are refused
with 422 naming the field, as the 422's description says."""

from collections.abc import Iterator
from typing import Annotated, Any, get_args, get_origin

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from starlette.routing import BaseRoute

from app.accounts.schemas import Form, Municipality
from app.deps import api_user, maybe_api_user, oauth2_scheme
from app.geography import MUNICIPALITY_NAMES
from app.text import MULTILINE, text_pattern

TOKEN_PATH = "/api/v1/auth/token"


class FieldError(BaseModel):
    # Where: "body", "query", "path" or "header", then the field (and an index in a list).
    loc: list[str | int]
    msg: str
    type: str


class ApiError(BaseModel):
    """Every error of the JSON API: a message, or a list naming each field (invalid input, and a
    refusal about one field)."""

    detail: str | list[FieldError]


ERRORS = {
    400: "A NUL character in the address, or a body that is not JSON.",
    401: "No valid bearer token: get one from POST /api/v1/auth/token.",
    403: "The caller's role or organisation may not do this.",
    404: "No such object, or one the caller may not see.",
    409: "A conflict with what is stored: full, overlapping, taken, or not in a state that allows it.",
    422: "Invalid input, each field named in `loc`: against the schema, or against a rule across "
    "fields or on stored data that the schema cannot express (girls no more than pupils, a start "
    "before the end, a date within the planning period or the expert's hours).",
    429: "Too many failed log-ins from this client for the address: wait, then try again.",
    503: "The portal is busy or lost its database connection for a moment; nothing was saved. "
    "Try again after `Retry-After` seconds.",
}
TOKEN_ERRORS = {401: "Wrong e-mail address or password, or the account is not active."}
NO_NUL = "^[^\\x00]*$"


def _calls(dependant: Dependant) -> Iterator[Any]:
    yield dependant.call
    for dependency in dependant.dependencies:
        yield from _calls(dependency)


def _error_codes(path: str, route: APIRoute) -> list[int]:
    """The errors the route may answer, by the API's conventions (shared/API.md)."""
    if path == TOKEN_PATH:  # the log-in itself
        return [400, 401, 422, 429, 503]
    calls = set(_calls(route.dependant))
    # A bearer token is required through api_user, or taken as such (POST /bookings reads it
    # itself); maybe_api_user takes one only to show more.
    needs_token = api_user in calls or (oauth2_scheme in calls and maybe_api_user not in calls)
    model = _body_model(route)
    names_object = bool(route.param_convertors) or any(
        name.endswith("_id") for name in (model.model_fields if model else ())
    )
    codes = {400, 503}
    if needs_token:
        codes |= {401, 403}
    if names_object:
        codes.add(404)
    if route.methods - {"GET", "HEAD"}:
        codes.add(409)
    if route.param_convertors or model or _query_params(route.dependant) or route.dependant.header_params:
        codes.add(422)
    return sorted(codes)


def _query_params(dependant: Dependant) -> list:
    return [*dependant.query_params, *(p for d in dependant.dependencies for p in _query_params(d))]


def _metadata(field: FieldInfo) -> list[Any]:
    """The field's markers and constraints, also those inside an optional type (`X | None`)."""
    found = list(field.metadata)
    for arg in get_args(field.annotation):
        if get_origin(arg) is Annotated:
            found += arg.__metadata__
    return found


def _strings(schema: dict) -> Iterator[dict]:
    """The plain string schemas in a field's schema (itself, one of anyOf, a list's items)."""
    if schema.get("type") == "string" and not {"enum", "format", "const"} & schema.keys():
        yield schema
    for part in [*schema.get("anyOf", []), *filter(None, [schema.get("items")])]:
        yield from _strings(part)


_MUNICIPALITY_CHECK = get_args(Municipality)[1]


# JSON Schema validators compile a pattern into an automaton, and one that counts to more than a few
# thousand is too large (jsonschema-rs refuses it): a longer text keeps its maxLength, which counts
# the whitespace around it too.
LONGEST_IN_PATTERN = 1000


def _describe_text(string: dict, *, multiline: bool) -> None:
    """A form's text field: its lengths count once the whitespace around it is stripped, so they
    move from minLength and maxLength (which count all that is sent) into the pattern."""
    low = string.pop("minLength", 0)
    high = string.pop("maxLength", None)
    if high is not None and high > LONGEST_IN_PATTERN:
        string["maxLength"], high = high, None
    string["pattern"] = text_pattern(multiline=multiline, min_length=low, max_length=high)
    kind = "Text, line breaks allowed" if multiline else "One line"
    if low or high:
        length = f"{low} to {high}" if low and high else f"at least {low}" if low else f"at most {high}"
        kind += f", {length} characters"
    string["description"] = f"{kind}, once the whitespace around it is stripped."


def _describe_field(schema: dict, field: FieldInfo, *, form: bool) -> None:
    metadata = _metadata(field)
    for string in _strings(schema):
        if _MUNICIPALITY_CHECK in metadata:
            string["enum"] = list(MUNICIPALITY_NAMES)
        elif "pattern" in string:
            continue  # a rule of its own (a language code)
        elif form:
            _describe_text(string, multiline=MULTILINE in metadata)
        else:
            string["pattern"] = NO_NUL  # app.web.middleware.RejectNulMiddleware


def _body_model(route: APIRoute) -> type[BaseModel] | None:
    annotation = route.body_field.field_info.annotation if route.body_field else None
    for candidate in (annotation, *get_args(annotation)):  # a body that may be left out: X | None
        if isinstance(candidate, type) and issubclass(candidate, Form):
            return candidate
    return None


def _ref(schema: dict) -> str | None:
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    return next(filter(None, map(_ref, schema.get("anyOf", []))), None)


def describe(schema: dict, routes: list[BaseRoute]) -> dict:
    components = schema["components"]["schemas"]
    error_schema = ApiError.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(error_schema.pop("$defs"), ApiError=error_schema)
    for context in iter_route_contexts(routes):
        route, path = context.original_route, context.path_format
        if not isinstance(route, APIRoute) or not path.startswith("/api/"):
            continue
        for method in context.methods:
            operation = schema["paths"][path][method.lower()]
            descriptions = {**ERRORS, **TOKEN_ERRORS} if path == TOKEN_PATH else ERRORS
            for code in _error_codes(path, route):
                operation["responses"][str(code)] = {
                    "description": descriptions[code],
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}},
                }
            operation["responses"] = dict(sorted(operation["responses"].items()))
            parameters = {p["name"]: p for p in operation.get("parameters", [])}
            for param in _query_params(route.dependant):
                _describe_field(parameters[param.alias]["schema"], param.field_info, form=False)
            model = _body_model(route)
            if model is not None:
                body = operation["requestBody"]["content"]["application/json"]["schema"]
                properties = components[_ref(body)]["properties"]
                for name, field in model.model_fields.items():
                    _describe_field(properties[field.alias or name], field, form=True)
    # FastAPI's own models of a 422 answer, replaced by ApiError everywhere.
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    return schema


def install(app: FastAPI) -> None:
    """Serve the described schema at /openapi.json (and in /docs)."""
    generate = app.openapi

    def openapi() -> dict:
        schema = generate()  # FastAPI's, kept until the routes change
        if "ApiError" not in schema["components"]["schemas"]:  # made anew
            describe(schema, app.routes)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
