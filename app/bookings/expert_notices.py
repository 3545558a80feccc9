"""What teachers and providers are told about proposals for an expert's visit: an inbox message and
an e-mail, written in the caller's transaction and in each recipient's own language. (Once a
proposal is accepted it is a booking, and app.bookings.notices tells about it.)"""

from datetime import datetime

from sqlmodel import Session, select

from app.accounts.models import Organisation, Role, User
from app.bookings.models import ExpertProposal
from app.catalogue.models import Offer
from app.config import get_settings
from app.i18n import _, language, local_date, local_time
from app.notifications.service import notify


def visit_time(starts_at: datetime, ends_at: datetime) -> str:
    """A visit's day and hours in words, e.g. "tirsdag den 15. september 2026, 09:00–11:00"."""
    return f"{local_date(starts_at, 'full')}, {local_time(starts_at)}–{local_time(ends_at)}"


def _facts(db: Session, proposal: ExpertProposal) -> dict:
    offer = db.get(Offer, proposal.offer_id)
    school = db.get(Organisation, proposal.school_id)
    provider = db.get(Organisation, offer.provider_id)
    return {
        "title": offer.title,
        "provider": provider.name,
        "school": school.name,
        "municipality": school.municipality,
        "when": visit_time(proposal.starts_at, proposal.ends_at),
        "day": local_date(proposal.starts_at, "medium"),
        "class_name": proposal.class_name,
        "pupils": proposal.pupils,
        "message": proposal.message,
        "reason": proposal.reason,
    }


def _letter(user: User, first: str, extra: str = "") -> str:
    return (
        _("Hello %(name)s,") % {"name": user.name}
        + "\n\n"
        + first
        + (f"\n\n{extra}" if extra else "")
        + "\n\n"
        + _("Kind regards\nThe STEM portal")
        + "\n"
    )


def tell_provider_staff(db: Session, proposal: ExpertProposal, kind: str, *, now: datetime) -> None:
    """Tell the offer's provider staff: a new proposal, a withdrawn one, or their other time declined."""
    offer = db.get(Offer, proposal.offer_id)
    staff = db.exec(
        select(User).where(User.organisation_id == offer.provider_id, User.role == Role.provider, User.is_active)
    ).all()
    for user in staff:
        with language(user.language):
            facts = _facts(db, proposal)
            extra = ""
            if kind == "proposed":
                subject = _("Proposed visit: %(title)s, %(day)s") % facts
                first = _(
                    "%(school)s (%(municipality)s) proposes a visit for %(title)s on %(when)s, for class "
                    "%(class_name)s (%(pupils)d pupils). Accept it, decline it with a reason or propose another time."
                ) % facts
                if proposal.message:
                    extra = _("The teacher writes: %(message)s") % facts
            elif kind == "withdrawn":
                subject = _("Proposal withdrawn: %(title)s, %(day)s") % facts
                first = _("%(school)s has withdrawn its proposal of a visit for %(title)s on %(when)s (class %(class_name)s).") % facts
            elif kind == "counter_declined":
                subject = _("Your other time was declined: %(title)s") % facts
                first = _(
                    "%(school)s cannot take the visit for %(title)s on %(when)s that you proposed for class %(class_name)s. "
                    "The proposal is closed."
                ) % facts
            else:
                raise ValueError(kind)
            notify(
                db,
                user,
                kind=f"expert_{kind}",
                subject=subject,
                body=_letter(user, first, extra),
                now=now,
                link=f"/provider/proposals/{proposal.id}",
                base_url=get_settings().base_url,
            )


def tell_proposer(db: Session, proposal: ExpertProposal, kind: str, *, now: datetime) -> None:
    """Tell the teacher who proposed: the provider declined, or proposes another time."""
    teacher = db.get(User, proposal.teacher_id)
    with language(teacher.language):
        facts = _facts(db, proposal)
        extra = ""
        if kind == "declined":
            subject = _("Declined: %(title)s") % facts
            first = _(
                "%(provider)s cannot visit class %(class_name)s for %(title)s on %(when)s. Reason: %(reason)s"
            ) % facts
        elif kind == "counter_proposed":
            subject = _("Another time proposed: %(title)s") % facts
            first = _(
                "%(provider)s cannot come at the time you proposed for class %(class_name)s, but proposes %(when)s "
                "for %(title)s instead. Accept or decline the new time in the portal."
            ) % facts
            if proposal.reason:
                extra = _("The provider writes: %(reason)s") % facts
        else:
            raise ValueError(kind)
        notify(
            db,
            teacher,
            kind=f"expert_{kind}",
            subject=subject,
            body=_letter(teacher, first, extra),
            now=now,
            link="/proposals",
            base_url=get_settings().base_url,
        )
