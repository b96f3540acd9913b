"""Experts: batch steps between parser and storage, in this order:

    Normaliser        refang, detect and canonicalise the value (ipv4, url, domain, hash, ...)
    Classifier        RSIT taxonomy/type: the row's own, else the feed's default
    Deduplicator      same feed + value type + value within the feed's window → duplicate
    WarninglistFlagger  names of MISP warning lists holding the value (known false positives)
    Router            country, ASN and responsible organisation(s) from the directory lookup
    enrich_observable_index   hook for the intel app (see observables.py)

Each takes a list of events and returns the events that go on; refused events become ``Bad``
items with their line and reason. They work on whole batches: one directory lookup, one
deduplication query and one insert per batch, never one per event.
"""

from .classify import Classifier
from .dedupe import Deduplicator, dedupe_key
from .normalise import Normaliser
from .observables import enrich_observable_index
from .route import Router
from .warninglists import WarninglistFlagger

__all__ = ["Classifier", "Deduplicator", "Normaliser", "Router", "WarninglistFlagger",
           "dedupe_key", "enrich_observable_index"]
