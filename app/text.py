"""Text people type: one line (a name, a title, a phone number) or several (a description, a
reason), and never a control character. A line break in a title ends up in an e-mail's Subject,
which the mail library then refuses for good; others break calendar files and CSV cells."""

import re

from app.errors import InvalidInput
from app.i18n import _

# C0 controls, DEL, the C1 controls and Unicode's line and paragraph separators (which e-mail
# headers refuse like CR and LF); text with lines may keep its line breaks (\n, \r) and TABs.
CONTROL = r"\x00-\x1f\x7f-\x9f\u2028\u2029"
CONTROL_BUT_LINES = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029"
_CONTROL = re.compile(f"[{CONTROL}]")
_CONTROL_BUT_LINES = re.compile(f"[{CONTROL_BUT_LINES}]")

# Unicode's White_Space: what a form strips off the ends of its text (pydantic's
# str_strip_whitespace) before any rule sees it.
WHITESPACE = r"\u0009-\u000d\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"


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


def text_pattern(*, multiline: bool, min_length: int = 0, max_length: int | None = None) -> str:
    """A form's rule for a text field as a regular expression for the OpenAPI schema (alike in
    Python and JSON Schema's ECMA dialect): once the whitespace around it is stripped, from
    `min_length` to `max_length` characters and no control character."""
    controls = CONTROL_BUT_LINES if multiline else CONTROL
    allowed, visible, space = f"[^{controls}]", f"[^{controls}{WHITESPACE}]", f"[{WHITESPACE}]*"
    # The stripped text: one visible character, or two with what may come between them.
    low, high = max(min_length - 2, 0), "" if max_length is None else max_length - 2
    inner = f"{allowed}*" if (low, high) == (0, "") else f"{allowed}{{{low},{high}}}"
    text = f"{visible}{inner}{visible}" if min_length >= 2 else f"{visible}(?:{inner}{visible})?"
    return f"^{space}{text}{space}$" if min_length else f"^{space}(?:{text})?{space}$"
