"""The hub's API root and its three standing collections (ids fixed, so clients can keep
them in their configuration)."""

import uuid

from django.db import migrations

COLLECTIONS = [
    ("2f2c5b4e-8d51-4c55-9a0e-6b1b5a3b7a01", "visible", "Everything I may see",
     "Every STIX object shared with you on certhub, under the platform's TLP rules.", ""),
    ("2f2c5b4e-8d51-4c55-9a0e-6b1b5a3b7a02", "own", "My organisation's own",
     "STIX objects your organisation shared. What you add is stored as TLP:AMBER for your "
     "organisation.", "amber"),
    ("2f2c5b4e-8d51-4c55-9a0e-6b1b5a3b7a03", "findings", "Feed findings for my organisation",
     "Findings of certhub's feeds routed to your organisation, as STIX indicators.", ""),
]


def seed(apps, schema_editor):
    ApiRoot = apps.get_model("taxii", "ApiRoot")
    Collection = apps.get_model("taxii", "Collection")
    root, _ = ApiRoot.objects.get_or_create(
        slug="hub", defaults={"title": "certhub hub", "default": True,
                              "description": "The hub's TAXII 2.1 API root."})
    for pk, kind, title, description, tlp in COLLECTIONS:
        Collection.objects.get_or_create(
            id=uuid.UUID(pk), defaults={"api_root": root, "kind": kind, "title": title,
                                        "alias": kind, "description": description,
                                        "write_tlp": tlp})


class Migration(migrations.Migration):

    dependencies = [("taxii", "0001_api_roots_collections_status")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
