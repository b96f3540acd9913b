"""Sectors an incident can affect, and which of them are critical information infrastructure.

The list is the union of the CII sector lists of ASEAN members' laws (Thailand's Cybersecurity
Act 2019 s. 49, Singapore's Cybersecurity Act 2018, Malaysia's Cyber Security Act 2024; see
/work/shared/reference/cii.md), merged where they name the same sector, plus the sectors that
are no country's CII but appear in incidents. ``cii`` is True when at least one of those laws
lists the sector as critical; an incident that affects one is flagged (``Incident.cii``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from certhub.core.errors import InvalidInput


@dataclass(frozen=True)
class Sector:
    code: str
    label: str
    cii: bool


SECTORS: tuple[Sector, ...] = (
    Sector("government", _("government and public services"), True),
    Sector("defence", _("defence, national security and emergency services"), True),
    Sector("banking", _("banking and finance"), True),
    Sector("ict", _("information technology and telecommunications"), True),
    Sector("transport", _("transport and logistics (land, maritime, aviation)"), True),
    Sector("energy", _("energy"), True),
    Sector("water", _("water, sewerage and waste"), True),
    Sector("health", _("health care"), True),
    Sector("media", _("media"), True),
    Sector("agriculture", _("agriculture and plantation"), True),
    Sector("trade", _("trade, industry and economy"), True),
    Sector("science", _("science, technology and innovation"), True),
    Sector("education", _("education and research"), False),
    Sector("retail", _("retail and e-commerce"), False),
    Sector("manufacturing", _("manufacturing"), False),
    Sector("hospitality", _("tourism and hospitality"), False),
    Sector("individuals", _("individuals"), False),
    Sector("other", _("other"), False),
)
BY_CODE = {sector.code: sector for sector in SECTORS}


def choices() -> list[tuple[str, str]]:
    return [(sector.code, str(sector.label)) for sector in SECTORS]


def clean(codes) -> list[str]:
    """Known sector codes, distinct and in the table's order; InvalidInput names a bad one."""
    wanted = []
    for code in codes or ():
        code = str(code).strip().lower()
        if not code:
            continue
        if code not in BY_CODE:
            raise InvalidInput(_("%(sector)s is not a known sector.") % {"sector": code},
                               field="sectors")
        wanted.append(code)
    return [sector.code for sector in SECTORS if sector.code in wanted]


def any_cii(codes) -> bool:
    return any(BY_CODE[code].cii for code in codes if code in BY_CODE)
