"""Raw input messages: what calendars, CRMs, importers and users send in.

Facts are named in the past tense. People are identified by what producers know of
them (e-mail, phone, the source's own id); ingest resolves them to one person.
"""

from __future__ import annotations

import functools
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, model_validator, networks

from shared.messages.envelope import Day, Message, Moment, Name, ShortText


# E-mail addresses as pydantic's ``EmailStr`` validates them, remembered: a calendar names
# the same attendees in meeting after meeting, and validating an address (email-validator,
# with IDNA) costs more than everything else in decoding a message.
@functools.lru_cache(maxsize=100_000)
def _validated(value: str) -> str:
    return networks.validate_email(value)[1]


class EmailStr(networks.EmailStr):
    """``pydantic.EmailStr`` (same checks, errors and JSON schema), with a cache."""

    @classmethod
    def _validate(cls, input_value: str, /) -> str:
        return _validated(input_value)


class ContactUpserted(Message):
    """A contact as an address book or CRM knows it."""

    TYPE = "springboard.contact.upserted"

    external_id: str = Field(
        min_length=1,
        max_length=256,
        description="The source's own id of this contact (CRM record id, vCard UID, profile URL).",
        examples=["hubspot:51"],
    )
    full_name: Name = Field(description="Name as the source spells it.", examples=["Anna Berg"])
    emails: list[EmailStr] = Field(
        default_factory=list,
        max_length=20,
        description="E-mail addresses.",
        examples=[["anna.berg@nordbank.example"]],
    )
    phones: list[Annotated[str, Field(max_length=40)]] = Field(
        default_factory=list,
        max_length=20,
        description="Phone numbers as given.",
        examples=[["+46 70 123 45 67"]],
    )
    company: Name | None = Field(None, description="Employer.", examples=["Nordbank AB"])
    title: Name | None = Field(None, description="Job title.", examples=["Ekonomichef"])
    industry: Name | None = Field(
        None, description="Industry of the employer.", examples=["fintech"]
    )
    city: Name | None = Field(
        None, description="City the contact works in.", examples=["Stockholm"]
    )
    country: Annotated[str, Field(min_length=2, max_length=2)] | None = Field(
        None, description="ISO 3166 alpha-2 country code.", examples=["SE"]
    )
    profile_url: Annotated[str, Field(max_length=500)] | None = Field(
        None,
        description="Public profile URL (LinkedIn etc.).",
        examples=["https://www.linkedin.com/in/annaberg"],
    )
    is_customer: bool = Field(False, description="A customer of the owner.", examples=[True])
    introduced_by_email: EmailStr | None = Field(
        None,
        description="Who introduced the owner to this contact (CRM 'introduced by').",
        examples=["erik.nilsson@gbgconsult.example"],
    )
    connected_on: Day | None = Field(
        None, description="When the owner connected with this contact.", examples=["2021-03-15"]
    )
    removed: bool = Field(
        False,
        description="The address book no longer holds this contact: the person stays in the "
        "owner's history (meetings, favours) but is no longer a contact.",
        examples=[False],
    )


class ResponseStatus(StrEnum):
    ACCEPTED = "accepted"
    DECLINED = "declined"
    TENTATIVE = "tentative"
    NEEDS_ACTION = "needs-action"


class Attendee(Message):
    email: EmailStr | None = Field(
        None,
        description="Attendee's e-mail address; absent for people a calendar knows by name only.",
        examples=["anna.berg@nordbank.example"],
    )
    name: Name | None = Field(None, description="Display name.", examples=["Anna Berg"])
    response: ResponseStatus = Field(
        ResponseStatus.NEEDS_ACTION,
        description="Their answer to the invitation.",
        examples=["accepted"],
    )

    @model_validator(mode="after")
    def _named_or_addressed(self) -> Attendee:
        if self.email is None and not (self.name and self.name.strip()):
            raise ValueError("an attendee needs an e-mail address or a name")
        return self


class MeetingRecorded(Message):
    """A meeting from the owner's calendar (one occurrence of a recurring one)."""

    TYPE = "springboard.meeting.recorded"

    external_id: str = Field(
        min_length=1,
        max_length=512,
        description="Calendar UID plus recurrence id; the same occurrence always has the same id.",
        examples=["7kukuqrfedlm2f9t0vr2kq1grd@google.com/20260312T090000Z"],
    )
    title: ShortText = Field("", description="Summary of the meeting.", examples=["Lunch"])
    starts_at: Moment = Field(
        description="Start, timezone-aware.", examples=["2026-03-12T09:00:00Z"]
    )
    ends_at: Moment | None = Field(
        None, description="End, timezone-aware.", examples=["2026-03-12T10:00:00Z"]
    )
    organizer_email: EmailStr | None = Field(
        None,
        description="Who sent the invitation; tells who took the initiative.",
        examples=["maria.lindqvist@example.com"],
    )
    attendees: list[Attendee] = Field(
        default_factory=list, max_length=500, description="Everyone invited, the owner included."
    )
    cancelled: bool = Field(False, description="The meeting was cancelled.", examples=[False])
    owner_declined: bool = Field(False, description="The owner declined it.", examples=[False])


