"""Tags of reports: MISP taxonomies (TLP, PAP, RSIT...) and galaxy clusters (threat actors,
malware, ATT&CK techniques), recognised, validated and suggested offline.

The data ships in two maintained registry packages, read from their own data folders (no
network): ``pytaxonomies`` (the MISP taxonomies) and ``pymispgalaxies`` (the MISP galaxy
clusters). Both take a few seconds to load, so they are loaded on first use, once per process.

A tag is stored as text in ``Report.labels``. Three shapes:

- a taxonomy machine tag: ``namespace:predicate`` or ``namespace:predicate="value"``
  (``tlp:amber``, ``PAP:GREEN``, ``rsit:fraud="phishing"``);
- a galaxy cluster: ``misp-galaxy:<cluster type>="<value>"``
  (``misp-galaxy:threat-actor="APT32"``, ``misp-galaxy:mitre-attack-pattern="Phishing - T1566"``);
- anything else: a free tag, kept as written.

A machine tag whose namespace is a known taxonomy (or ``misp-galaxy``) must name one of its
predicates and values; a free tag is never refused.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from functools import cached_property

from django.utils.translation import gettext as _

from certhub.core.errors import InvalidInput

GALAXY = "misp-galaxy"
MAX_TAG_LENGTH = 300
MAX_TAGS = 100
_MACHINE_TAG = re.compile(r'^(?P<ns>[^\s:="]+):(?P<pred>[^="]+?)(?:="(?P<value>[^"]*)")?$')


@dataclass(frozen=True)
class Tag:
    """What certhub knows about one tag."""

    tag: str                 # canonical text (known machine tags in the registry's spelling)
    kind: str = "free"       # "taxonomy", "galaxy" or "free"
    known: bool = False
    namespace: str = ""
    predicate: str = ""
    value: str = ""
    name: str = ""           # readable: the entry's expanded text, the cluster's value
    description: str = ""
    colour: str = ""
    group: str = ""          # the taxonomy's or galaxy's own name
    synonyms: tuple[str, ...] = ()
    refs: tuple[str, ...] = ()
    error: str = ""          # why a machine tag of a known namespace is not valid

    @property
    def label(self) -> str:
        return self.name or self.tag


@dataclass
class _Entry:
    tag: str
    name: str
    group: str
    kind: str
    keys: tuple[str, ...] = field(default_factory=tuple)  # lowercased texts to search


class _Registry:
    """Both data sets, loaded lazily (each on its first use)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    @cached_property
    def taxonomies(self):
        from pytaxonomies import Taxonomies

        with self._lock:
            return Taxonomies()

    @cached_property
    def galaxies(self):
        from pymispgalaxies import Clusters

        with self._lock:
            return Clusters(skip_duplicates=True)

    @cached_property
    def taxonomy_names(self) -> dict[str, str]:
        return {name.lower(): name for name in self.taxonomies}

    @cached_property
    def galaxy_synonyms(self) -> dict[str, dict[str, str]]:
        """cluster type -> {lowercased synonym: canonical value}."""
        result: dict[str, dict[str, str]] = {}
        for kind, cluster in self.galaxies.items():
            names: dict[str, str] = {}
            for value in cluster.values():
                for synonym in (value.meta.synonyms if value.meta and value.meta.synonyms
                                else ()):
                    names.setdefault(str(synonym).lower(), value.value)
            result[kind] = names
        return result

    @cached_property
    def index(self) -> list[_Entry]:
        entries: list[_Entry] = []
        for name, taxonomy in self.taxonomies.items():
            group = taxonomy.expanded or name
            for predicate_name, predicate in taxonomy.predicates.items():
                if predicate.entries:
                    for value_name, entry in predicate.entries.items():
                        tag = f'{name}:{predicate_name}="{value_name}"'
                        label = entry.expanded or value_name
                        entries.append(_Entry(tag, label, group, "taxonomy",
                                              (tag.lower(), label.lower())))
                else:
                    tag = f"{name}:{predicate_name}"
                    label = predicate.expanded or predicate_name
                    entries.append(_Entry(tag, label, group, "taxonomy",
                                          (tag.lower(), label.lower())))
        for kind, cluster in self.galaxies.items():
            for value in cluster.values():
                tag = f'{GALAXY}:{kind}="{value.value}"'
                synonyms = value.meta.synonyms if value.meta and value.meta.synonyms else ()
                entries.append(_Entry(tag, value.value, cluster.name, "galaxy",
                                      (value.value.lower(), tag.lower(),
                                       *(str(s).lower() for s in synonyms))))
        return entries


