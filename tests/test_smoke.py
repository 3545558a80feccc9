from tests.factories import log_in, make_user


def test_front_page_is_danish(client):
    response = client.get("/")
    assert response.status_code == 200
    assert '<html lang="da">' in response.text


def test_profile_shows_the_logged_in_user(client, db, settings):
    user = make_user(db, "teacher")
    log_in(client, db, user, settings)
    response = client.get("/profile")
    assert response.status_code == 200
    assert user.email in response.text
