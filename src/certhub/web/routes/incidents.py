"""Web UI routes for incidents (names are prefixed "web:" like every UI page)."""

urlpatterns: list = []