_registry = _Registry()


def _text(value) -> str:
    return str(value) if value else ""


def _taxonomy_tag(text: str, ns: str, pred: str, value: str | None) -> Tag:
    registry = _registry
    name = registry.taxonomy_names[ns.lower()]
    taxonomy = registry.taxonomies[name]
    group = taxonomy.expanded or name
    predicates = {key.lower(): key for key in taxonomy.predicates}
    if pred.lower() not in predicates:
        return Tag(text, "taxonomy", namespace=name, predicate=pred, value=value or "",
                   group=group, error=_("%(taxonomy)s has no %(predicate)s; it has: %(known)s")
                   % {"taxonomy": name, "predicate": pred,
                      "known": ", ".join(sorted(taxonomy.predicates)[:30])})
    pred = predicates[pred.lower()]
    predicate = taxonomy.predicates[pred]
    if value is None:
        return Tag(f"{name}:{pred}", "taxonomy", True, name, pred,
                   name=_text(predicate.expanded) or pred,
                   description=_text(predicate.description) or _text(taxonomy.description),
                   colour=_text(predicate.colour), group=group)
    entries = {key.lower(): key for key in predicate.entries}
    if value.lower() not in entries:
        known = ", ".join(sorted(predicate.entries)[:30])
        return Tag(text, "taxonomy", namespace=name, predicate=pred, value=value, group=group,
                   error=(_("%(tag)s is not in the %(taxonomy)s taxonomy; %(predicate)s takes: "
                            "%(known)s") if known else
                          _("%(tag)s is not in the %(taxonomy)s taxonomy; %(predicate)s takes "
                            "no value")) % {"tag": text, "taxonomy": name,
                                            "predicate": f"{name}:{pred}", "known": known})
    value = entries[value.lower()]
    entry = predicate.entries[value]
    return Tag(f'{name}:{pred}="{value}"', "taxonomy", True, name, pred, value,
               name=_text(entry.expanded) or value,
               description=_text(entry.description) or _text(predicate.expanded),
               colour=_text(entry.colour) or _text(predicate.colour), group=group)


def _galaxy_tag(text: str, kind: str, value: str | None) -> Tag:
    galaxies = _registry.galaxies
    if kind not in galaxies:
        return Tag(text, "galaxy", namespace=GALAXY, predicate=kind, value=value or "",
                   error=_("%(tag)s: there is no galaxy %(kind)s") % {"tag": text, "kind": kind})
    cluster = galaxies[kind]
    if not value:
        return Tag(text, "galaxy", namespace=GALAXY, predicate=kind, group=cluster.name,
                   error=_('%(tag)s: name a cluster, as in %(example)s')
                   % {"tag": text, "example": f'{GALAXY}:{kind}="…"'})
    found = cluster.get(value)
    if found is None:
        canonical = _registry.galaxy_synonyms.get(kind, {}).get(value.lower())
        hint = (_("; did you mean %(tag)s?") % {"tag": f'{GALAXY}:{kind}="{canonical}"'}
                if canonical else "")
        return Tag(text, "galaxy", namespace=GALAXY, predicate=kind, value=value,
                   group=cluster.name,
                   error=_("%(tag)s is not a cluster of the %(galaxy)s galaxy")
                   % {"tag": text, "galaxy": cluster.name} + hint)
    meta = found.meta
    return Tag(f'{GALAXY}:{kind}="{found.value}"', "galaxy", True, GALAXY, kind, found.value,
               name=found.value, description=_text(found.description), group=cluster.name,
               synonyms=tuple(sorted(str(s) for s in (meta.synonyms if meta and meta.synonyms
                                                      else ()))),
               refs=tuple(sorted(str(r) for r in (meta.refs if meta and meta.refs else ())))[:10])


