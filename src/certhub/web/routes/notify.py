"""Web UI routes for notify (names are prefixed "web:" like every UI page)."""

urlpatterns: list = []
