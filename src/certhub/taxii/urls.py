"""TAXII 2.1 server routes, mounted at /taxii2/."""

app_name = "taxii"

urlpatterns: list = []
