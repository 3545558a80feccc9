"""The e-mails about access requests, each written in its reader's language: the person asking
in the language of the page they asked from, an approver in their own."""

from app.access_requests.models import AccessRequest, AccessRequestKind
from app.accounts.models import Organisation, User
from app.config import Settings
from app.i18n import _, language, ngettext


def _signature() -> str:
    return "\n\n" + _("Kind regards\nThe STEM portal") + "\n"


def _days(days: int) -> str:
    return ngettext("the link works for %(num)d day", "the link works for %(num)d days", days) % {"num": days}


def verify_address(settings: Settings, asked: AccessRequest, token: str) -> tuple[str, str]:
    with language(asked.language):
        return _("Confirm your e-mail address for the STEM portal"), _(
            "Hello %(name)s,\n\nWe have received your request for access to the STEM portal of Central "
            "Denmark Region.\n\nConfirm your e-mail address here (%(validity)s), and we pass the request "
            "on for a decision:\n%(link)s\n\nIf you did not ask for access, you can ignore this e-mail."
        ) % {
            "name": asked.name,
            "validity": _days(settings.verify_email_days),
            "link": f"{settings.base_url}/request-account/verify/{token}",
        } + _signature()


def already_has_account(settings: Settings, asked: AccessRequest) -> tuple[str, str]:
    """To an address that has an account: only its owner learns that it has."""
    with language(asked.language):
        return _("You already have an account on the STEM portal"), _(
            "Hello,\n\nSomeone (hopefully you) asked for access to the STEM portal with this e-mail "
            "address, but it already has an account.\n\nLog in here: %(login)s\nForgot your password? "
            "Choose a new one here: %(reset)s\n\nIf you did not ask for this, you can ignore this e-mail."
        ) % {"login": f"{settings.base_url}/login", "reset": f"{settings.base_url}/password-reset"} + _signature()


def already_asked(asked: AccessRequest) -> tuple[str, str]:
    """To an address whose earlier request still waits for a decision."""
    with language(asked.language):
        return _("Your request for access to the STEM portal is being considered"), _(
            "Hello %(name)s,\n\nYou have already asked for access to the STEM portal, and your request "
            "is waiting for a decision. We will write to you as soon as it is decided; there is no "
            "need to ask again."
        ) % {"name": asked.name} + _signature()


def waiting_for_decision(approver: User, asked: AccessRequest, organisation: Organisation | None) -> tuple[str, str]:
    with language(approver.language):
        if asked.kind == AccessRequestKind.new_provider:
            return _("A company asks to join the STEM portal: %(company)s") % {"company": asked.company_name}, _(
                "Hello %(name)s,\n\n%(person)s (%(email)s) has registered the company %(company)s "
                "(CVR %(cvr)s, %(municipality)s) as a provider on the STEM portal. Check the company "
                "and approve or decline the registration:"
            ) % {
                "name": approver.name,
                "person": asked.name,
                "email": asked.email,
                "company": asked.company_name,
                "cvr": asked.cvr,
                "municipality": asked.municipality,
            }
        return _("%(person)s asks for an account at %(organisation)s") % {
            "person": asked.name,
            "organisation": organisation.name if organisation else "",
        }, _(
            "Hello %(name)s,\n\n%(person)s (%(email)s) asks for an account at %(organisation)s on the "
            "STEM portal. If you know them, approve the request; otherwise decline it:"
        ) % {
            "name": approver.name,
            "person": asked.name,
            "email": asked.email,
            "organisation": organisation.name if organisation else "",
        }


def approved(settings: Settings, asked: AccessRequest, token: str) -> tuple[str, str]:
    with language(asked.language):
        return _("Your access to the STEM portal is approved"), _(
            "Hello %(name)s,\n\nYour request for access to the STEM portal has been approved.\n\n"
            "Choose your password here (%(validity)s):\n%(link)s"
        ) % {
            "name": asked.name,
            "validity": _days(settings.invitation_days),
            "link": f"{settings.base_url}/invitation/{token}",
        } + _signature()


def declined(asked: AccessRequest) -> tuple[str, str]:
    with language(asked.language):
        return _("Your request for access to the STEM portal was declined"), _(
            "Hello %(name)s,\n\nYour request for access to the STEM portal was declined, for this "
            "reason:\n\n%(reason)s\n\nIf you think this is a mistake, write to the secretariat of the "
            "STEM portal."
        ) % {"name": asked.name, "reason": asked.decline_reason} + _signature()
