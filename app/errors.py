"""The one family of domain errors. Services raise them with a message for people; the web and API
layers turn them into a page with the message next to its field, or a JSON `detail`."""

from app.i18n import _


class DomainError(Exception):
    status_code = 409

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DomainError):
    status_code = 422


class TooLong(InvalidInput):
    """A text longer than its column holds, in the words the forms use for a field's maximum
    length (app.web.forms), so a rule's refusal reads like the form's."""

    def __init__(self, limit: int, *, field: str):
        super().__init__(_("Use at most %(count)d characters.") % {"count": limit}, field=field)


class NotFound(DomainError):
    status_code = 404


class Forbidden(DomainError):
    status_code = 403


class Conflict(DomainError):
    status_code = 409


class TooManyAttempts(DomainError):
    status_code = 429
