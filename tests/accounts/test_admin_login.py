"""Django's admin never offers its own (unaudited, single-factor) login."""

def test_anonymous_admin_login_goes_to_the_certhub_login(client, world):
    response = client.get("/admin/login/?next=/admin/directory/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2Fdirectory%2F"


def test_signed_in_non_admin_gets_404_not_a_redirect_loop(client, world):
    client.force_login(world.thai_analyst)
    response = client.get("/admin/", follow=True)
    assert response.status_code == 404
    assert len(response.redirect_chain) <= 2
