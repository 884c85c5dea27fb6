"""The page's forms as input messages: goals (``GoalsSet``) and how to hear from
Springboard (``PreferencesSet``). Each field is checked by the message's own schema, and a
problem comes back as one sentence next to the field it is about."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from shared.messages import GoalsSet, PreferencesSet
from shared.messages.inputs import Cadence

GOALS_LISTS = ("emails", "target_industries", "target_functions", "target_cities", "interests")
CADENCES = tuple(c.value for c in Cadence)


@dataclass
class Filled:
    """A form as the owner filled it in, and what is wrong with it, by field."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    message: Any = None

    @property
    def ok(self) -> bool:
        return not self.errors and self.message is not None


def split_list(text: str) -> list[str]:
    """Commas or new lines between items; blanks and repeats dropped, order kept."""
    seen: dict[str, None] = {}
    for part in re.split(r"[,\n;]", text):
        item = " ".join(part.split())
        if item and item.casefold() not in {s.casefold() for s in seen}:
            seen[item] = None
    return list(seen)


def joined(values: Any) -> str:
    return ", ".join(values) if isinstance(values, list) else str(values or "")


def _errors(error: ValidationError, fields: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for problem in error.errors():
        loc = problem["loc"]
        name = str(loc[0]) if loc and str(loc[0]) in fields else fields[0]
        text = problem["msg"].removeprefix("Value error, ")
        text = text[:1].upper() + text[1:]
        if len(loc) > 1 and isinstance(loc[1], int):
            text = f"Item {loc[1] + 1}: {text}"
        out.setdefault(name, text)
    return out


GOALS_FIELDS = (
    "full_name",
    "emails",
    "home_city",
    "country",
    "target_industries",
    "target_functions",
    "target_cities",
    "interests",
)


def goals_form(form: Mapping[str, str]) -> Filled:
    values = {name: str(form.get(name, "")).strip() for name in GOALS_FIELDS}
    filled = Filled(values)
    data: dict[str, Any] = {
        name: split_list(value) if name in GOALS_LISTS else (value or None)
        for name, value in values.items()
    }
    data["country"] = (values["country"] or "SE").upper()
    if not values["full_name"]:
        filled.errors["full_name"] = "Your name, as people know you."
    if not data["emails"]:
        filled.errors["emails"] = "At least one of your own addresses (to know you in calendars)."
    if filled.errors:
        return filled
    try:
        filled.message = GoalsSet(**data)
    except ValidationError as error:
        filled.errors = _errors(error, GOALS_FIELDS)
    return filled


def goals_values(goals: Mapping[str, Any] | None) -> dict[str, str]:
    """A stored ``GoalsSet`` as the form shows it."""
    goals = goals or {}
    return {name: joined(goals.get(name)) for name in GOALS_FIELDS}


PREFERENCES_FIELDS = (
    "email",
    "cadence",
    "digest_hour",
    "quiet_hours_start",
    "quiet_hours_end",
    "timezone",
    "weekly_budget",
)


def _hour(text: str, name: str, errors: dict[str, str]) -> int | None:
    if not text:
        return None
    if not text.isdigit() or not 0 <= int(text) <= 23:
        errors[name] = "An hour from 0 to 23."
        return None
    return int(text)


def preferences_form(form: Mapping[str, str], kept: Mapping[str, Any] | None) -> Filled:
    """``kept``: the stored preferences, whose webhook (set with the CLI, its secret sealed)
    the page neither shows nor drops."""
    values = {name: str(form.get(name, "")).strip() for name in PREFERENCES_FIELDS}
    filled = Filled(values)
    errors = filled.errors
    if values["cadence"] not in CADENCES:
        errors["cadence"] = f"One of {', '.join(CADENCES)}."
    hour = _hour(values["digest_hour"] or "8", "digest_hour", errors)
    start = _hour(values["quiet_hours_start"], "quiet_hours_start", errors)
    end = _hour(values["quiet_hours_end"], "quiet_hours_end", errors)
    if (start is None) != (end is None) and not errors.keys() & {"quiet_hours_start"}:
        errors["quiet_hours_end"] = "Give both ends of the quiet hours, or neither."
    zone = values["timezone"] or "Europe/Stockholm"
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        errors["timezone"] = "A time zone such as Europe/Stockholm."
    budget = values["weekly_budget"]
    if budget and not budget.isdigit():
        errors["weekly_budget"] = "A whole number of suggestions a week, 0 to 50."
    if errors:
        return filled
    kept = kept or {}
    try:
        filled.message = PreferencesSet(
            email=values["email"] or None,
            webhook_url=kept.get("webhook_url"),
            webhook_secret=kept.get("webhook_secret"),
            cadence=values["cadence"],
            digest_hour=hour if hour is not None else 8,
            quiet_hours_start=start,
            quiet_hours_end=end,
            timezone=zone,
            weekly_budget=int(budget) if budget else None,
        )
    except ValidationError as error:
        filled.errors = _errors(error, PREFERENCES_FIELDS)
    return filled


def preferences_values(prefs: Mapping[str, Any] | None) -> dict[str, str]:
    prefs = prefs or {"cadence": "daily", "digest_hour": 8, "timezone": "Europe/Stockholm"}
    return {
        name: "" if prefs.get(name) is None else str(prefs.get(name)) for name in PREFERENCES_FIELDS
    }
