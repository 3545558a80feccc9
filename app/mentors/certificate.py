"""A mentor's certificate of voluntary work: a PDF (fpdf2) listing each visit and the hours, in
the mentor's language, with a printed address where an employer or a university can check it.

The address carries a code, not the mentor's id: the mentor's id and the minute the certificate
was issued, enciphered with a keyed permutation (a four-round Feistel network over HMAC-SHA256,
keyed from SECRET_KEY), followed by an 80-bit HMAC tag over them. So nobody can make a code for
another mentor or learn an id from one, and no table is needed to look a code up: the check
deciphers it, recomputes the tag and compares in constant time. The check shows the hours as of
the minute the certificate was issued, so it agrees with the paper even after later visits.
Changing SECRET_KEY makes every printed code invalid."""

import base64
import binascii
import hashlib
import hmac
import struct
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace
from sqlmodel import Session

from app.accounts.models import Organisation, Role, User
from app.i18n import _, language, local_date, local_number
from app.mentors import hours
from app.mentors.models import MentorProfile

# The code: 8 enciphered bytes (id, minute) and a 10-byte tag, base64url without padding.
CODE_LENGTH = 24
_TAG_BYTES = 10
_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)

# A Unicode TTF font for names in any script; the first found is embedded. Without one (a bare
# container), fpdf2's built-in Helvetica is used, which covers Latin-1 (æ, ø, å and the rest of
# Western Europe); other letters are written without their accents (see _latin1).
FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),  # Debian, Ubuntu (fonts-dejavu-core)
    Path("/usr/share/fonts/dejavu"),  # Fedora
    Path("/usr/share/fonts/TTF"),  # Arch
    Path("/usr/local/share/fonts/dejavu"),
)
_FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}


# --- the verification code ------------------------------------------------------------------------


def _key(secret_key: str, purpose: bytes) -> bytes:
    return hmac.new(secret_key.encode(), b"mentor-certificate:" + purpose, hashlib.sha256).digest()


def _round(key: bytes, number: int, half: int) -> int:
    digest = hmac.new(key, bytes([number]) + half.to_bytes(4, "big"), hashlib.sha256).digest()
    return int.from_bytes(digest[:4], "big")


def _encipher(key: bytes, block: bytes) -> bytes:
    left, right = struct.unpack("!II", block)
    for number in range(4):
        left, right = right, left ^ _round(key, number, right)
    return struct.pack("!II", left, right)


def _decipher(key: bytes, block: bytes) -> bytes:
    left, right = struct.unpack("!II", block)
    for number in reversed(range(4)):
        left, right = right ^ _round(key, number, left), left
    return struct.pack("!II", left, right)


def _tag(secret_key: str, plain: bytes) -> bytes:
    return hmac.new(_key(secret_key, b"tag"), plain, hashlib.sha256).digest()[:_TAG_BYTES]


