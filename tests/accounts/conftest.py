"""Fixtures of the accounts tests."""

from __future__ import annotations

import pytest

from certhub.accounts import tokens


@pytest.fixture
def issue_token():
    def issue(user, scope="read", **kwargs):
        return tokens.issue(user, name=kwargs.pop("name", "test"), scope=scope, **kwargs)
    return issue


