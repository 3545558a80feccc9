"""/docs shows the API in Swagger UI under the portal's own Content-Security-Policy: its files come
from npm through static/vendor and it is started by a file of ours, so nothing is refused."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_the_api_docs_show_every_operation_under_the_csp(browser, live_server):
    context = browser.new_context(base_url=live_server)  # the CSP enforced, unlike `page`'s
    page = context.new_page()
    errors: list[str] = []  # a refused script, style or request is logged as an error
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto("/docs")
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/bookings/{booking_id}.ics")).to_be_visible()
    operations = page.request.get("/openapi.json").json()["paths"]
    assert page.locator(".opblock").count() == sum(len(methods) for methods in operations.values())
    assert errors == []
    context.close()