def certificate_code(secret_key: str, mentor_id: int, issued_at: datetime) -> str:
    """The code printed on a certificate issued to the mentor at that time (to the minute)."""
    minute = int((issued_at - _EPOCH).total_seconds() // 60)
    plain = struct.pack("!II", mentor_id, minute)
    sealed = _encipher(_key(secret_key, b"id"), plain) + _tag(secret_key, plain)
    return base64.urlsafe_b64encode(sealed).decode().rstrip("=")


def read_certificate_code(secret_key: str, code: str) -> tuple[int, datetime] | None:
    """The mentor's id and the minute of issue a code names, or None for a code we did not make."""
    if len(code) != CODE_LENGTH:
        return None
    try:
        sealed = base64.urlsafe_b64decode(code.encode("ascii") + b"=" * (-len(code) % 4))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None
    if len(sealed) != 8 + _TAG_BYTES:
        return None
    plain = _decipher(_key(secret_key, b"id"), sealed[:8])
    if not hmac.compare_digest(_tag(secret_key, plain), sealed[8:]):
        return None
    mentor_id, minute = struct.unpack("!II", plain)
    return mentor_id, _EPOCH + timedelta(minutes=minute)


def verification_url(base_url: str, code: str) -> str:
    return f"{base_url.rstrip('/')}/mentors/certificates/{code}"


# --- what a certificate says ----------------------------------------------------------------------


@dataclass(frozen=True)
class Certificate:
    name: str
    institution: str | None
    issued_at: datetime
    visits: list[hours.Visit]
    years: list[hours.YearHours]

    @property
    def total(self) -> hours.YearHours:
        return hours.total(self.years)


def _institution(db: Session, mentor: User) -> str | None:
    profile = db.get(MentorProfile, mentor.id)
    organisation_id = profile.institution_id if profile else mentor.organisation_id
    organisation = db.get(Organisation, organisation_id) if organisation_id else None
    return organisation.name if organisation else None


def certificate(db: Session, mentor: User, *, issued_at: datetime) -> Certificate:
    """The mentor's completed visits and hours as of `issued_at`."""
    return Certificate(
        name=mentor.name,
        institution=_institution(db, mentor),
        issued_at=issued_at,
        visits=hours.visits(db, mentor.id, until=issued_at),
        years=hours.hours_by_school_year(db, mentor.id, until=issued_at),
    )


def checked_certificate(db: Session, secret_key: str, code: str) -> Certificate | None:
    """What the public check shows for a code: the certificate as issued (the mentor's name,
    institution and hours), or None for a code we did not make or a mentor no longer here."""
    found = read_certificate_code(secret_key, code)
    if found is None:
        return None
    mentor_id, issued_at = found
    mentor = db.get(User, mentor_id)
    if mentor is None or mentor.role != Role.mentor:
        return None
    return certificate(db, mentor, issued_at=issued_at)


def hours_text(minutes: int) -> str:
    """Hours as the language writes them, to two decimals at most: "2,5", "3,33"."""
    return local_number(minutes / 60, 2)


# --- the PDF ----------------------------------------------------------------------------------


def _font_files(dirs: tuple[Path, ...]) -> dict[str, Path] | None:
    for folder in dirs:
        files = {style: folder / name for style, name in _FONT_FILES.items()}
        if all(path.is_file() for path in files.values()):
            return files
    return None


# Letters and signs outside Latin-1 that do not decompose into a letter and an accent.
_PLAIN = str.maketrans(
    {"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "ı": "i", "Œ": "OE", "œ": "oe",
     "–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "„": '"', "…": "..."}
)


def _latin1(text: str) -> str:
    """Text the built-in fonts can write (Latin-1): æ, ø, å and é stay; other letters lose their
    accents (ő becomes o, Ł becomes L), what is left becomes "?"; dashes and quotes plain ones."""
    text = text.translate(_PLAIN)
    kept = []
    for character in text:
        if ord(character) < 256:
            kept.append(character)
            continue
        plain = "".join(c for c in unicodedata.normalize("NFKD", character) if not unicodedata.combining(c))
        kept.append(plain if plain and all(ord(c) < 256 for c in plain) else "?")
    return "".join(kept)


def certificate_pdf(
    db: Session, mentor: User, *, now: datetime, base_url: str, secret_key: str, font_dirs: tuple[Path, ...] | None = None
) -> bytes:
    """The mentor's certificate as of `now`, in the mentor's own language."""
    # To the minute, as the code keeps it, so the check lists exactly what the paper does.
    issued_at = now.replace(second=0, microsecond=0)
    found = certificate(db, mentor, issued_at=issued_at)
    url = verification_url(base_url, certificate_code(secret_key, mentor.id, issued_at))
    with language(mentor.language):
        return _render(found, url, mentor.language, _font_files(FONT_DIRS if font_dirs is None else font_dirs))


def _render(cert: Certificate, url: str, lang: str, fonts: dict[str, Path] | None) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(True, margin=20)
    if fonts:
        for style, path in fonts.items():
            pdf.add_font("DejaVu", style, str(path))
        family, clean = "DejaVu", _same
    else:
        family, clean = "Helvetica", _latin1
    title = _("Certificate of voluntary work as a youth-to-youth mentor")
    pdf.set_title(clean(title))
    pdf.set_author(clean(_("STEM portal")))
    pdf.set_lang(lang)
    pdf.set_creation_date(cert.issued_at)
    pdf.add_page()

    def heading(text: str, size: int) -> None:
        pdf.set_font(family, "B", size)
        pdf.multi_cell(0, size * 0.55, clean(text), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)

    def paragraph(text: str) -> None:
        pdf.set_font(family, "", 10.5)
        pdf.multi_cell(0, 5.5, clean(text), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)

    heading(title, 17)
    heading(cert.name, 13)
    if cert.institution:
        paragraph(cert.institution)
    paragraph(
        _(
            "%(name)s has volunteered as a youth-to-youth mentor in the STEM portal of Central Denmark "
            "Region: a young person studying science, technology, engineering or maths who visits "
            "classes with their teacher to show pupils what a STEM education is like."
        )
        % {"name": cert.name}
    )

    heading(_("Visits"), 12)
    if cert.visits:
        _table(
            pdf,
            family,
            clean,
            (_("Date"), _("Activity"), _("School"), _("Hours")),
            [
                (local_date(v.starts_at, "medium"), f"{v.title} ({v.provider})", v.school or "–", hours_text(v.minutes or 0))
                for v in cert.visits
            ],
            widths=(26, 76, 48, 20),
        )
    else:
        paragraph(_("No visits yet."))

    heading(_("Hours per school year"), 12)
    rows = [(y.label, str(y.visits), hours_text(y.minutes)) for y in cert.years]
    total = cert.total
    rows.append((_("In all"), str(total.visits), hours_text(total.minutes)))
    _table(pdf, family, clean, (_("School year"), _("Visits"), _("Hours")), rows, widths=(70, 50, 50), bold_last=True)

    paragraph(
        _("The hours are the length of each visit (at most 8 hours a day) and the travel time the provider confirmed.")
    )
    paragraph(_("Issued on %(date)s.") % {"date": local_date(cert.issued_at, "long")})
    paragraph(_("Anyone can check this certificate at:"))
    pdf.set_font(family, "", 10)
    pdf.multi_cell(0, 5.5, url, new_x="LMARGIN", new_y="NEXT", link=url)
    return bytes(pdf.output())


def _same(text: str) -> str:
    return text


def _table(
    pdf: FPDF,
    family: str,
    clean: Callable[[str], str],
    headings: tuple[str, ...],
    rows: list[tuple[str, ...]],
    *,
    widths: tuple[int, ...],
    bold_last: bool = False,
) -> None:
    pdf.set_font(family, "", 9.5)
    with pdf.table(col_widths=widths, first_row_as_headings=True, line_height=5.5) as table:
        table.row([clean(h) for h in headings])
        for number, cells in enumerate(rows):
            last = bold_last and number == len(rows) - 1
            style = FontFace(emphasis="BOLD") if last else None
            table.row([clean(c) for c in cells], style=style)
    pdf.ln(4)
