"""TLP 2.0 labels (FIRST, August 2022) and their STIX 2.1 marking definitions."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class TLP(models.TextChoices):
    # Labels are never translated (FIRST TLP 2.0); only the explanations around them are.
    CLEAR = "clear", "TLP:CLEAR"
    GREEN = "green", "TLP:GREEN"
    AMBER = "amber", "TLP:AMBER"
    AMBER_STRICT = "amber+strict", "TLP:AMBER+STRICT"
    RED = "red", "TLP:RED"


# Most to least restrictive, for comparisons ("is this at least AMBER?").
RESTRICTIVENESS = {TLP.CLEAR: 0, TLP.GREEN: 1, TLP.AMBER: 2, TLP.AMBER_STRICT: 3, TLP.RED: 4}

EXPLANATIONS = {
    TLP.CLEAR: _("Anyone, publicly; only copyright limits apply."),
    TLP.GREEN: _("The community: every member organisation of this platform, or the sharing "
                 "groups and organisations named in the audience and their clients."),
    TLP.AMBER: _("The organisations in the audience, on a need-to-know basis, and the "
                 "organisations they coordinate on this platform (their clients)."),
    TLP.AMBER_STRICT: _("The organisations in the audience only, on a need-to-know basis."),
    TLP.RED: _("Named individual recipients only."),
}

# Display colours used by FIRST and MISP (text on black).
COLOURS = {TLP.CLEAR: "#FFFFFF", TLP.GREEN: "#33FF00", TLP.AMBER: "#FFC000",
           TLP.AMBER_STRICT: "#FFC000", TLP.RED: "#FF2B2B"}

# OASIS TLP 2.0 extension marking definitions (cti-stix-common-objects).
TLP2_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
STIX_MARKING_IDS = {
    TLP.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    TLP.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    TLP.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    TLP.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    TLP.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}


def parse_tlp(value: str) -> TLP:
    """Accept 'AMBER+STRICT', 'tlp:amber+strict', 'TLP:WHITE' (TLP 1.0 name for CLEAR)."""
    text = value.strip().lower().removeprefix("tlp:")
    if text == "white":
        return TLP.CLEAR
    try:
        return TLP(text)
    except ValueError:
        raise ValueError(f"unknown TLP label {value!r}; use one of "
                         + ", ".join(label.label for label in TLP)) from None
