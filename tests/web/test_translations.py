"""The Thai catalog is complete, well-formed and compiled: every string translated (no empty
msgstr, no fuzzy entry), placeholders kept, the committed .mo equal to the .po, and every
string marked in the code present in the catalog (run makemessages, then translate)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

import certhub

PACKAGE = Path(certhub.__file__).resolve().parent
LOCALE = PACKAGE / "locale"
LANGUAGES = ["th"]
PLACEHOLDER = re.compile(r"%\(\w+\)[sdr]|%[sd]")
GETTEXT_CALLS = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "gettext_noop"}
TEMPLATE_STRING = re.compile(r"""\{%\s*(?:translate|trans)\s+(?:"([^"]*)"|'([^']*)')""")


def _po(language):
    with open(LOCALE / language / "LC_MESSAGES" / "django.po", "rb") as handle:
        return read_po(handle, locale=language)


def _mo(language):
    with open(LOCALE / language / "LC_MESSAGES" / "django.mo", "rb") as handle:
        return read_mo(handle)


def _entries(catalog):
    return [message for message in catalog if message.id]


def _forms(message) -> list[str]:
    return [message.string] if isinstance(message.string, str) else list(message.string)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_entry_is_translated_and_none_is_fuzzy(language):
    catalog = _po(language)
    assert not catalog.fuzzy, "the catalog header is marked fuzzy"
    untranslated = [m.id for m in _entries(catalog) if not all(form.strip() for form in _forms(m))]
    fuzzy = [m.id for m in _entries(catalog) if m.fuzzy]
    assert not untranslated, f"untranslated: {untranslated[:10]}"
    assert not fuzzy, f"fuzzy: {fuzzy[:10]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_are_kept(language):
    wrong = []
    for message in _entries(_po(language)):
        source = message.id if isinstance(message.id, str) else message.id[-1]
        expected = sorted(set(PLACEHOLDER.findall(source)))
        for form in _forms(message):
            if sorted(set(PLACEHOLDER.findall(form))) != expected:
                wrong.append((message.id, form))
    assert not wrong, wrong[:5]


@pytest.mark.parametrize("language", LANGUAGES)
def test_tlp_labels_are_not_translated(language):
    for message in _entries(_po(language)):
        source = message.id if isinstance(message.id, str) else message.id[0]
        for label in re.findall(r"TLP:[A-Z+]+", source):
            assert all(label in form for form in _forms(message)), (message.id, label)


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalog_matches_the_po(language):
    """The committed .mo is what `certhub compilemessages` makes of the committed .po."""
    def table(catalog):
        return {(m.context, m.id if isinstance(m.id, str) else tuple(m.id)): tuple(_forms(m))
                for m in _entries(catalog) if not m.fuzzy}

    assert table(_mo(language)) == table(_po(language)), \
        "django.mo is stale: run `certhub compilemessages` in src/certhub"


def _python_strings() -> set[str]:
    found = set()
    for path in PACKAGE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in GETTEXT_CALLS and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)):
                found.add(node.args[0].value)
    return found


def _template_strings() -> set[str]:
    found = set()
    for path in PACKAGE.rglob("templates/**/*.*"):
        for double, single in TEMPLATE_STRING.findall(path.read_text(encoding="utf-8")):
            found.add(double or single)
    return found


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_marked_string_is_in_the_catalog(language):
    """Fails when code gained strings after the last makemessages: run
    `certhub makemessages -l th --ignore=.venv` in src/certhub and translate the new entries."""
    known = set()
    for message in _entries(_po(language)):
        known.update([message.id] if isinstance(message.id, str) else message.id)
    missing = sorted((_python_strings() | _template_strings()) - known - {""})
    assert not missing, f"not in the {language} catalog: {missing[:15]}"
