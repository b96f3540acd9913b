"""URL patterns of the web UI, one module per domain, included by web/urls.py."""
