"""Long lists of people and organisations in the order a Danish reader looks for them, and the
organisation picker that replaces a select of every organisation (issue 16, item 5)."""

from sqlmodel import select

from app.accounts import service as accounts
from app.accounts.models import User
from app.collation import danish_key
from tests.factories import log_in, make_school, make_user, post_form


def test_danish_order_puts_aeoeaa_last_numbers_by_value_and_ignores_case_and_accents():
    names = ["Østbyen", "lærer 10", "Ålborg", "Aarhus Skole", "Lærer 2", "Ærø", "zebra", "Émile", "ebbe", "Lærer 1"]
    assert sorted(names, key=danish_key) == [
        "Aarhus Skole", "ebbe", "Émile", "Lærer 1", "Lærer 2", "lærer 10", "zebra", "Ærø", "Østbyen", "Ålborg",
    ]


def test_users_are_listed_by_organisation_then_name_in_danish_order(client, db, settings):
    schools = {name: make_school(db, name=name, municipality="Skive") for name in ("Åskolen", "Bøgeskolen", "aaby Skole")}
    people = [("Åskolen", "Anna"), ("Bøgeskolen", "Lærer 10"), ("Bøgeskolen", "lærer 2"), ("aaby Skole", "Ørn"), ("aaby Skole", "Bo")]
    for school, name in people:
        user = make_user(db, "teacher", organisation=schools[school])
        user.name = name
        db.add(user)
    db.commit()
    coordinator = make_user(db, "coordinator", municipality="Skive")
    items, total = accounts.list_users(db, coordinator, role="teacher", limit=3, offset=1)
    assert total == 5
    assert [u.name for u in items] == ["Ørn", "lærer 2", "Lærer 10"]  # page two of a three-a-page list

    log_in(client, db, coordinator, settings)
    page = client.get("/admin/users?role=teacher").text
    shown = [name for _school, name in people if f">{name}</a>" in page]
    assert sorted(shown, key=page.index) == ["Bo", "Ørn", "lærer 2", "Lærer 10", "Anna"]


def test_organisations_are_listed_in_danish_order(db):
    for name in ("Ørsted Skole", "Aarhus Friskole", "Zahle Skole", "Ærø Skole", "Åby Skole", "Bakkeskolen"):
        make_school(db, name=name, municipality="Lemvig")
    coordinator = make_user(db, "coordinator", municipality="Lemvig")
    items, _total = accounts.list_organisations(db, coordinator)
    assert [o.name for o in items] == ["Aarhus Friskole", "Bakkeskolen", "Zahle Skole", "Ærø Skole", "Ørsted Skole", "Åby Skole"]


def test_the_invitation_picks_the_organisation_by_name_and_refuses_an_unknown_one(client, db, settings, mailbox):
    same_name = [make_school(db, name="Vestre Skole", municipality=m) for m in ("Holstebro", "Struer")]
    unique = make_school(db, name="Østre Skole", municipality="Holstebro")
    log_in(client, db, make_user(db, "coordinator"), settings)
    form = client.get("/admin/users/new").text
    assert '<input id="organisation_id" name="organisation" type="text" list="organisation_id-choices"' in form
    assert '<option value="Vestre Skole (Struer)"></option>' in form and "<select id=\"organisation_id\"" not in form

    base = {"email": "ny@skole.dk", "name": "Ny Lærer", "role": "teacher"}
    unknown = post_form(client, "/admin/users/new", {**base, "organisation": "Nordpolen Skole"})
    assert unknown.status_code == 422
    assert 'id="organisation_id-error"' in unknown.text and "Ingen organisation hedder »Nordpolen Skole«" in unknown.text
    assert 'value="Nordpolen Skole"' in unknown.text  # what was typed stays, to be corrected
    twice = post_form(client, "/admin/users/new", {**base, "organisation": "vestre skole"})
    assert twice.status_code == 422 and "Flere organisationer hedder »vestre skole«" in twice.text
    assert not db.exec(select(User).where(User.email == "ny@skole.dk")).first()  # nothing saved

    chosen = post_form(client, "/admin/users/new", {**base, "organisation": "Vestre Skole (Struer)"})
    assert chosen.status_code == 303
    assert db.exec(select(User).where(User.email == "ny@skole.dk")).one().organisation_id == same_name[1].id
    typed = post_form(client, "/admin/users/new", {**base, "email": "to@skole.dk", "organisation": "  østre   SKOLE "})
    assert typed.status_code == 303
    invited = db.exec(select(User).where(User.email == "to@skole.dk")).one()
    assert invited.organisation_id == unique.id
    assert 'value="Østre Skole (Holstebro)"' in client.get(f"/admin/users/{invited.id}").text  # shown by name again
