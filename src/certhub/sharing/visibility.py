"""The sharing rule restated in plain Python, label by label, as the reference the tests hold
``rules.py`` to.

``rules.py`` builds one SQL filter for every read path; this module answers the same question
for one user and one record from plain facts, in the order docs/sharing.md reads (a row per TLP
label). It is written separately on purpose: tests/sharing/test_properties.py generates random
organisations, sharing groups, users and records and checks that the database rule and this
function agree on every pair. Nothing in the application calls it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .tlp import TLP


@dataclass(frozen=True)
class UserFacts:
    """Who is asking. Anonymous visitors are ``UserFacts.anonymous()``."""

    user_id: int | None
    organisation_id: int | None
    coordinator_id: int | None = None  # the CERT that serves the user's organisation
    active: bool = True
    writer: bool = False  # role is hub_admin, org_admin or analyst

    @classmethod
    def anonymous(cls) -> UserFacts:
        return cls(user_id=None, organisation_id=None, active=False)

    @property
    def signed_in(self) -> bool:
        return self.user_id is not None and self.active


@dataclass(frozen=True)
class RecordFacts:
    """What the record says about itself: label, owner, creator and audience."""

    tlp: str
    owner_id: int
    creator_id: int | None = None
    audience_org_ids: frozenset[int] = frozenset()
    # One member set per sharing group in the audience; a group with no members still counts
    # as a named audience (the owner chose to restrict), it just reaches nobody.
    audience_groups: tuple[frozenset[int], ...] = ()
    recipient_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def audience_named(self) -> bool:
        return bool(self.audience_org_ids or self.audience_groups)

    def audience_includes(self, organisation_id: int | None) -> bool:
        if organisation_id is None:
            return False
        return organisation_id in self.audience_org_ids or any(
            organisation_id in members for members in self.audience_groups)


def may_see(user: UserFacts, record: RecordFacts) -> bool:
    label = TLP(record.tlp)
    if label == TLP.CLEAR:
        return True
    if not user.signed_in:
        return False
    if label == TLP.RED:
        # Named individuals only: not even the owner organisation's other users.
        return user.user_id == record.creator_id or user.user_id in record.recipient_ids
    if user.organisation_id == record.owner_id:
        return True
    if label == TLP.AMBER_STRICT:
        return record.audience_includes(user.organisation_id)
    if label == TLP.GREEN and not record.audience_named:
        return True  # the whole community
    # TLP:AMBER and GREEN with a named audience: the audience organisations and their clients.
    return (record.audience_includes(user.organisation_id)
            or record.audience_includes(user.coordinator_id))


def may_edit(user: UserFacts, record: RecordFacts) -> bool:
    return (user.signed_in and user.writer and user.organisation_id == record.owner_id
            and may_see(user, record))
