"""Web UI routes for intel (names are prefixed "web:" like every UI page)."""

urlpatterns: list = []
