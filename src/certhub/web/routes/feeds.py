"""Web UI routes for feeds (names are prefixed "web:" like every UI page)."""

urlpatterns: list = []
