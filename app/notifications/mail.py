"""Outgoing e-mail over SMTP; in development, without an SMTP host, it is written to the log."""

import logging
import smtplib
from email.message import EmailMessage
from email.utils import make_msgid

from app.config import Settings

log = logging.getLogger(__name__)


def send_mail(settings: Settings, *, to: str, subject: str, body: str) -> bool:
    """Hand a message to the SMTP server. A mail server that is down must not undo what the
    user just did, so failures are logged and reported as False for the caller to tell them."""
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="stem-portal")
    message.set_content(body)

    if settings.mail_to_log:
        log.warning("E-mail (no SMTP host configured)\n%s", message.as_string())
        return True
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=15) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException):
        log.exception(
            "Could not send e-mail to %s via %s:%s", to, settings.smtp_host, settings.smtp_port
        )
        return False
    return True
