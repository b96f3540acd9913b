"""The fixed STIX objects an export carries: the TLP 2.0 extension definition and marking
definitions (OASIS cti-stix-common-objects), and an identity per owner organisation."""

from __future__ import annotations

import uuid

from certhub.sharing.tlp import STIX_MARKING_IDS, TLP, TLP2_EXTENSION_ID

# The OASIS TC identity that created the TLP 2.0 extension definition.
TLP2_CREATOR_ID = "identity--b3bca3c2-1f3d-4b54-b44f-dac42c3a8f01"
TLP2_CREATED = "2022-10-01T00:00:00.000Z"

# TLP 1.0 markings predefined by STIX 2.1; an import maps them to TLP 2.0 labels.
TLP1_MARKING_IDS = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": TLP.CLEAR,
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": TLP.GREEN,
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": TLP.AMBER,
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": TLP.RED,
}
TLP_BY_MARKING_ID = {**TLP1_MARKING_IDS, **{mid: tlp for tlp, mid in STIX_MARKING_IDS.items()}}

# Names certhub's identities from its organisations; stable across exports.
_IDENTITY_NAMESPACE = uuid.UUID("0b7d3c52-1c6e-4f55-9a57-5d7f4b0f2a61")


def tlp2_extension_definition() -> dict:
    return {
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": TLP2_EXTENSION_ID,
        "created_by_ref": TLP2_CREATOR_ID,
        "created": TLP2_CREATED,
        "modified": TLP2_CREATED,
        "name": "TLP 2.0",
        "description": "This extension adds support for the Traffic Light Protocol 2.0 "
                       "marking definitions.",
        "schema": "https://github.com/oasis-open/cti-stix-common-objects/tree/main/"
                  "extension-definition-specifications/tlp-2.0",
        "version": "1.0.0",
        "extension_types": ["property-extension"],
    }


def tlp2_marking_definition(tlp: str) -> dict:
    label = TLP(tlp)
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": STIX_MARKING_IDS[label],
        "created": TLP2_CREATED,
        "name": label.label,
        "extensions": {TLP2_EXTENSION_ID: {"extension_type": "property-extension",
                                           "tlp_2_0": label.value}},
    }


def organisation_identity_id(organisation) -> str:
    return f"identity--{uuid.uuid5(_IDENTITY_NAMESPACE, f'organisation:{organisation.slug}')}"


def organisation_identity(organisation, created: str) -> dict:
    identity = {
        "type": "identity",
        "spec_version": "2.1",
        "id": organisation_identity_id(organisation),
        "created": created,
        "modified": created,
        "name": organisation.name,
        "identity_class": "organization",
    }
    if organisation.country:
        identity["description"] = f"{organisation.short_name} ({organisation.country})"
    return identity
