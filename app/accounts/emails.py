"""The e-mails of the accounts domain, written in the recipient's language."""

from app.accounts.models import User
from app.config import Settings
from app.i18n import _, language, ngettext
from app.notifications.mail import send_mail


def send_invitation(settings: Settings, user: User, token: str, *, invited_by: User) -> bool:
    link = f"{settings.base_url}/invitation/{token}"
    with language(user.language):
        return send_mail(
            settings,
            to=user.email,
            subject=_("You are invited to the STEM portal"),
            body=_(
                "Hello %(name)s,\n\n%(inviter)s has created an account for you on the STEM portal "
                "of Central Denmark Region.\n\nChoose your password here (%(validity)s):\n"
                "%(link)s\n\nKind regards\nThe STEM portal\n"
            )
            % {
                "name": user.name,
                "inviter": invited_by.name,
                "validity": ngettext(
                    "the link works for %(num)d day",
                    "the link works for %(num)d days",
                    settings.invitation_days,
                )
                % {"num": settings.invitation_days},
                "link": link,
            },
        )


def password_reset(settings: Settings, user: User, token: str) -> tuple[str, str]:
    """The reset e-mail's subject and body, in the user's language (the worker sends it)."""
    link = f"{settings.base_url}/password-reset/{token}"
    with language(user.language):
        return _("Reset your password for the STEM portal"), _(
            "Hello %(name)s,\n\nSomeone (hopefully you) asked to reset your password on the STEM "
            "portal.\n\nChoose a new password here (%(validity)s):\n"
            "%(link)s\n\nIf you did not ask for this, you can ignore this e-mail.\n\n"
            "Kind regards\nThe STEM portal\n"
        ) % {
            "name": user.name,
            "validity": ngettext(
                "the link works for %(num)d hour",
                "the link works for %(num)d hours",
                settings.password_reset_hours,
            )
            % {"num": settings.password_reset_hours},
            "link": link,
        }


def email_changed(user: User, old: str, changed_by: User) -> tuple[str, str]:
    """Told to the old address and kept in the user's inbox: who moved the account to which address."""
    with language(user.language):
        return _("The e-mail address of your STEM portal account was changed"), _(
            "Hello %(name)s,\n\n%(by)s has changed the e-mail address of your account on the STEM "
            "portal from %(old)s to %(new)s. Messages and log-ins now use the new address.\n\n"
            "If you did not expect this, contact the secretariat of the STEM portal at once.\n\n"
            "Kind regards\nThe STEM portal\n"
        ) % {"name": user.name, "by": changed_by.name, "old": old, "new": user.email}
