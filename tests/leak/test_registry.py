"""Every shareable model is registered with the leak suite; registration checks its input."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist

from certhub.directory.models import Contact, Organisation
from certhub.sharing import registry
from certhub.sharing.models import Shareable

from . import registrations  # noqa: F401


def test_every_shareable_model_is_registered():
    shareable = {m for m in apps.get_models() if issubclass(m, Shareable)}
    registered = {r.model for r in registry.registered()}
    missing = sorted(m._meta.label for m in shareable - registered)
    assert not missing, ("register these with certhub.sharing.registry so the leak suite "
                         f"checks them (docs/adding-a-model.md): {', '.join(missing)}")


def test_registration_refuses_what_the_suite_cannot_use():
    with pytest.raises(TypeError):
        registry.register(Organisation, lambda owner, tlp, creator: None)
    with pytest.raises(FieldDoesNotExist):
        registry.register(Contact, lambda owner, tlp, creator: None, marker_field="nmae")
    with pytest.raises(TypeError):
        registry.register(Contact, lambda owner, tlp, creator: None, marker_field="is_example")
    assert next(r for r in registry.registered() if r.model is Contact).marker_field == "name"
