"""What the access requests accept, shared by the JSON API and the pages' forms."""

from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field
from pydantic_core import PydanticCustomError

from app.accounts.schemas import DbId, Email, Form, Municipality, Name
from app.text import MULTILINE

MESSAGE_MAX_LENGTH = 1000
CVR_WEIGHTS = (2, 7, 6, 5, 4, 3, 2, 1)


def cvr_is_valid(cvr: str) -> bool:
    """The CVR register's own rule: eight digits whose weighted sum (2, 7, 6, 5, 4, 3, 2, 1) is
    divisible by 11. It catches a mistyped or swapped digit before a coordinator looks it up."""
    if len(cvr) != 8 or not cvr.isascii() or not cvr.isdigit() or cvr[0] == "0":
        return False
    return sum(int(digit) * weight for digit, weight in zip(cvr, CVR_WEIGHTS, strict=True)) % 11 == 0


def _cvr(value: str) -> str:
    value = value.replace(" ", "")
    if not (len(value) == 8 and value.isascii() and value.isdigit()):
        raise PydanticCustomError("cvr_format", "a CVR number is 8 digits")
    if not cvr_is_valid(value):
        raise PydanticCustomError("cvr_check", "not a valid CVR number (modulus 11)")
    return value


Cvr = Annotated[str, Field(min_length=8, max_length=11, examples=["10150817"]), AfterValidator(_cvr)]
Phone = Annotated[str, Field(min_length=8, max_length=30, pattern=r"^\+?[0-9 ]{8,29}$", examples=["+45 12 34 56 78"])]
Message = Annotated[str, MULTILINE, Field(max_length=MESSAGE_MAX_LENGTH)]


class AccountRequestIn(Form):
    """A teacher or a provider's employee asking for an account at their organisation: a teacher
    at a school, a provider user at a provider (the organisation's kind decides)."""

    name: Name
    email: Email
    organisation_id: DbId
    message: Message = ""


class ProviderRegistrationIn(Form):
    """A company that is not on the portal yet, and the person who will be its first user."""

    company_name: Name
    cvr: Cvr
    address: Annotated[str, Field(min_length=1, max_length=300)]
    municipality: Municipality
    name: Name
    email: Email
    phone: Phone
    message: Message = ""


class AccessRequestReceived(BaseModel):
    """The same answer whether or not the address has an account: look in the mailbox."""

    detail: str
