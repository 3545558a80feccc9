"""The council's report (app/barometer/report.py, report_pages.py): written through the pages, each
wrong field refused with a message naming it and nothing saved, the printable page and the PDF
with the figures, targets, trend and sections, and nobody but the staff let in."""

import html
import io
import json
from datetime import date

import pytest
from pypdf import PdfReader
from sqlmodel import func, select

from app.barometer import report, service
from app.barometer.models import CouncilReport, Target
from app.db import utcnow
from app.errors import Forbidden, InvalidInput
from app.i18n import translations
from tests.factories import error_summary, log_in, make_user, post_form

NOW = utcnow()  # the injected clock (TEST_TODAY moves it): the figures are faked, so the day does not matter


def da(message: str) -> str:
    return translations("da").gettext(message)


def totals(year: int) -> dict:
    n = year - 2020
    return {
        "bookings": 100 + n, "classes": 90 + n, "pupils": 700 + n, "girls": 300 + n, "girls_share": 0.43,
        "schools_reached": 40 + n, "schools_total": 160, "providers_active": 17, "mentors_active": 6,
        "mentor_hours": 12.5, "evaluations": 30, "evaluation_score": 4.25, "company_weeks": 3,
        "girls_day_places": 41, "suppressed": False,
    }


@pytest.fixture
def fake_figures(monkeypatch):
    """Known figures per year (the counting itself is tested in test_figures.py)."""
    def figures(db, *, year, now, **filters):
        return {"year": year, "as_of": now.isoformat(), "totals": totals(year), "targets": []}

    def series(db, *, years, now, **filters):
        return [{"year": y, "period": str(y), "as_of": now.isoformat(), **totals(y)} for y in years]

    monkeypatch.setattr(service, "figures", figures)
    monkeypatch.setattr(service, "series", series)


@pytest.fixture
def coordinator(db):
    return make_user(db, "coordinator")


@pytest.fixture
def staff_client(client, db, settings, coordinator):
    log_in(client, db, coordinator, settings)
    return client


def good_form(**changes) -> dict:
    return {
        "title": "STEM-barometeret, efterår 2026",
        "period_start": "2026-08-01",
        "period_end": "2027-01-31",
        "heading_1": "Sammenfatning",
        "text_1": "Flere **piger** end før.\n\n- et punkt\n- <script>x</script>",
        "heading_2": "",
        "text_2": "",
        **changes,
    }


def reports_count(db) -> int:
    return db.exec(select(func.count()).select_from(CouncilReport)).one()


def test_a_coordinator_writes_changes_and_deletes_a_report(staff_client, db, coordinator):
    assert staff_client.get("/barometer/reports/new").status_code == 200
    response = post_form(staff_client, "/barometer/reports/new", good_form())
    assert response.status_code == 303, response.text
    saved = db.exec(select(CouncilReport)).one()
    assert response.headers["location"] == f"/barometer/reports/{saved.id}?notice=saved"
    assert (saved.title, saved.period_start, saved.period_end) == (
        "STEM-barometeret, efterår 2026", date(2026, 8, 1), date(2027, 1, 31))
    assert json.loads(saved.sections) == [
        {"heading": "Sammenfatning", "text": "Flere **piger** end før.\n\n- et punkt\n- <script>x</script>"}]
    assert saved.created_by_id == coordinator.id

    page = staff_client.get(f"/barometer/reports/{saved.id}")
    assert page.status_code == 200 and "Sammenfatning" in page.text
    listing = staff_client.get("/barometer/reports")
    assert "STEM-barometeret, efterår 2026" in html.unescape(listing.text)

    changed = post_form(staff_client, f"/barometer/reports/{saved.id}",
                        good_form(title="Forår 2027", heading_2="Mål", text_2="Vi når målet."))
    assert changed.status_code == 303
    db.refresh(saved)
    assert saved.title == "Forår 2027" and len(json.loads(saved.sections)) == 2

    confirm = staff_client.get(f"/barometer/reports/{saved.id}/delete")
    assert confirm.status_code == 200 and "Forår 2027" in confirm.text
    assert reports_count(db) == 1  # asking is not deleting
    gone = post_form(staff_client, f"/barometer/reports/{saved.id}/delete")
    assert gone.status_code == 303 and gone.headers["location"] == "/barometer/reports?notice=deleted"
    assert reports_count(db) == 0


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": ""}, "title", "Fill in this field."),
        ({"title": "x" * 201}, "title", ("Use at most %(count)d characters.", {"count": 200})),
        ({"period_start": "1. august"}, "period_start", "Write a date, e.g. 2026-08-01."),
        ({"period_end": ""}, "period_end", "Write a date, e.g. 2027-01-31."),
        ({"period_end": "2026-07-31"}, "period_end", "The period must end on or after the day it starts."),
        ({"period_end": "2027-08-01"}, "period_end", "A report covers at most 12 months."),
        ({"heading_1": ""}, "heading_1", "Fill in this field."),
        ({"heading_1": "y" * 201}, "heading_1", ("Use at most %(count)d characters.", {"count": 200})),
        ({"heading_1": "two\nlines"}, "heading_1", "Write it on one line."),
        ({"text_1": "z" * 5001}, "text_1", ("Use at most %(count)d characters.", {"count": 5000})),
    ],
)
def test_a_wrong_field_is_named_in_danish_and_nothing_is_saved(staff_client, db, changes, field, message):
    response = post_form(staff_client, "/barometer/reports/new", good_form(**changes))
    assert response.status_code == 422
    errors = {k: html.unescape(v) for k, v in error_summary(response.text).items()}
    assert field in errors
    expected = da(message[0]) % message[1] if isinstance(message, tuple) else da(message)
    assert errors[field].endswith(expected)
    assert reports_count(db) == 0


