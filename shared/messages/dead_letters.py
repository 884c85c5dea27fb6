"""What goes to a dead-letter topic: the original bytes and why they were refused."""

from __future__ import annotations

from pydantic import Field

from shared.messages.envelope import Message, Moment


class DeadLettered(Message):
    """A message a service could not accept, kept whole for inspection and replay."""

    TYPE = "springboard.dead-lettered"

    original_topic: str = Field(
        description="Where it was read.", examples=["springboard.contacts.v1"]
    )
    partition: int = Field(description="Partition it was read from.", examples=[2])
    offset: int = Field(description="Offset it was read at.", examples=[1041])
    original_key: str | None = Field(
        None, description="Its key (base64 if not UTF-8).", examples=["maria.lindqvist"]
    )
    original_value_b64: str = Field(
        description="The original bytes, base64.", examples=["eyJpZCI6..."]
    )
    service: str = Field(description="The service that refused it.", examples=["ingest"])
    reason: str = Field(
        description="Why, in words.", examples=["data.emails.0: value is not a valid email address"]
    )
    failed_at: Moment = Field(description="When.", examples=["2026-11-28T09:00:00Z"])
