"""Saved searches: a teacher keeps a catalogue search and is e-mailed when a new offer matching it
is published."""

from collections.abc import Sequence
from datetime import datetime
from urllib.parse import parse_qsl, urlencode

from sqlmodel import Session, col, select

from app.accounts.models import Role, User
from app.catalogue.filters import filters_from_query
from app.catalogue.models import Offer, SavedSearch
from app.catalogue.service import school_origin, search_offers
from app.errors import Forbidden, InvalidInput, NotFound
from app.i18n import _
from app.text import check_one_line

MAX_SAVED_SEARCHES = 20


def save_search(db: Session, user: User, *, name: str, query: str, now: datetime) -> SavedSearch:
    if user.role != Role.teacher:
        raise Forbidden(_("Only teachers can save searches."))
    name = name.strip()[:200]
    if not name:
        raise InvalidInput(_("Give the search a name."), field="name")
    check_one_line(name, field="name")
    count = len(db.exec(select(SavedSearch.id).where(SavedSearch.user_id == user.id)).all())
    if count >= MAX_SAVED_SEARCHES:
        raise InvalidInput(
            _("You can keep at most %(count)d searches. Delete one first.")
            % {"count": MAX_SAVED_SEARCHES},
            field="name",
        )
    # Keep only the filters, in a stable order; the page number is not part of a search.
    cleaned = urlencode(sorted((k, v) for k, v in parse_qsl(query)[:20] if k != "page" and v))
    saved = SavedSearch(user_id=user.id, name=name, query=cleaned[:1000], created_at=now)
    db.add(saved)
    db.commit()
    db.refresh(saved)
    return saved


def saved_searches(db: Session, user: User) -> Sequence[SavedSearch]:
    return db.exec(
        select(SavedSearch)
        .where(SavedSearch.user_id == user.id)
        .order_by(col(SavedSearch.created_at))
    ).all()


def delete_search(db: Session, user: User, search_id: int) -> None:
    saved = db.get(SavedSearch, search_id)
    if saved is None or saved.user_id != user.id:
        raise NotFound(_("No such saved search."))
    db.delete(saved)
    db.commit()


def searches_matching(
    db: Session, offer: Offer, *, now: datetime
) -> list[tuple[User, SavedSearch]]:
    """Whose saved searches the newly published offer answers: each search is run against the
    catalogue restricted to this one offer, so a match means exactly what the teacher would see."""
    rows = db.exec(
        select(SavedSearch, User)
        .join(User, col(User.id) == col(SavedSearch.user_id))
        .where(col(User.is_active).is_(True))
    ).all()
    matches = []
    for saved, user in rows:
        filters = filters_from_query(dict(parse_qsl(saved.query)), school_origin(db, user))
        filters.offer_id = offer.id
        _hits, total = search_offers(db, filters, now=now, limit=1, sessions_per_offer=0)
        if total:
            matches.append((user, saved))
    return matches
