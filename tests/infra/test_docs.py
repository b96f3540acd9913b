"""The configuration table in README.md and docs/configuration.md matches the code."""

from pathlib import Path

from certhub.cli.management.commands.envdoc import configuration_markdown, configuration_table

ROOT = Path(__file__).resolve().parents[2]


def test_configuration_doc_is_current():
    assert (ROOT / "docs" / "configuration.md").read_text() == configuration_markdown(), (
        "run: certhub envdoc > docs/configuration.md")


def test_readme_table_is_current():
    readme = (ROOT / "README.md").read_text()
    table = readme.split("<!-- configuration:start -->\n")[1].split("<!-- configuration:end -->")[0]
    assert table == configuration_table(), "copy `certhub envdoc --table-only` into README.md"


def test_every_setting_read_from_the_environment_is_documented():
    settings_source = (ROOT / "src" / "certhub" / "config" / "settings.py").read_text()
    for reader in ("os.environ[", "os.environ.get", "os.getenv"):
        assert reader not in settings_source, "read variables through config.env only"
    assert "DATABASE_URL" in configuration_table()
