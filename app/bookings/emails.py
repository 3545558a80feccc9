"""E-mails to teachers about their bookings, in their own language."""

from sqlmodel import Session

from app.accounts.models import User
from app.bookings.models import Booking
from app.catalogue.models import Offer, OfferSession
from app.config import Settings
from app.i18n import _, language, local_datetime
from app.notifications.mail import send_mail


def tell_teacher_date_cancelled(db: Session, settings: Settings, booking: Booking) -> bool:
    teacher = db.get(User, booking.teacher_id)
    session = db.get(OfferSession, booking.session_id)
    offer = db.get(Offer, session.offer_id)
    with language(teacher.language):
        return send_mail(
            settings,
            to=teacher.email,
            subject=_("Cancelled: %(title)s") % {"title": offer.title},
            body=_(
                "Hello %(name)s,\n\nThe provider has cancelled %(title)s on %(when)s, which class %(class_name)s "
                "was booked for. The booking is cancelled.\n\nFind another activity: %(link)s\n\n"
                "Kind regards\nThe STEM portal\n"
            )
            % {
                "name": teacher.name,
                "title": offer.title,
                "when": local_datetime(session.starts_at, "medium"),
                "class_name": booking.class_name,
                "link": f"{settings.base_url}/catalogue",
            },
        )
