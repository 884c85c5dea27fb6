"""Confirming erasures: each service says, per erase request, that its stores are clean."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from shared import topics
from shared.messages import Envelope, wrap
from shared.messages.network import ErasureConfirmed, OwnerErased, PersonErased, changes_in


def confirmations(
    service: str, envelopes: Iterable[Envelope[Any]]
) -> list[tuple[str, Envelope[Any]]]:
    """One confirmation per erase request among ``envelopes`` (erasure changes, alone or in
    network updates, whose correlation id is the request's id)."""
    found: dict[tuple[str, str], tuple[Literal["person", "owner"], list[str]]] = {}
    for envelope in envelopes:
        request = envelope.correlation_id or envelope.id
        for data in changes_in(envelope.data):
            if isinstance(data, OwnerErased):
                found[(envelope.owner_id, request)] = ("owner", [])
            elif isinstance(data, PersonErased) and data.requested:
                found.setdefault((envelope.owner_id, request), ("person", []))[1].append(
                    data.person_id
                )
    return [
        confirmation(service, owner, request, scope, people)
        for (owner, request), (scope, people) in found.items()
    ]


def confirmation(
    service: str,
    owner_id: str,
    request_id: str,
    scope: Literal["person", "owner"],
    person_ids: list[str],
) -> tuple[str, Envelope[Any]]:
    """``service``'s confirmation that it erased what request ``request_id`` asked for."""
    return (
        topics.ERASURE_CONFIRMATIONS,
        wrap(
            ErasureConfirmed(
                service=service, request_id=request_id, scope=scope, person_ids=person_ids
            ),
            owner_id=owner_id,
            source=f"springboard.{service}",
            correlation_id=request_id,
            message_id=f"{service}/{request_id}",
        ),
    )
