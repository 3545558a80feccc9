"""Telling teachers about new offers that match their saved searches: a message in their inbox
and an e-mail through the outbox, which the worker sends (publishing never waits for a mail
server, however many searches match)."""

from datetime import datetime

from sqlmodel import Session

from app.catalogue import saved_searches
from app.catalogue.models import Offer
from app.config import Settings
from app.i18n import _, language
from app.notifications.service import notify


def tell_saved_searches(db: Session, settings: Settings, offer: Offer, *, now: datetime) -> int:
    """Tell each teacher whose saved search the newly published offer answers; returns how many."""
    told = 0
    for user, saved in saved_searches.searches_matching(db, offer, now=now):
        with language(user.language):
            notify(
                db,
                user,
                kind="saved_search",
                now=now,
                link=f"/offers/{offer.id}",
                base_url=settings.base_url,
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
        told += 1
    db.commit()
    return told
