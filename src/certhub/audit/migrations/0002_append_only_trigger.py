"""On PostgreSQL, refuse UPDATE and DELETE of audit entries in the database itself.

Defence in depth: ``AuditEntry.save``/``delete`` already refuse in Python, and the hash chain
makes any change that gets through detectable by ``certhub audit verify``. The trigger stops
the easy paths round the model (``queryset.update()``, a stray ``DELETE``, an SQL injection in
a role that is not the table's owner). The table's owner can still disable it; that is what the
chain is for. TRUNCATE stays allowed because test databases are flushed with it. SQLite has no
equivalent worth the complexity, so nothing is done there.
"""

from django.db import migrations

TABLE = "audit_auditentry"
TRIGGER = "audit_entry_append_only"

CREATE = [
    f"""CREATE OR REPLACE FUNCTION {TRIGGER}() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION 'audit entries are append-only: % refused', TG_OP;
        END;
        $$ LANGUAGE plpgsql""",
    f"""CREATE TRIGGER {TRIGGER} BEFORE UPDATE OR DELETE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION {TRIGGER}()""",
]

DROP = [
    f"DROP TRIGGER IF EXISTS {TRIGGER} ON {TABLE}",
    f"DROP FUNCTION IF EXISTS {TRIGGER}()",
]


def _on_postgresql(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        with schema_editor.connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)  # no parameters: '%' in the function body stays literal
    return run


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP), elidable=False),
    ]
