"""The in-portal inbox (messages about bookings and proposals, newest first), and for the
secretariat (the region's coordinators and admins) the e-mails the worker could not deliver."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app.deps import (
    Now,
    PageNumber,
    PageUser,
    PathId,
    RegionalStaffPageUser,
    SessionDep,
    SettingsDep,
)
from app.errors import NotFound
from app.i18n import _
from app.notifications import mail
from app.notifications import service as notifications
from app.notifications.models import Notification
from app.notifications.service import MAX_ATTEMPTS
from app.web.templating import redirect, render

router = APIRouter()
PER_PAGE = 30


@router.get("/inbox")
def inbox(request: Request, db: SessionDep, user: PageUser, page: PageNumber = 1, notice: str | None = None) -> Response:
    items, total = notifications.inbox(db, user, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    return render(
        request,
        "notifications/inbox.html",
        {"items": items, "total": total, "page": page, "pages": max(1, -(-total // PER_PAGE)), "notice": notice},
    )


@router.get("/inbox/unread")
def unread(db: SessionDep, user: PageUser) -> Response:
    """The count next to the menu's inbox link, loaded by htmx after the page (so pages need no
    extra query); empty when nothing is unread."""
    count = notifications.unread_count(db, user)
    if not count:
        return HTMLResponse("")
    unread_word = _("unread")  # outside the f-string, where the message extractor would not see it
    return HTMLResponse(f'<span class="badge">{count}<span class="visually-hidden"> {unread_word}</span></span>')


@router.post("/inbox/read")
def read_all(request: Request, db: SessionDep, user: PageUser, now: Now) -> Response:
    notifications.mark_read(db, user, now=now)
    return redirect(request, "/inbox?notice=all_read")


@router.post("/inbox/{notification_id}/open")
def open_message(request: Request, db: SessionDep, user: PageUser, notification_id: PathId, now: Now) -> Response:
    """Mark the message read and go to what it is about."""
    message = db.get(Notification, notification_id)
    if message is None or message.user_id != user.id:
        raise NotFound(_("No such message."))
    notifications.mark_read(db, user, now=now, notification_id=notification_id)
    return redirect(request, message.link or "/inbox")


@router.get("/admin/outbox")
def outbox(request: Request, db: SessionDep, user: RegionalStaffPageUser, now: Now, notice: str | None = None) -> Response:
    """E-mails not delivered yet after an attempt, with the mail server's last answer, and a warning
    when e-mails wait for their first attempt (the worker is not running)."""
    context = {
        "messages": notifications.undelivered(db),
        "overdue": notifications.overdue(db, now=now),
        "overdue_minutes": int(notifications.OVERDUE.total_seconds() // 60),
        "max_attempts": MAX_ATTEMPTS,
        "notice": notice,
    }
    return render(request, "notifications/outbox.html", context)


@router.post("/admin/outbox/retry")
def retry_all(request: Request, db: SessionDep, user: RegionalStaffPageUser, now: Now) -> Response:
    notifications.send_again(db, now=now)
    return redirect(request, "/admin/outbox?notice=mail_retry")


@router.post("/admin/outbox/{message_id}/retry")
def retry_one(request: Request, db: SessionDep, user: RegionalStaffPageUser, message_id: PathId, now: Now) -> Response:
    if not notifications.send_again(db, now=now, message_id=message_id):
        raise NotFound(_("No such message."))
    return redirect(request, "/admin/outbox?notice=mail_retry")


@router.get("/dev/mail")
def development_mail(request: Request, db: SessionDep, user: RegionalStaffPageUser, settings: SettingsDep) -> Response:
    """Development: the e-mails as written, to be read without a mail server (the worker only logs
    one line for each when no SMTP host is set). Never in production, where they are people's mail."""
    if settings.is_production:
        raise NotFound(_("We could not find that page."))
    return render(
        request,
        "notifications/dev_mail.html",
        {"messages": notifications.latest(db), "sent_at_once": list(mail.SENT_TO_LOG), "to_log": settings.mail_to_log},
    )
