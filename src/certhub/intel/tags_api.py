"""Tag suggestions and resolution for the UI and API clients, mounted at /api/v1/intel/tags/.

Public reference data (the MISP taxonomies and galaxies): no record is read, so no sharing rule
applies."""

from ninja import Router, Schema

from . import tags

router = Router(tags=["intel"])


class TagSuggestionOut(Schema):
    tag: str
    name: str
    group: str
    kind: str


class TagOut(Schema):
    tag: str
    kind: str
    known: bool
    name: str
    description: str
    group: str
    synonyms: list[str]
    error: str


@router.get("/suggest", response=list[TagSuggestionOut],
            summary="Tags from the MISP taxonomies and galaxies matching a word")
def suggest_tags(request, q: str, kind: str = "", limit: int = 20):
    """``q``: two characters or more of a tag, its name or a synonym (``apt32``, ``T1566``,
    ``pap``); ``kind``: ``taxonomy`` or ``galaxy``; at most 100 answers."""
    return tags.suggest(q, kind=kind, limit=min(max(limit, 1), 100))


@router.get("/resolve", response=TagOut, summary="What a tag means")
def resolve_tag(request, tag: str):
    """A known taxonomy entry or galaxy cluster with its description, a machine tag of a known
    namespace that is not valid (``error`` says why), or a free tag."""
    found = tags.resolve(tag)
    return {"tag": found.tag, "kind": found.kind, "known": found.known, "name": found.name,
            "description": found.description, "group": found.group,
            "synonyms": list(found.synonyms), "error": found.error}
