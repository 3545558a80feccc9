"""JSON API of the inbox."""

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from app.accounts.schemas import Page
from app.deps import ApiUser, Limit, Now, Offset, PathId, SessionDep
from app.errors import NotFound
from app.i18n import _
from app.notifications import service as notifications
from app.notifications.models import Notification

router = APIRouter(tags=["notifications"])


class NotificationPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    subject: str
    body: str
    link: str
    booking_id: int | None
    created_at: datetime
    read_at: datetime | None


@router.get("/notifications")
def list_notifications(db: SessionDep, user: ApiUser, limit: Limit = 50, offset: Offset = 0) -> Page[NotificationPublic]:
    """The user's inbox, newest first."""
    items, total = notifications.inbox(db, user, limit=limit, offset=offset)
    return Page(items=[NotificationPublic.model_validate(n) for n in items], total=total)


@router.post("/notifications/{notification_id}/read")
def read(db: SessionDep, user: ApiUser, notification_id: PathId, now: Now) -> NotificationPublic:
    message = db.get(Notification, notification_id)
    if message is None or message.user_id != user.id:
        raise NotFound(_("No such message."))
    notifications.mark_read(db, user, now=now, notification_id=notification_id)
    db.refresh(message)
    return NotificationPublic.model_validate(message)