def test_at_most_twelve_sections(db, coordinator):
    sections = [{"heading": f"H{i}", "text": "t"} for i in range(13)]
    with pytest.raises(InvalidInput) as refused:
        report.create_report(db, coordinator, title="T", period_start=date(2026, 1, 1),
                             period_end=date(2026, 6, 30), sections=sections, now=NOW)
    assert refused.value.field == "sections"
    twelve = report.create_report(db, coordinator, title="T", period_start=date(2026, 1, 1),
                                  period_end=date(2026, 12, 31), sections=sections[:12], now=NOW)
    assert len(report.sections_of(twelve)) == 12


def test_only_staff_keep_reports(db):
    teacher = make_user(db, "teacher")
    with pytest.raises(Forbidden):
        report.create_report(db, teacher, title="T", period_start=date(2026, 1, 1),
                             period_end=date(2026, 6, 30), sections=[], now=NOW)


def make_report(db, coordinator) -> CouncilReport:
    db.add(Target(indicator="pupils", year=2026, municipality=None, value=800, note="", set_at=NOW))
    db.commit()
    return report.create_report(
        db, coordinator, title="Rådets rapport, efterår 2026", period_start=date(2026, 8, 1),
        period_end=date(2027, 1, 31),
        sections=[{"heading": "Sammenfatning", "text": "Flere **piger** end før. <script>x</script>"}], now=NOW,
    )


def test_the_print_page_shows_the_figures_targets_trend_and_sections(staff_client, db, coordinator, fake_figures):
    saved = make_report(db, coordinator)
    page = staff_client.get(f"/barometer/reports/{saved.id}/print")
    assert page.status_code == 200
    text = page.text
    assert "Rådets rapport, efterår 2026" in html.unescape(text)
    assert 'class="site-nav"' not in text  # no menu on paper
    assert "@media print" in text
    assert ">706<" in text and ">707<" in text  # pupils in 2026 and 2027
    assert ">800<" in text  # the target for 2026
    assert "<svg" in text and 'id="trend-table"' in text
    assert ">2023<" in text  # the trend goes back four years from the period's last
    assert "<h2>Sammenfatning</h2>" in text and "<strong>piger</strong>" in text
    assert "<script>" not in text  # the sections' Markdown is rendered without raw HTML


def test_the_pdf_has_the_title_a_figure_and_a_section(staff_client, db, coordinator, fake_figures):
    saved = make_report(db, coordinator)
    response = staff_client.get(f"/barometer/reports/{saved.id}.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "Rådets rapport, efterår 2026" in text
    assert "706" in text and "800" in text
    assert "Sammenfatning" in text
    assert "Flere piger end før." in text  # the Markdown written as plain text


def test_others_than_staff_are_refused(client, db, settings, coordinator):
    saved = make_report(db, coordinator)
    assert client.get("/barometer/reports").status_code in (302, 303, 401)
    log_in(client, db, make_user(db, "teacher"), settings)
    for url in ("/barometer/reports", "/barometer/reports/new", f"/barometer/reports/{saved.id}",
                f"/barometer/reports/{saved.id}/print", f"/barometer/reports/{saved.id}.pdf",
                f"/barometer/reports/{saved.id}/delete"):
        assert client.get(url).status_code == 403, url
    assert post_form(client, "/barometer/reports/new", good_form()).status_code == 403
    assert post_form(client, f"/barometer/reports/{saved.id}/delete").status_code == 403
    assert reports_count(db) == 1


def test_an_unknown_report_is_not_found(staff_client):
    assert staff_client.get("/barometer/reports/999999").status_code == 404
    assert staff_client.get("/barometer/reports/abc/print").status_code == 404


def test_the_barometer_links_staff_to_the_reports(staff_client, fake_figures):
    assert 'href="/barometer/reports"' in staff_client.get("/barometer").text
