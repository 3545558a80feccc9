"""Outgoing e-mail over SMTP; in development, without an SMTP host, one line per message is written
to the log and the message is kept to be read on /dev/mail."""

import logging
import re
import smtplib
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import make_msgid

from app.config import Settings
from app.db import utcnow

log = logging.getLogger(__name__)

# Seconds each exchange with the mail server may take (connecting, each command, the message).
SMTP_TIMEOUT = 15

# The iTIP method of a calendar file (RFC 5546), which its MIME type must repeat (RFC 6047):
# Outlook ignores a CANCEL whose Content-Type says otherwise.
_METHOD = re.compile(rb"^METHOD:([A-Z-]+)\r?$", re.MULTILINE)


@dataclass(frozen=True)
class LoggedMail:
    """A message written to the log instead of being sent (no SMTP host), kept for /dev/mail."""

    to: str
    subject: str
    body: str
    at: datetime


# The latest messages this process wrote to the log instead of sending them (development only).
SENT_TO_LOG: deque[LoggedMail] = deque(maxlen=50)


class MailError(Exception):
    """The message could not be handed to the mail server."""


def deliver(
    settings: Settings, *, to: str, subject: str, body: str, calendar: bytes | None = None
) -> None:
    """Hand one message to the SMTP server, optionally with an iCalendar file (a file without a
    METHOD goes as PUBLISH); raises MailError."""
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="stem-portal")
    message.set_content(body)
    if calendar:
        method = found.group(1).decode() if (found := _METHOD.search(calendar)) else "PUBLISH"
        message.add_attachment(
            calendar.decode(),
            subtype="calendar",
            charset="utf-8",
            filename="aktivitet.ics",
            params={"method": method},
        )

    if settings.mail_to_log:
        # One line per message, so a development console stays readable; the message itself is
        # read on /dev/mail (the outbox's, and these that were sent at once, such as invitations).
        log.info("E-mail to %s: %s (no SMTP_HOST: not sent; read it on /dev/mail)", to, subject)
        SENT_TO_LOG.appendleft(LoggedMail(to=to, subject=subject, body=body, at=utcnow()))
        return
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        raise MailError(f"{settings.smtp_host}:{settings.smtp_port}: {error}") from error


def send_mail(settings: Settings, *, to: str, subject: str, body: str) -> bool:
    """Send at once, for messages the user waits for (password reset, invitation). A mail server
    that is down must not undo what the user just did, so failures are logged and reported as
    False for the caller to tell them."""
    try:
        deliver(settings, to=to, subject=subject, body=body)
    except MailError:
        log.exception("Could not send e-mail to %s", to)
        return False
    return True
