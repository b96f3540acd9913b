"""Server-rendered pages, one module per area. URL names live in certhub.web.urls ("web")."""
