"""Fixtures for intel: the sample STIX bundle and MISP event, read fresh for each test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SAMPLES = Path(__file__).parent / "samples"


def sample(name: str) -> dict:
    return json.loads((SAMPLES / name).read_text(encoding="utf-8"))


@pytest.fixture
def stix_bundle() -> dict:
    return sample("stix_bundle.json")


@pytest.fixture
def misp_event() -> dict:
    return sample("misp_event.json")


def _register_with_leak_suite() -> None:
    """Put intel's shareable models in the sharing leak suite, once it exists."""
    try:
        from certhub.sharing import registry
    except ImportError:
        return
    from certhub.intel.models import Report, Sighting

    from .factories import make_report, make_sighting

    registry.register(Report, make_report)
    registry.register(Sighting, make_sighting)


_register_with_leak_suite()
