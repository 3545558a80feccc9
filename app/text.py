"""Text people type: one line (a name, a title, a phone number) or several (a description, a
reason), and never a control character. A line break in a title ends up in an e-mail's Subject,
which the mail library then refuses for good; others break calendar files and CSV cells."""

import re

from app.errors import InvalidInput
from app.i18n import _

# C0 controls, DEL and the C1 controls; text with lines may keep its line breaks and TABs.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class MultiLine:
    """Marks a text field as having lines (Annotated[str, MULTILINE, ...]): every other text field
    of a form is one line."""


MULTILINE = MultiLine()


def has_control_characters(text: str, *, multiline: bool = False) -> bool:
    return (_CONTROL_BUT_LINES if multiline else _CONTROL).search(text) is not None


def check_one_line(text: str, *, field: str) -> None:
    """For rules that take text outside a form's schema (a resource's or a saved search's name)."""
    if has_control_characters(text):
        raise InvalidInput(
            _("Write it on one line, without line breaks or other special characters."), field=field
        )