class EventAnnounced(Message):
    """A public event: a mingle, a seminar, a network breakfast."""

    TYPE = "springboard.event.announced"

    external_id: str = Field(
        min_length=1,
        max_length=512,
        description="The event platform's id.",
        examples=["meetup:fintech-sthlm-2026-12"],
    )
    title: ShortText = Field(description="Title.", examples=["Fintech Breakfast Stockholm"])
    starts_at: Moment = Field(
        description="Start, timezone-aware.", examples=["2026-12-03T07:30:00+01:00"]
    )
    ends_at: Moment | None = Field(None, description="End.", examples=["2026-12-03T09:00:00+01:00"])
    city: Name | None = Field(None, description="City it takes place in.", examples=["Stockholm"])
    venue: ShortText | None = Field(
        None, description="Venue.", examples=["Stockholm Chamber of Commerce"]
    )
    topics: list[Name] = Field(
        default_factory=list,
        max_length=50,
        description="Subjects and industries.",
        examples=[["fintech", "payments"]],
    )
    series: Name | None = Field(
        None, description="Recurring series it belongs to.", examples=["Fintech Breakfast"]
    )
    organizer: Name | None = Field(
        None, description="Organiser.", examples=["Stockholm Fintech Network"]
    )
    url: Annotated[str, Field(max_length=1000)] | None = Field(
        None, description="Event page.", examples=["https://example.org/e/1"]
    )


class AttendanceStatus(StrEnum):
    REGISTERED = "registered"
    ATTENDED = "attended"
    CANCELLED = "cancelled"


class AttendanceRecorded(Message):
    """One person on an event's attendee list."""

    TYPE = "springboard.attendance.recorded"

    event_external_id: str = Field(
        min_length=1,
        max_length=512,
        description="The event's external id.",
        examples=["meetup:fintech-sthlm-2026-12"],
    )
    email: EmailStr = Field(
        description="Attendee's e-mail.", examples=["anna.berg@nordbank.example"]
    )
    full_name: Name | None = Field(None, description="Attendee's name.", examples=["Anna Berg"])
    company: Name | None = Field(None, description="Attendee's employer.", examples=["Nordbank AB"])
    title: Name | None = Field(None, description="Attendee's job title.", examples=["CFO"])
    status: AttendanceStatus = Field(
        AttendanceStatus.REGISTERED, description="Registration state.", examples=["registered"]
    )


class GoalsSet(Message):
    """The owner's profile and networking goals."""

    TYPE = "springboard.goals.set"

    full_name: Name = Field(description="The owner's name.", examples=["Maria Lindqvist"])
    emails: list[EmailStr] = Field(
        min_length=1,
        max_length=20,
        description="The owner's own addresses (to recognise them in calendars).",
        examples=[["maria.lindqvist@example.com"]],
    )
    home_city: Name | None = Field(
        None, description="Where the owner lives now.", examples=["Stockholm"]
    )
    country: Annotated[str, Field(min_length=2, max_length=2)] = Field(
        "SE", description="Default region for phone numbers.", examples=["SE"]
    )
    target_industries: list[Name] = Field(
        default_factory=list,
        max_length=50,
        examples=[["fintech", "retail"]],
        description="Industries that matter.",
    )
    target_functions: list[Name] = Field(
        default_factory=list,
        max_length=50,
        examples=[["CFO", "CIO"]],
        description="Roles that matter.",
    )
    target_cities: list[Name] = Field(
        default_factory=list,
        max_length=50,
        examples=[["Stockholm"]],
        description="Regions that matter.",
    )
    interests: list[Name] = Field(
        default_factory=list,
        max_length=50,
        examples=[["payments", "e-commerce"]],
        description="Topics the owner follows.",
    )


class Cadence(StrEnum):
    INSTANT = "instant"
    DAILY = "daily"
    WEEKLY = "weekly"


