"""MISP taxonomies and galaxies, offline: recognising, validating and suggesting tags."""

from __future__ import annotations

import pytest

from certhub.core.errors import InvalidInput
from certhub.intel import tags


def test_taxonomy_tags_are_recognised_in_their_canonical_spelling():
    amber = tags.resolve("tlp:amber")
    assert (amber.kind, amber.known, amber.namespace, amber.predicate) == ("taxonomy", True,
                                                                           "tlp", "amber")
    assert "need-to-know" in amber.description
    pap = tags.resolve("pap:green")
    assert pap.known
    assert pap.tag == "PAP:GREEN"
    phishing = tags.resolve('rsit:fraud="phishing"')
    assert phishing.known
    assert phishing.value == "phishing"
    assert phishing.name == "Phishing"


def test_a_value_missing_from_a_known_taxonomy_is_refused_with_the_allowed_ones():
    wrong = tags.resolve('rsit:malicious-code="ransomware"')
    assert not wrong.known
    assert "infected-system" in wrong.error
    assert tags.resolve("rsit:no-such-predicate").error


def test_galaxy_clusters_resolve_with_description_and_synonyms():
    apt32 = tags.resolve('misp-galaxy:threat-actor="APT32"')
    assert apt32.kind == "galaxy"
    assert apt32.known
    assert apt32.group == "Threat Actor"
    assert "OceanLotus" in apt32.synonyms
    assert apt32.description
    technique = tags.resolve('misp-galaxy:mitre-attack-pattern="Phishing - T1566"')
    assert technique.known
    synonym = tags.resolve('misp-galaxy:threat-actor="OceanLotus"')
    assert not synonym.known
    assert 'misp-galaxy:threat-actor="APT32"' in synonym.error
    assert tags.resolve('misp-galaxy:no-such-galaxy="x"').error


def test_free_tags_are_kept_as_written():
    free = tags.resolve("banking sector")
    assert (free.kind, free.known, free.error) == ("free", False, "")
    assert tags.resolve("campaign:summer").error == ""  # not a taxonomy namespace


def test_clean_canonicalises_dedupes_and_names_the_bad_tag():
    assert tags.clean(["pap:green", "PAP:GREEN", " ", "phishing",
                       'misp-galaxy:threat-actor="apt32"']) == [
        "PAP:GREEN", "phishing", 'misp-galaxy:threat-actor="APT32"']
    with pytest.raises(InvalidInput) as bad:
        tags.clean(["phishing", 'rsit:malicious-code="ransomware"'])
    assert bad.value.field == "labels"
    assert "ransomware" in bad.value.message
    with pytest.raises(InvalidInput, match="TLP"):
        tags.clean(["tlp:red"])
    assert tags.clean(["tlp:red"], allow_tlp=True) == ["tlp:red"]


def test_suggestions_find_actors_techniques_and_taxonomies():
    assert tags.suggest("a") == []
    actors = [s.tag for s in tags.suggest("apt32")]
    assert 'misp-galaxy:threat-actor="APT32"' in actors[:5]
    techniques = [s.tag for s in tags.suggest("T1566", kind="galaxy")]
    assert techniques[0] == 'misp-galaxy:mitre-attack-pattern="Phishing - T1566"'
    pap = {s.tag for s in tags.suggest("pap", kind="taxonomy", limit=50)}
    assert {"PAP:GREEN", "PAP:AMBER", "PAP:RED"} <= pap
    assert len(tags.suggest("ransom", limit=3)) == 3


@pytest.mark.django_db
def test_suggest_and_resolve_api(client):
    response = client.get("/api/v1/intel/tags/suggest", {"q": "apt32", "limit": 5})
    assert response.status_code == 200
    assert 'misp-galaxy:threat-actor="APT32"' in [s["tag"] for s in response.json()]
    resolved = client.get("/api/v1/intel/tags/resolve",
                          {"tag": 'misp-galaxy:threat-actor="APT32"'}).json()
    assert resolved["known"]
    assert "OceanLotus" in resolved["synonyms"]
    bad = client.get("/api/v1/intel/tags/resolve", {"tag": "PAP:PURPLE"}).json()
    assert not bad["known"]
    assert bad["error"]


def test_tags_a_report_already_carries_pass_unchanged():
    old = 'rsit:malicious-code="ransomware"'  # from an older RSIT version
    assert tags.clean([old, "pap:red"], keep=[old]) == [old, "PAP:RED"]