def resolve(text: str) -> Tag:
    """What ``text`` means: a known taxonomy entry or galaxy cluster, a machine tag of a known
    namespace that is not valid (``error`` set), or a free tag."""
    text = str(text).strip()
    match = _MACHINE_TAG.match(text)
    if not match:
        return Tag(text)
    ns, pred, value = match["ns"], match["pred"].strip(), match["value"]
    if ns.lower() == GALAXY:
        return _galaxy_tag(text, pred, value)
    if ns.lower() in _registry.taxonomy_names:
        return _taxonomy_tag(text, ns, pred, value)
    return Tag(text)


def resolve_many(texts) -> list[Tag]:
    """Tags in order, each resolved once."""
    cache: dict[str, Tag] = {}
    result = []
    for text in texts or ():
        key = str(text)
        if key not in cache:
            cache[key] = resolve(key)
        result.append(cache[key])
    return result


def clean(texts, *, allow_tlp: bool = False, keep=()) -> list[str]:
    """Tags a person entered, validated: known machine tags in canonical spelling, free tags as
    written, duplicates dropped; InvalidInput naming the first bad one.

    The TLP of a report is its own field, so ``tlp:*`` tags are refused unless ``allow_tlp``.
    Tags in ``keep`` (those a report already carries, e.g. from an import made with another
    version of the taxonomies) pass unchanged."""
    kept = {str(text) for text in keep}
    result: list[str] = []
    for raw in texts:
        text = str(raw).strip()
        if not text:
            continue
        if text in kept:
            if text not in result:
                result.append(text)
            continue
        if len(text) > MAX_TAG_LENGTH:
            raise InvalidInput(_("A tag is at most %(n)d characters.") % {"n": MAX_TAG_LENGTH},
                               field="labels")
        tag = resolve(text)
        if tag.error:
            raise InvalidInput(tag.error, field="labels")
        if not allow_tlp and tag.namespace.lower() == "tlp":
            raise InvalidInput(_("Set the TLP with its own field, not as a tag (%(tag)s).")
                               % {"tag": text}, field="labels")
        if tag.tag not in result:
            result.append(tag.tag)
    if len(result) > MAX_TAGS:
        raise InvalidInput(_("At most %(n)d tags.") % {"n": MAX_TAGS}, field="labels")
    return result


@dataclass(frozen=True)
class Suggestion:
    tag: str
    name: str
    group: str
    kind: str


def suggest(query: str, *, limit: int = 20, kind: str = "") -> list[Suggestion]:
    """Tags matching ``query`` (a word of the tag, its readable name or a synonym): exact
    matches first, then prefixes, then the rest, shorter first. ``kind``: taxonomy or galaxy."""
    text = str(query).strip().lower()
    if len(text) < 2:
        return []
    ranked = []
    for entry in _registry.index:
        if kind and entry.kind != kind:
            continue
        rank = None
        for key in entry.keys:
            if key == text:
                rank = 0
                break
            if key.startswith(text) or f'="{text}' in key:
                rank = 1 if rank is None else min(rank, 1)
            elif rank is None and text in key:
                rank = 2
        if rank is not None:
            ranked.append((rank, len(entry.tag), entry.tag, entry))
    ranked.sort(key=lambda item: item[:3])
    return [Suggestion(e.tag, e.name, e.group, e.kind) for *_, e in ranked[:max(1, limit)]]
