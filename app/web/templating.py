"""Jinja2 templates with named blocks that htmx requests can render alone (jinja2-fragments)."""

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from jinja2_fragments.fastapi import Jinja2Blocks

from app import i18n
from app.geography import MUNICIPALITY_NAMES
from app.web.csrf import CSRF_FIELD, CSRF_HEADER, csrf_token, set_csrf_cookie
from app.web.labels import (
    choices,
    grade,
    grade_range,
    label,
    notice,
    resource_choices,
    weekday_choices,
    weekday_name,
)

TEMPLATE_DIR = Path(__file__).resolve().parent.parent.parent / "templates"

_env = Environment(
    loader=FileSystemLoader(TEMPLATE_DIR),
    autoescape=select_autoescape(),
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
templates = Jinja2Blocks(env=_env)
templates.env.filters["datetime"] = i18n.local_datetime
templates.env.filters["date"] = i18n.local_date
templates.env.filters["time"] = i18n.local_time
templates.env.globals["span"] = i18n.local_span
templates.env.filters["number"] = i18n.local_number
templates.env.globals.update(
    municipalities=MUNICIPALITY_NAMES,
    csrf_field=CSRF_FIELD,
    csrf_header=CSRF_HEADER,
    languages=i18n.LANGUAGES,
    label=label,
    choices=choices,
    grade=grade,
    grade_range=grade_range,
    weekday_name=weekday_name,
    weekday_choices=weekday_choices,
    resource_choices=resource_choices,
    notice_text=notice,
)


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    block: str | None = None,
) -> Response:
    """A page, or only its named block when htmx targets the element of that name (a boosted link
    or a history restore gets the whole page)."""
    context = {
        "user": getattr(request.state, "user", None),
        "language": i18n.current_language(),
        "csrf_token": csrf_token(request),
        **(context or {}),
    }
    response = templates.TemplateResponse(
        request,
        name,
        context,
        status_code=status_code,
        block_name=block if block and request.headers.get("HX-Target") == block else None,
    )
    response.headers["Vary"] = "HX-Request, HX-Target, Cookie"
    set_csrf_cookie(request, response)
    return response


def redirect(request: Request, url: str, *, reload: bool = False) -> Response:
    """Redirect after a successful form post: 303 for browsers, HX-Location for htmx (which would
    otherwise follow the redirect silently and keep the old URL). `reload`: htmx loads the whole
    page anew (HX-Redirect), as after logging in or out, when the CSRF token that htmx sends from
    the <body> a boosted swap keeps has changed."""
    if is_htmx(request):
        response = Response(status_code=200, headers={"HX-Redirect" if reload else "HX-Location": url})
    else:
        response = RedirectResponse(url, status_code=303)
    set_csrf_cookie(request, response)
    return response
