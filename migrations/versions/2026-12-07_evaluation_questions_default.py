"""the default evaluation questions: one short shared set per kind of activity (Danish and English)

Revision ID: 3e7d1b0c9a52
Revises: 15aa30ae8f82
Create Date: 2026-12-07 15:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = '3e7d1b0c9a52'
down_revision: str | None = '15aa30ae8f82'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Marks the rows this migration wrote, so its downgrade removes them and nothing a coordinator added.
SEEDED_AT = datetime(2026, 12, 7, tzinfo=UTC)

# The first question names the kind of activity; the rest are the same for every kind, so every
# initiative is measured the same way. Short: a teacher answers on a phone in two minutes.
OVERALL = {
    "company_week": ("Hvor god var virksomhedsugen samlet set?", "Overall, how good was the company week?"),
    "innovation_game": ("Hvor godt var innovationsspillet samlet set?", "Overall, how good was the innovation game?"),
    "girls_day": ("Hvor god var Girls Day in Science samlet set?", "Overall, how good was Girls Day in Science?"),
    "expert": ("Hvor godt var ekspertens besøg samlet set?", "Overall, how good was the expert's visit?"),
    "mentoring": ("Hvor godt var besøget af ung til ung-vejlederne samlet set?", "Overall, how good was the youth mentors' visit?"),
    "course": ("Hvor godt var forløbet samlet set?", "Overall, how good was the course?"),
}
SHARED = [
    ("scale", "Hvor meget lærte eleverne om STEM-uddannelser og -job?",
     "How much did the pupils learn about STEM educations and jobs?"),
    ("scale", "Hvor godt var aktiviteten forberedt og organiseret?",
     "How well prepared and organised was the activity?"),
    ("scale", "Hvor gerne vil du anbefale aktiviteten til andre?",
     "How likely are you to recommend the activity to others?"),
    ("yes_no", "Vil du gerne være med til en lignende aktivitet igen?",
     "Would you like to take part in a similar activity again?"),
    # Counts only, never names; shown to the class's teacher only.
    ("class_poll", "Hvor mange af eleverne er nu mere nysgerrige på en STEM-uddannelse?",
     "How many of the pupils are now more curious about a STEM education?"),
    ("text", "Kommentarer og forslag", "Comments and suggestions"),
]

questions = sa.table(
    'evaluation_questions',
    sa.column('offer_type', sa.String),
    sa.column('kind', sa.String),
    sa.column('text_da', sa.String),
    sa.column('text_en', sa.String),
    sa.column('position', sa.Integer),
    sa.column('created_at', sa.DateTime(timezone=True)),
)


def _seeded_at() -> datetime:
    # SQLite keeps UTC without its zone (app.db.UTCDateTime), PostgreSQL the point in time.
    return SEEDED_AT if op.get_bind().dialect.name == "postgresql" else SEEDED_AT.replace(tzinfo=None)


def upgrade() -> None:
    rows = []
    for offer_type, (overall_da, overall_en) in OVERALL.items():
        for position, (kind, text_da, text_en) in enumerate([("scale", overall_da, overall_en), *SHARED], start=1):
            rows.append({"offer_type": offer_type, "kind": kind, "text_da": text_da, "text_en": text_en,
                         "position": position * 10, "created_at": _seeded_at()})
    op.bulk_insert(questions, rows)


def downgrade() -> None:
    op.execute(
        questions.delete().where(
            questions.c.created_at == _seeded_at(), questions.c.offer_type.in_(list(OVERALL))
        )
    )
