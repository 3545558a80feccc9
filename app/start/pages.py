"""The start page at `/`: the public home page, or for a logged-in user what waits for their role
(log-in lands here)."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.accounts.models import Role
from app.barometer.pages import figure_text, indicator_label
from app.catalogue.pictures import pictures_of
from app.deps import MaybeUser, Now, SessionDep, SettingsDep
from app.start import service as start
from app.web.templating import render

router = APIRouter()


@router.get("/")
def start_page(request: Request, db: SessionDep, user: MaybeUser, now: Now, settings: SettingsDep) -> Response:
    if user is None:
        public = start.public_start(db, now=now)
        pictures = pictures_of(db, [hit.offer for hit in public.girls_day + public.company_weeks])
        context = {"start": public, "pictures": pictures, "figure_text": figure_text, "indicator_label": indicator_label}
        return render(request, "home.html", context)
    if user.role == Role.teacher:
        return render(request, "start/teacher.html", {"start": start.teacher_start(db, user, now=now)})
    if user.role == Role.provider:
        return render(request, "start/provider.html", {"start": start.provider_start(db, user, now=now)})
    if user.role == Role.mentor:
        return render(request, "start/mentor.html", {"start": start.mentor_start(db, user, now=now)})
    context = {"start": start.staff_start(db, user, now=now, settings=settings), "dev_mail": not settings.is_production}
    return render(request, "start/staff.html", context)
