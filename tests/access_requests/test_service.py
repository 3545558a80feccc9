"""Access requests: asking, proving the address, deciding, and what approving makes. On SQLite and
PostgreSQL; the e-mails go through the outbox to the test's real SMTP server."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlmodel import select

from app.access_requests import service as access
from app.access_requests.models import AccessRequest, AccessRequestStatus
from app.access_requests.schemas import AccountRequestIn, ProviderRegistrationIn, cvr_is_valid
from app.accounts import service as accounts
from app.accounts.models import Organisation, ProviderKind, Role, User
from app.errors import Conflict, InvalidInput, NotFound, TooManyAttempts
from app.notifications.models import Notification
from tests.factories import make_provider, make_school, make_user

NOW = datetime(2027, 3, 1, 10, tzinfo=UTC)
CVR = "10150817"  # passes the modulus-11 check


def account_request(organisation: Organisation, **fields) -> AccountRequestIn:
    return AccountRequestIn.model_validate(
        {"name": "Nora Ny", "email": "nora@skole.dk", "organisation_id": organisation.id, **fields}
    )


def company(**fields) -> ProviderRegistrationIn:
    return ProviderRegistrationIn.model_validate(
        {
            "company_name": "Lys og Lyd ApS",
            "cvr": CVR,
            "address": "Havnegade 1, 8000 Aarhus C",
            "municipality": "Aarhus",
            "name": "Carl Chef",
            "email": "carl@lysoglyd.dk",
            "phone": "+45 12 34 56 78",
            **fields,
        }
    )


def ask(db, settings, data, *, client="10.0.0.1", now=NOW) -> None:
    if isinstance(data, ProviderRegistrationIn):
        access.register_provider(db, data, client=client, now=now, settings=settings)
    else:
        access.request_account(db, data, client=client, now=now, settings=settings)


def link(mailbox, address: str, path: str) -> str:
    body = mailbox.to(address)[-1].get_content()
    found = re.findall(rf"http://testserver({path}/[\w-]+)", body)
    assert len(found) == 1, body
    return found[0]


def token_of(path: str) -> str:
    return path.rsplit("/", 1)[1]


def test_a_teacher_asks_proves_the_address_and_a_colleague_approves(db, settings, mailbox, send_outbox):
    school = make_school(db, municipality="Aarhus")
    colleague = make_user(db, "teacher", organisation=school)
    ask(db, settings, account_request(school, message="Fysik og kemi, 7.-9."))
    assert send_outbox(NOW) == 1
    verify_path = link(mailbox, "nora@skole.dk", "/request-account/verify")

    asked = access.verify(db, token_of(verify_path), now=NOW, settings=settings)
    assert asked.status == AccessRequestStatus.waiting and asked.role == Role.teacher
    with pytest.raises(access.LinkNotValid):  # once only
        access.verify(db, token_of(verify_path), now=NOW, settings=settings)
    # The colleague is told, in the inbox and by e-mail, and finds it in their queue.
    told = db.exec(select(Notification).where(Notification.user_id == colleague.id)).one()
    assert told.link == f"/access-requests/{asked.id}"
    assert [r.id for r in access.waiting(db, colleague)] == [asked.id]
    assert access.waiting_count(db, colleague) == 1

    user = access.approve(db, colleague, asked.id, now=NOW, settings=settings)
    assert (user.email, user.role, user.organisation_id, user.password_hash) == ("nora@skole.dk", Role.teacher, school.id, None)
    send_outbox(NOW)
    invitation = link(mailbox, "nora@skole.dk", "/invitation")
    accounts.set_password_with_token(db, token_of(invitation), "en lang og god sætning", now=NOW)
    assert accounts.authenticate(
        db, email="nora@skole.dk", password="en lang og god sætning", client="x", now=NOW, settings=settings
    ).id == user.id
    with pytest.raises(Conflict):
        access.approve(db, colleague, asked.id, now=NOW, settings=settings)


def test_a_company_registers_and_a_coordinator_approves(db, settings, mailbox, send_outbox):
    coordinator = make_user(db, "coordinator", municipality="Aarhus")
    elsewhere = make_user(db, "coordinator", municipality="Herning")
    ask(db, settings, company())
    send_outbox(NOW)
    asked = access.verify(db, token_of(link(mailbox, "carl@lysoglyd.dk", "/request-account/verify")), now=NOW, settings=settings)
    assert db.exec(select(Notification).where(Notification.user_id == coordinator.id)).one()
    assert access.waiting(db, elsewhere) == []
    with pytest.raises(NotFound):
        access.get_request(db, elsewhere, asked.id)
    provider_user = make_user(db, "provider", organisation=make_provider(db, municipality="Aarhus"))
    with pytest.raises(NotFound):  # only coordinators admit a new company
        access.get_request(db, provider_user, asked.id)

    user = access.approve(db, coordinator, asked.id, now=NOW, settings=settings)
    organisation = db.get(Organisation, user.organisation_id)
    assert (organisation.name, organisation.provider_kind, organisation.municipality) == (
        "Lys og Lyd ApS", ProviderKind.company, "Aarhus"
    )
    assert (user.role, user.phone) == (Role.provider, "+45 12 34 56 78")
    send_outbox(NOW)
    assert link(mailbox, "carl@lysoglyd.dk", "/invitation")
    # The same company cannot register twice.
    with pytest.raises(InvalidInput) as refused:
        ask(db, settings, company(email="other@lysoglyd.dk"))
    assert refused.value.field == "cvr"


def test_a_decline_needs_a_reason_and_tells_it(db, settings, mailbox, send_outbox):
    school = make_school(db)
    coordinator = make_user(db, "coordinator")
    ask(db, settings, account_request(school))
    send_outbox(NOW)
    asked = access.verify(db, token_of(link(mailbox, "nora@skole.dk", "/request-account/verify")), now=NOW, settings=settings)
    for reason in ("", "   ", "bad\x07bell", "x" * 1001):
        with pytest.raises(InvalidInput) as refused:
            access.decline(db, coordinator, asked.id, reason=reason, now=NOW)
        assert refused.value.field == "reason"
    access.decline(db, coordinator, asked.id, reason="Vi kender dig ikke.", now=NOW)
    send_outbox(NOW)
    assert "Vi kender dig ikke." in mailbox.to("nora@skole.dk")[-1].get_content()
    assert db.exec(select(User).where(User.email == "nora@skole.dk")).first() is None
    with pytest.raises(Conflict):
        access.approve(db, coordinator, asked.id, now=NOW, settings=settings)


def test_an_address_with_an_account_gets_the_same_answer_and_an_e_mail_only_its_owner_reads(db, settings, mailbox, send_outbox):
    school = make_school(db)
    make_user(db, "teacher", organisation=school, email="known@skole.dk")
    ask(db, settings, account_request(school, email="known@skole.dk"))  # no error: the same answer
    send_outbox(NOW)
    (mail,) = mailbox.to("known@skole.dk")
    assert "already has an account" in mail.get_content() or "allerede en konto" in mail.get_content()
    stored = db.exec(select(AccessRequest).where(AccessRequest.email == "known@skole.dk")).one()
    assert stored.status == AccessRequestStatus.void and stored.verify_token_hash is None


def test_a_second_request_replaces_an_unproved_one_and_a_waiting_one_is_not_repeated(db, settings, mailbox, send_outbox):
    school = make_school(db)
    ask(db, settings, account_request(school))
    ask(db, settings, account_request(school, name="Nora Nyere"))
    send_outbox(NOW)
    first, second = mailbox.to("nora@skole.dk")
    old = re.search(r"/request-account/verify/([\w-]+)", first.get_content()).group(1)
    with pytest.raises(access.LinkNotValid):
        access.verify(db, old, now=NOW, settings=settings)
    new = re.search(r"/request-account/verify/([\w-]+)", second.get_content()).group(1)
    assert access.verify(db, new, now=NOW, settings=settings).name == "Nora Nyere"
    ask(db, settings, account_request(school))  # waiting already: told so, nothing new to decide
    statuses = db.exec(select(AccessRequest.status).where(AccessRequest.email == "nora@skole.dk")).all()
    assert sorted(statuses) == ["void", "void", "waiting"]


def test_an_expired_link_does_not_verify(db, settings, mailbox, send_outbox):
    ask(db, settings, account_request(make_school(db)))
    send_outbox(NOW)
    token = token_of(link(mailbox, "nora@skole.dk", "/request-account/verify"))
    with pytest.raises(access.LinkNotValid):
        access.verify(db, token, now=NOW + timedelta(days=settings.verify_email_days, seconds=1), settings=settings)


def test_one_client_and_one_address_are_limited(db, settings, mailbox, send_outbox):
    school = make_school(db)
    for n in range(access.REQUESTS_PER_CLIENT):
        ask(db, settings, account_request(school, email=f"p{n}@skole.dk"), client="10.9.9.9")
    with pytest.raises(TooManyAttempts):
        ask(db, settings, account_request(school, email="one.more@skole.dk"), client="10.9.9.9")
    for n in range(access.MAILS_PER_ADDRESS + 2):
        ask(db, settings, account_request(school, email="flood@skole.dk"), client=f"10.1.1.{n}")
    send_outbox(NOW)
    assert len(mailbox.to("flood@skole.dk")) == access.MAILS_PER_ADDRESS


def test_who_decides_on_an_account_request(db, settings, mailbox, send_outbox):
    school = make_school(db, municipality="Aarhus")
    other_school = make_school(db, municipality="Aarhus")
    ask(db, settings, account_request(school))
    send_outbox(NOW)
    asked = access.verify(db, token_of(link(mailbox, "nora@skole.dk", "/request-account/verify")), now=NOW, settings=settings)
    allowed = [
        make_user(db, "teacher", organisation=school),
        make_user(db, "coordinator"),
        make_user(db, "coordinator", municipality="Aarhus"),
        make_user(db, "admin"),
    ]
    refused = [
        make_user(db, "teacher", organisation=other_school),
        make_user(db, "provider"),
        make_user(db, "coordinator", municipality="Herning"),
    ]
    for user in allowed:
        assert access.get_request(db, user, asked.id).id == asked.id
    for user in refused:
        with pytest.raises(NotFound):
            access.get_request(db, user, asked.id)
        assert access.waiting_count(db, user) == 0
    mentor = make_user(db, "mentor")
    assert access.waiting_count(db, mentor) == 0


def test_approving_an_address_that_got_an_account_meanwhile_is_refused(db, settings, mailbox, send_outbox):
    school = make_school(db)
    coordinator = make_user(db, "coordinator")
    ask(db, settings, account_request(school))
    send_outbox(NOW)
    asked = access.verify(db, token_of(link(mailbox, "nora@skole.dk", "/request-account/verify")), now=NOW, settings=settings)
    make_user(db, "teacher", organisation=school, email="nora@skole.dk")  # invited meanwhile
    with pytest.raises(Conflict):
        access.approve(db, coordinator, asked.id, now=NOW, settings=settings)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("name", "x" * 201),
        ("name", "Nora\nNy"),
        ("name", "Nora\x1bNy"),
        ("email", "ikke-en-adresse"),
        ("email", ""),
        ("organisation_id", 0),
        ("organisation_id", 2**31),
        ("organisation_id", True),
        ("message", "x" * 1001),
        ("message", "hej\x00"),
        ("message", "hej\x07"),
    ],
)
def test_bad_account_requests_are_refused_naming_the_field(db, field, value):
    with pytest.raises(ValidationError) as refused:
        AccountRequestIn.model_validate({"name": "Nora", "email": "n@skole.dk", "organisation_id": 1, field: value})
    assert {e["loc"][0] for e in refused.value.errors()} == {field}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("company_name", ""),
        ("company_name", "Lys\nLyd"),
        ("cvr", "1234567"),
        ("cvr", "123456789"),
        ("cvr", "1015081a"),
        ("cvr", "10150818"),  # a digit wrong: the modulus-11 check fails
        ("cvr", "١٠١٥٠٨١٧"),  # Arabic-Indic digits are not CVR digits
        ("address", ""),
        ("address", "x" * 301),
        ("address", "Vej\r\n1"),
        ("municipality", "København"),
        ("name", ""),
        ("email", "carl@"),
        ("phone", "12"),
        ("phone", "tlf. 12345678"),
        ("message", "\x1b[31m"),
    ],
)
def test_bad_registrations_are_refused_naming_the_field(db, field, value):
    with pytest.raises(ValidationError) as refused:
        company(**{field: value})
    assert {e["loc"][0] for e in refused.value.errors()} == {field}


def test_the_cvr_rule():
    assert cvr_is_valid("10150817") and cvr_is_valid("29189919")
    assert not cvr_is_valid("10150818") and not cvr_is_valid("00000000") and not cvr_is_valid("1015081")
    assert company(cvr="1015 0817").cvr == "10150817"  # spaces as people write it


def test_an_unknown_organisation_is_refused(db, settings):
    data = AccountRequestIn(name="Nora", email="n@skole.dk", organisation_id=2**31 - 1)
    with pytest.raises(InvalidInput) as refused:
        access.request_account(db, data, client="x", now=NOW, settings=settings)
    assert refused.value.field == "organisation_id"


def test_the_search_finds_organisations_by_part_of_the_name(db):
    make_school(db, name="Frederiksbjerg Skole")
    make_provider(db, name="Grundfos Lab")
    found, total = access.search_organisations(db, "frederiks")
    assert [o.name for o in found] == ["Frederiksbjerg Skole"] and total == 1
    assert access.search_organisations(db, "  ") == ([], 0)


def test_the_worker_forgets_client_addresses_and_requests_that_led_nowhere(db, settings, mailbox, send_outbox):
    school = make_school(db)
    coordinator = make_user(db, "coordinator")
    ask(db, settings, account_request(school, email="aldrig@skole.dk"))  # never confirmed
    ask(db, settings, account_request(school, email="afvist@skole.dk"), client="10.0.0.2")
    ask(db, settings, account_request(school, email="ja@skole.dk"), client="10.0.0.3")
    send_outbox(NOW)
    for address, decide in (("afvist@skole.dk", "decline"), ("ja@skole.dk", "approve")):
        asked = access.verify(db, token_of(link(mailbox, address, "/request-account/verify")), now=NOW, settings=settings)
        if decide == "decline":
            access.decline(db, coordinator, asked.id, reason="Ukendt.", now=NOW)
        else:
            access.approve(db, coordinator, asked.id, now=NOW, settings=settings)

    def kept():
        db.expire_all()
        return {r.email: r.client for r in db.exec(select(AccessRequest)).all()}

    assert access.forget_old_requests(db, now=NOW + timedelta(minutes=59)) == 0
    assert access.forget_old_requests(db, now=NOW + timedelta(hours=1, minutes=1)) == 3
    assert kept() == {"aldrig@skole.dk": "", "afvist@skole.dk": "", "ja@skole.dk": ""}
    later = NOW + timedelta(days=access.UNUSED_REQUEST_DAYS, minutes=1)
    assert access.forget_old_requests(db, now=later) == 2
    assert kept() == {"ja@skole.dk": ""}  # the approved one stays: who let the account in
