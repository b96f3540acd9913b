"""What counts as a leak, given the answers a walk collected.

1. A body shows the marker of a record the rule hides from the asker.
2. A URL naming a hidden record answers 403 (or anything else) where the same URL naming a
   record that exists nowhere answers 404: the difference tells that the record exists.
3. An answer changes when the records hidden from the asker are removed from the database:
   counts, totals, correlations or pages computed over rows the asker may not see.
4. A write aimed at records the asker may not change changes them.
"""

from __future__ import annotations

import difflib

from django.db import transaction

from .conftest import Fixture, LeakWorld
from .walker import Answer, Request, fetch, normalised


def walk(client, requests: list[Request]) -> list[tuple[Request, Answer]]:
    return [(request, fetch(client, request)) for request in requests]


def markers_shown(answers, fixtures) -> dict[Fixture, list[Request]]:
    found: dict[Fixture, list[Request]] = {}
    for request, answer in answers:
        for fixture in fixtures:
            if fixture.marker in answer.body:
                found.setdefault(fixture, []).append(request)
    return found


def body_leaks(who: str, answers, hidden: set[Fixture]) -> list[str]:
    return [f"{who} {request}: the answer ({answer.status}) shows {fixture} "
            f"[{fixture.marker}]"
            for request, answer in answers for fixture in hidden
            if fixture.marker in answer.body]


def existence_leaks(who: str, client, answers, hidden: set[Fixture]) -> list[str]:
    findings, stand_ins = [], {}
    for request, answer in answers:
        named = request.names & hidden
        if not named:
            continue
        if request.stand_in_url not in stand_ins:
            stand_ins[request.stand_in_url] = fetch(client, request.stand_in())
        absent = stand_ins[request.stand_in_url]
        if answer.status != absent.status:
            what = ", ".join(str(f) for f in sorted(named, key=str))
            kind = "403 where 404 is required" if answer.status == 403 else "a different status"
            findings.append(f"{who} {request}: {kind}: {answer.status} for {what} but "
                            f"{absent.status} for a record that does not exist")
    return findings


def remove_hidden(leak: LeakWorld, hidden: set[Fixture]) -> None:
    for fixture in hidden:
        fixture.registration.model.unrestricted.filter(pk=fixture.pk).delete()


def count_leaks(who: str, client, leak: LeakWorld, answers, hidden: set[Fixture]) -> list[str]:
    """Walk again without the hidden records (rolled back after) and compare the answers."""
    findings = []
    with transaction.atomic():
        remove_hidden(leak, hidden)
        for (request, before), (_, after) in zip(answers, walk(client, [r for r, _ in answers]),
                                                 strict=True):
            if normalised(before) == normalised(after):
                continue
            if before.status != after.status:
                what = f"status {before.status} -> {after.status}"
            else:
                diff = difflib.unified_diff(normalised(before)[1].splitlines(),
                                            normalised(after)[1].splitlines(), lineterm="", n=0)
                what = " | ".join(line for line in list(diff)[2:8])
            findings.append(f"{who} {request}: the answer depends on records they may not "
                            f"see ({what})")
        transaction.set_rollback(True)
    return findings


def snapshot(leak: LeakWorld) -> dict:
    """Every field and the audience of every fixture record, as stored (a few queries)."""
    state: dict = dict.fromkeys(leak.fixtures)
    by_model: dict = {}
    for fixture in leak.fixtures:
        by_model.setdefault(fixture.registration.model, {})[fixture.pk] = fixture
    for model, fixtures in by_model.items():
        rows = {row["id"]: row for row in model.unrestricted.filter(pk__in=fixtures).values()}
        for name in ("audience_orgs", "audience_groups", "audience_users"):
            through = model._meta.get_field(name).remote_field.through
            source = model._meta.get_field(name).m2m_field_name()
            target = model._meta.get_field(name).m2m_reverse_field_name()
            for pk, other in through.objects.filter(**{f"{source}__in": fixtures}).order_by(
                    source, target).values_list(source, target):
                if pk in rows:
                    rows[pk].setdefault(name, []).append(other)
        for pk, fixture in fixtures.items():
            state[fixture] = rows.get(pk)
    return state


def write_leaks(who: str, client, leak: LeakWorld, requests: list[Request],
                hidden: set[Fixture]) -> list[str]:
    findings, answers = [], []
    before = snapshot(leak)
    for request in requests:
        answer = fetch(client, request)
        answers.append((request, answer))
        after = snapshot(leak)
        changed = [f for f in before if before[f] != after[f]]
        if changed:
            findings.append(f"{who} {request}: changed {', '.join(map(str, changed))} "
                            f"({answer.status})")
            before = after
        if request.names and 200 <= answer.status < 300:
            findings.append(f"{who} {request}: a write naming another organisation's record "
                            f"succeeded ({answer.status})")
    findings += body_leaks(who, answers, hidden)
    findings += existence_leaks(who, client, answers, hidden)
    return findings
