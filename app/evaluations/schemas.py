"""What the coordinators' question forms accept (the answers' form is read by the service itself:
its fields are the questions of the day)."""

from typing import Annotated

from pydantic import Field

from app.accounts.schemas import Form
from app.catalogue.models import OfferType
from app.evaluations.models import QuestionKind

QUESTION_TEXT_MAX = 300  # evaluation_questions.text_da and text_en

QuestionText = Annotated[str, Field(min_length=1, max_length=QUESTION_TEXT_MAX)]


class QuestionWording(Form):
    """A question's wording, Danish first; rewording a question takes only this."""

    text_da: QuestionText
    text_en: QuestionText


class QuestionIn(QuestionWording):
    offer_type: OfferType
    kind: QuestionKind
