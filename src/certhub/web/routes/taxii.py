"""Web UI routes for taxii (names are prefixed "web:" like every UI page)."""

urlpatterns: list = []