class PreferencesSet(Message):
    """How and when the owner wants to hear about suggestions."""

    TYPE = "springboard.preferences.set"

    email: EmailStr | None = Field(
        None,
        description="Where digests go; unset: no e-mail.",
        examples=["maria.lindqvist@example.com"],
    )
    webhook_url: Annotated[str, Field(max_length=1000, pattern=r"^https?://")] | None = Field(
        None,
        description="Where each suggestion is POSTed; unset: no webhook.",
        examples=["https://hooks.example.com/springboard"],
    )
    webhook_secret: (
        Annotated[str, Field(min_length=20, max_length=1000, pattern=r"^sealed:v1:")] | None
    ) = Field(
        None,
        description="The secret webhook signatures are made with (at least 16 characters), "
        "sealed for the notifier (shared.keys.seal): never in plain text on Kafka.",
        examples=["sealed:v1:gAAAAABn…"],
    )
    cadence: Cadence = Field(
        Cadence.DAILY, description="E-mail digest: instant, daily or weekly.", examples=["daily"]
    )
    digest_hour: int = Field(8, ge=0, le=23, description="Local hour digests go out.", examples=[8])
    quiet_hours_start: int | None = Field(
        None, ge=0, le=23, description="Local hour quiet time starts.", examples=[21]
    )
    quiet_hours_end: int | None = Field(
        None, ge=0, le=23, description="Local hour quiet time ends.", examples=[7]
    )
    timezone: Annotated[str, Field(max_length=64)] = Field(
        "Europe/Stockholm", description="IANA time zone.", examples=["Europe/Stockholm"]
    )
    weekly_budget: int | None = Field(
        None, ge=0, le=50, description="Suggestions a week; unset: the default.", examples=[5]
    )


class FavourKind(StrEnum):
    REFERRAL = "referral"
    INTRODUCTION = "introduction"
    HELP = "help"
    RECOMMENDATION = "recommendation"


class FavourRecorded(Message):
    """A favour between the owner and a contact, from a CRM or logged by the owner."""

    TYPE = "springboard.favour.recorded"

    external_id: str = Field(
        min_length=1,
        max_length=256,
        description="Source id of the record.",
        examples=["crm:deal-881"],
    )
    person_email: EmailStr = Field(
        description="The other party.", examples=["erik.nilsson@gbgconsult.example"]
    )
    direction: Literal["given", "received"] = Field(
        description="Given by the owner, or received.", examples=["received"]
    )
    kind: FavourKind = Field(description="What the favour was.", examples=["referral"])
    occurred_at: Moment = Field(description="When.", examples=["2026-05-04T12:00:00Z"])
    note: ShortText | None = Field(
        None, description="Free text.", examples=["Referred Kvarnby Retail"]
    )


class FeedbackAction(StrEnum):
    ACCEPTED = "accepted"
    DONE = "done"
    DISMISSED = "dismissed"
    SNOOZED = "snoozed"


class FeedbackGiven(Message):
    """The owner's answer to a suggestion."""

    TYPE = "springboard.feedback.given"

    suggestion_id: str = Field(
        min_length=1, max_length=128, description="The suggestion answered.", examples=["c8f2…"]
    )
    action: FeedbackAction = Field(description="What the owner did.", examples=["dismissed"])


class ErasePerson(Message):
    """Remove one person from every store of this owner."""

    TYPE = "springboard.erase.person"

    request: Literal["person"] = "person"
    email: EmailStr | None = Field(
        None,
        description="Any address of the person to erase.",
        examples=["anna.berg@nordbank.example"],
    )
    phone: Annotated[str, Field(max_length=40)] | None = Field(
        None, description="Any phone number of theirs.", examples=["+46 70 123 45 67"]
    )
    profile_url: Annotated[str, Field(max_length=500)] | None = Field(
        None,
        description="Their profile URL.",
        examples=["https://www.linkedin.com/in/annaberg"],
    )
    name: Name | None = Field(
        None,
        description="The name a calendar knows them by, for people known by name only.",
        examples=["Ana Silva"],
    )

    @model_validator(mode="after")
    def _identifies_someone(self) -> ErasePerson:
        if not (self.email or self.phone or self.profile_url or self.name):
            raise ValueError("say who to erase: an e-mail, phone, profile URL or name")
        return self


class EraseOwner(Message):
    """Remove everything of this owner."""

    TYPE = "springboard.erase.owner"

    request: Literal["owner"] = "owner"


class UndoMerge(Message):
    """Split a person that identity resolution merged back into two."""

    TYPE = "springboard.identity.undo-merge"

    merge_id: str = Field(
        min_length=1,
        max_length=64,
        description="The merge to undo.",
        examples=["m-3f9a0c1d2e4b5a6c"],
    )


EraseRequest = Annotated[ErasePerson | EraseOwner, Field(discriminator="request")]
