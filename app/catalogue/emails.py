"""E-mails of the catalogue: telling teachers about new offers that match their saved searches."""

from datetime import datetime

from sqlmodel import Session

from app.catalogue import saved_searches
from app.catalogue.models import Offer
from app.config import Settings
from app.i18n import _, language
from app.notifications.mail import send_mail


def tell_saved_searches(db: Session, settings: Settings, offer: Offer, *, now: datetime) -> int:
    """E-mail each teacher whose saved search the newly published offer answers; returns how many."""
    sent = 0
    for user, saved in saved_searches.searches_matching(db, offer, now=now):
        with language(user.language):
            sent += send_mail(
                settings,
                to=user.email,
                subject=_("New activity for your search “%(name)s”") % {"name": saved.name},
                body=_(
                    "Hello %(name)s,\n\nA new activity matches your saved search “%(search)s”:\n\n"
                    "%(title)s\n%(link)s\n\nSee all matches: %(search_link)s\n\n"
                    "You can delete the search on %(saved_link)s.\n\nKind regards\nThe STEM portal\n"
                )
                % {
                    "name": user.name,
                    "search": saved.name,
                    "title": offer.title,
                    "link": f"{settings.base_url}/offers/{offer.id}",
                    "search_link": f"{settings.base_url}/catalogue?{saved.query}",
                    "saved_link": f"{settings.base_url}/catalogue/saved",
                },
            )
    return sent
