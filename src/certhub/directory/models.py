"""Member organisations, their points of contact and their constituencies (RFC 2350 style)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from certhub.core.errors import InvalidInput
from certhub.core.models import TimeStampedModel
from certhub.sharing.models import Shareable

from . import normalise, validators


class OrganisationKind(models.TextChoices):
    REGIONAL_HUB = "regional_hub", _("regional hub")
    NATIONAL_CERT = "national_cert", _("national CERT")
    GOVERNMENT = "government", _("government agency")
    PARTNER_CERT = "partner_cert", _("partner CERT")
    PRIVATE_SECTOR = "private_sector", _("private sector")
    ACADEMIA = "academia", _("academia")
    INTERNATIONAL = "international", _("international organisation")


class Membership(models.TextChoices):
    MEMBER = "member", _("member")
    DIALOGUE_PARTNER = "dialogue_partner", _("dialogue partner")
    OBSERVER = "observer", _("observer")


class Organisation(TimeStampedModel):
    name = models.CharField(_("name"), max_length=250)
    short_name = models.CharField(_("short name"), max_length=60, unique=True,
                                  help_text=_("As the team calls itself, e.g. ThaiCERT."))
    slug = models.SlugField(_("URL name"), max_length=60, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=OrganisationKind.choices)
    country = models.CharField(_("country"), max_length=2, blank=True,
                               validators=[validators.validate_country_code],
                               help_text=_("ISO 3166-1 alpha-2 code; empty for "
                                           "international bodies."))
    membership = models.CharField(_("membership"), max_length=20, choices=Membership.choices,
                                  default=Membership.MEMBER)
    coordinator = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="clients",
        verbose_name=_("coordinating CERT"),
        help_text=_("The CERT that serves this organisation (TLP:AMBER reaches it as a client)."),
    )
    website = models.URLField(_("website"), blank=True)
    established = models.CharField(_("established"), max_length=10, blank=True,
                                   validators=[validators.validate_partial_date],
                                   help_text=_("YYYY, YYYY-MM or YYYY-MM-DD."))
    parent_body = models.CharField(_("parent body"), max_length=400, blank=True)
    require_mfa = models.BooleanField(_("two-factor required for all users"), default=False)
    # RFC 2350 ("Expectations for Computer Security Incident Response") document fields.
    constituency_description = models.TextField(_("constituency"), blank=True)
    services = models.TextField(_("services"), blank=True)
    hours = models.CharField(_("operating hours"), max_length=200, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True,
                                 validators=[validators.validate_time_zone])
    languages = models.CharField(_("languages"), max_length=100, blank=True,
                                 help_text=_("BCP 47 codes, comma-separated, e.g. th,en."))
    reporting_instructions = models.TextField(_("how to report an incident"), blank=True)
    address = models.TextField(_("postal address"), blank=True)
    rfc2350_url = models.URLField(_("RFC 2350 document"), blank=True)
    pgp_key = models.TextField(_("team PGP public key"), blank=True,
                               validators=[validators.validate_pgp_public_key])
    pgp_fingerprint = models.CharField(_("team PGP fingerprint"), max_length=64, blank=True,
                                       editable=False)

    class Meta:
        ordering = ["short_name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.short_name

    def save(self, *args, **kwargs):
        self.pgp_fingerprint = validators.pgp_fingerprint(self.pgp_key) if self.pgp_key else ""
        super().save(*args, **kwargs)


class ContactRole(models.TextChoices):
    EMERGENCY = "emergency_24x7", _("24/7 emergency")
    INCIDENT_REPORTS = "incident_reports", _("incident reports")
    POLICY = "policy", _("policy")
    TECHNICAL = "technical", _("technical")
    CYBERCRIME = "cybercrime_24x7", _("cybercrime 24/7 network")


class Contact(Shareable):
    """A point of contact of its owner organisation, shared under TLP like any record.

    Public RFC 2350 contacts are TLP:CLEAR; a 24/7 number kept for members is TLP:GREEN or AMBER.
    """

    role = models.CharField(_("role"), max_length=20, choices=ContactRole.choices)
    name = models.CharField(_("name"), max_length=200,
                            help_text=_("A person or a function, e.g. 'Duty officer'."))
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True,
                             validators=[validators.validate_e164])
    pgp_key = models.TextField(_("PGP public key"), blank=True,
                               validators=[validators.validate_pgp_public_key])
    pgp_fingerprint = models.CharField(_("PGP fingerprint"), max_length=64, blank=True,
                                       editable=False)
    availability = models.CharField(_("availability"), max_length=200, blank=True)
    is_example = models.BooleanField(
        _("example placeholder"), default=False,
        help_text=_("Marks demo contacts that are not real people or addresses."),
    )

    class Meta:
        ordering = ["owner__short_name", "role", "name"]
        verbose_name = _("point of contact")
        verbose_name_plural = _("points of contact")

    def __str__(self) -> str:
        return f"{self.name} ({self.get_role_display()})"

    def save(self, *args, **kwargs):
        self.pgp_fingerprint = validators.pgp_fingerprint(self.pgp_key) if self.pgp_key else ""
        super().save(*args, **kwargs)


class ConstituencyKind(models.TextChoices):
    PREFIX = "prefix", _("IP range")
    ASN = "asn", _("autonomous system")
    DOMAIN = "domain", _("domain suffix")
    COUNTRY = "country", _("country")


class ConstituencyEntry(TimeStampedModel):
    """One thing an organisation is responsible for: a prefix, an ASN, a domain suffix, a country.

    ``value`` is stored normalised (see normalise.constituency_value), so that lookups and
    uniqueness compare like with like.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE,
                                     related_name="constituency")
    kind = models.CharField(_("kind"), max_length=10, choices=ConstituencyKind.choices)
    value = models.CharField(_("value"), max_length=255)
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        ordering = ["organisation__short_name", "kind", "value"]
        constraints = [models.UniqueConstraint(fields=["organisation", "kind", "value"],
                                               name="constituency_unique_per_org")]
        indexes = [models.Index(fields=["kind", "value"])]
        verbose_name = _("constituency entry")
        verbose_name_plural = _("constituency entries")

    def __str__(self) -> str:
        return f"{self.organisation}: {self.get_kind_display()} {self.value}"

    def clean(self):
        try:
            self.value = normalise.constituency_value(self.kind, self.value)
        except InvalidInput as exc:
            raise ValidationError({"value": exc.message}) from None
