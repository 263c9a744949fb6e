"""The sales/marketing agreement: the one configuration the engine runs and the bot explains.

Everything here is plain, validated data. Loading it from a file and reading
secrets from the environment is the delivery layer's job (``bot/settings.py``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, time, timedelta
from enum import StrEnum
from functools import cached_property
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)

from scoring.conditions import Condition
from scoring.crm_actions import CrmAction
from scoring.durations import Duration
from scoring.platforms import clean_ids, known_names
from scoring.sources import Source


class Stage(StrEnum):
    """Where a lead is in the funnel. Labels and descriptions come from the agreement."""

    CAPTURED = "captured"
    MQL = "mql"
    SAL = "sal"
    SQL = "sql"
    RECYCLED = "recycled"
    DISQUALIFIED = "disqualified"
    UNREACHABLE = "unreachable"
    # After SQL, reported by the CRM (POST /api/leads/{external_id}/outcome).
    OPPORTUNITY = "opportunity"
    WON = "won"
    LOST = "lost"


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


class Directory:
    """People and reps indexed by email and by their id on each chat platform."""

    def __init__(self, reps: list[tuple[Team, Rep]], people: list[Person]) -> None:
        self.reps = reps
        self.people = people
        self.rep_by_email: dict[str, tuple[Team, Rep]] = {}
        for team, rep in reps:
            self.rep_by_email.setdefault(rep.email.lower(), (team, rep))
        self._by_email: dict[str, int] = {}
        self._by_id: dict[str, dict[str, int]] = {}
        for index, person in enumerate(people):
            self._by_email.setdefault(person.email.lower(), index)
            for platform, chat_id in person.chat_ids.items():
                self._by_id.setdefault(platform, {}).setdefault(chat_id, index)

    @classmethod
    def of(cls, agreement: Agreement) -> Directory:
        reps = [(t, r) for t in agreement.teams for r in t.reps]
        seen: dict[str, Person] = {}
        everyone = [r for _, r in reps] + [m for t in agreement.teams for m in t.managers]
        for person in everyone + list(agreement.roles.marketing):
            seen.setdefault(person.email.lower(), person)
        return cls(reps, list(seen.values()))

    def find(self, email: str | None, ids: Mapping[str, str | None]) -> Person | None:
        hits = [
            index
            for index in [self._by_email.get(email.lower()) if email else None]
            + [self._by_id.get(platform, {}).get(key) for platform, key in ids.items() if key]
            if index is not None
        ]
        return self.people[min(hits)] if hits else None


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {value!r} (use an IANA name like Europe/Berlin)") from None
    return value


class Definition(_Model):
    """Version stamp of the shared definition; it is a contract revisited every quarter."""

    version: str = "1"
    last_changed: date | None = None
    review_every_months: int = Field(default=3, ge=1, le=12)
    reviewers: list[EmailStr] = Field(default_factory=list)


class StageText(_Model):
    label: str
    description: str = ""


_STAGE_TEXT = {
    Stage.CAPTURED: ("Captured", "Known to marketing, not yet qualified."),
    Stage.MQL: ("MQL", "Marketing qualified lead: meets the shared definition and is offered to sales."),
    Stage.SAL: ("SAL", "Sales accepted lead: a rep has accepted it and owns the follow-up."),
    Stage.SQL: ("SQL", "Sales qualified lead: sales confirmed real buying intent after a conversation."),
    Stage.RECYCLED: ("Recycled", "Not ready to buy; back in marketing nurture."),
    Stage.DISQUALIFIED: ("Disqualified", "Not a fit; will not be offered again."),
    Stage.UNREACHABLE: ("Unreachable", "Not reached after the agreed touches; in the unreachable nurture programme."),
    Stage.OPPORTUNITY: ("Opportunity", "The CRM opened an opportunity (a deal) for the lead."),
    Stage.WON: ("Won", "The opportunity was won: the lead bought."),
    Stage.LOST: ("Lost", "The opportunity was lost."),
}


def _default_stages() -> dict[Stage, StageText]:
    return {stage: StageText(label=label, description=text) for stage, (label, text) in _STAGE_TEXT.items()}


class Stages(_Model):
    skip_sal: bool = False
    text: dict[Stage, StageText] = Field(default_factory=_default_stages)

    @field_validator("text", mode="after")
    @classmethod
    def _fill(cls, value: dict[Stage, StageText]) -> dict[Stage, StageText]:
        return {**_default_stages(), **value}


class Disqualifier(Condition):
    reason: str = Field(min_length=1)


class Qualification(_Model):
    threshold: int = 50
    required_fields: list[str] = Field(default_factory=lambda: ["email"])
    disqualifiers: list[Disqualifier] = Field(default_factory=list)
    icp: str = ""


class ScoringRule(Condition):
    """Explicit (demographic fit) points when the condition holds; points may be negative."""

    name: str = Field(min_length=1)
    points: int


class EventRule(_Model):
    label: str = ""
    points: int = 0
    cap: int | None = Field(default=None, ge=0)


class Implicit(_Model):
    """Behaviour points; ``half_life`` halves an event's points every period since it happened."""

    half_life: Duration | None = None
    fast_track: list[str] = Field(default_factory=list)
    events: dict[str, EventRule] = Field(default_factory=dict)

    @property
    def event_types(self) -> frozenset[str]:
        return frozenset(self.events) | frozenset(self.fast_track)


class Scoring(_Model):
    explicit: list[ScoringRule] = Field(default_factory=list)
    implicit: Implicit = Field(default_factory=Implicit)


class WorkingHours(_Model):
    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> WorkingHours:
        match = _HOURS.match(text.strip())
        if not match:
            raise ValueError(f"{text!r} is not working hours; write it like 09:00-17:30")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
            raise ValueError(f"{text!r} has an impossible time")
        start = time(h1, m1)
        end = time(23, 59, 59) if h2 == 24 else time(h2, m2)
        if end <= start:
            raise ValueError(f"{text!r} ends before it starts")
        return cls(start=start, end=end)

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


class DateRange(_Model):
    start: date = Field(alias="from")
    end: date = Field(alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> DateRange:
        if self.end < self.start:
            raise ValueError("`to` is before `from`")
        return self

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end


class ChannelRef(_Model):
    """A conversation on each chat platform, as platform → id (``slack = "C…"``, ``teams = "19:…"``).

    Written in the agreement as a table keyed by platform name; ``ChannelRef(slack="C1")`` builds
    one in code. The names accepted are the registered platforms (validation context ``platforms``).
    """

    ids: dict[str, str]

    @model_validator(mode="before")
    @classmethod
    def _mapping(cls, data: object, info: ValidationInfo) -> object:
        if not isinstance(data, dict):
            return data
        raw = data["ids"] if set(data) == {"ids"} and isinstance(data["ids"], dict) else data
        ids = clean_ids(raw, known_names(info.context), "channel id")
        if not ids:
            names = ", ".join(f"`{n}`" for n in known_names(info.context))
            raise ValueError(f"give a channel id for at least one chat platform ({names})")
        return {"ids": ids}

    @model_serializer
    def _flat(self) -> dict[str, str]:
        return dict(self.ids)

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.ids.items())))

    def get(self, platform: str) -> str | None:
        return self.ids.get(platform)

    def items(self) -> list[tuple[str, str]]:
        return list(self.ids.items())


def fold_chat_ids(data: object, info: ValidationInfo) -> object:
    """``<platform>_id = "…"`` keys (``slack_id``, ``teams_id``) and a ``chat_ids`` table → ``chat_ids``."""
    if not isinstance(data, dict):
        return data
    data = dict(data)
    known = known_names(info.context)
    table = data.pop("chat_ids", None) or {}
    if not isinstance(table, dict):
        raise ValueError("`chat_ids` must be a table of platform = id")
    raw: dict[str, object] = dict(table)
    for platform in known:
        if f"{platform}_id" in data:
            value, current = data.pop(f"{platform}_id"), raw.get(platform)
            if current is not None and value is not None and current != value:
                raise ValueError(f"`{platform}_id` and `chat_ids.{platform}` disagree")
            if current is None:
                raw[platform] = value
    data["chat_ids"] = clean_ids(raw, known, "id")
    return data


class Person(_Model):
    name: str = Field(min_length=1)
    email: EmailStr
    # Platform → the person's id there; built from ``slack_id``/``teams_id`` (any ``<platform>_id``).
    chat_ids: dict[str, str] = Field(default_factory=dict)
    timezone: str = "UTC"
    # The person's user id in the CRM (a HubSpot owner id, a Salesforce 005… user id): touches
    # logged there name the rep by it, and {crm_id} in [[crm_actions]] writes the owner back.
    crm_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[^\s]+$")

    @model_validator(mode="before")
    @classmethod
    def _chat_ids(cls, data: object, info: ValidationInfo) -> object:
        return fold_chat_ids(data, info)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        return _check_timezone(value)

    def __hash__(self) -> int:
        return hash((self.name, self.email, tuple(sorted(self.chat_ids.items())), self.timezone))

    def chat_id(self, platform: str) -> str | None:
        return self.chat_ids.get(platform)

    @property
    def slack_id(self) -> str | None:  # the configuration's spelling, kept for readers of it
        return self.chat_ids.get("slack")

    @property
    def teams_id(self) -> str | None:
        return self.chat_ids.get("teams")


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _weekdays() -> list[Weekday]:
    return ["mon", "tue", "wed", "thu", "fri"]


class Rep(Person):
    working_hours: WorkingHours = Field(default_factory=lambda: WorkingHours.parse("09:00-17:00"))
    working_days: list[Weekday] = Field(default_factory=_weekdays, min_length=1)
    capacity: int = Field(default=25, ge=1)
    weight: int = Field(default=1, ge=1, le=100)
    manager: EmailStr | None = None
    out_of_office: list[DateRange] = Field(default_factory=list)

    @field_validator("working_hours", mode="before")
    @classmethod
    def _hours(cls, value: object) -> object:
        return WorkingHours.parse(value) if isinstance(value, str) else value


class Team(_Model):
    name: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    handoff: Literal["direct", "channel"] = "direct"
    channel: ChannelRef | None = None
    reps: list[Rep] = Field(min_length=1)
    managers: list[Person] = Field(default_factory=list)
    sla: str = "default"
    fast_track_sla: str | None = None
    holidays: list[date] = Field(default_factory=list)

    @model_validator(mode="after")
    def _channel_mode(self) -> Team:
        if self.handoff == "channel" and self.channel is None:
            raise ValueError('handoff = "channel" needs a `channel`')
        return self


class RoutingRule(_Model):
    name: str = Field(min_length=1)
    when: list[Condition] = Field(min_length=1)
    team: str


class Routing(_Model):
    rules: list[RoutingRule] = Field(default_factory=list)
    default_team: str | None = None
    account_owners: dict[str, EmailStr] = Field(default_factory=dict)


class Channels(_Model):
    marketing_feedback: ChannelRef | None = None
    managers: ChannelRef | None = None
    # Where delivery tells the admins that messages were parked; the managers channel if unset.
    ops: ChannelRef | None = None


class RejectionReason(_Model):
    code: str = Field(pattern=r"^[a-z0-9_]+$", max_length=40)
    label: str = Field(min_length=1, max_length=75)
    outcome: Literal["recycle", "disqualify"]
    note_required: bool = False


SlaAction = Literal["nudge", "escalate", "reassign"]


class SlaStep(_Model):
    after: Duration
    action: SlaAction


class Cadence(_Model):
    window: Duration
    calls: int = Field(default=0, ge=0)
    emails: int = Field(default=0, ge=0)


class SlaPolicy(_Model):
    """Chains of steps, each ``after`` a delay counted from the offer (or the acceptance)."""

    business_hours: bool = False
    accept: list[SlaStep] = Field(default_factory=list)
    when_exhausted: Literal["channel", "repeat", "stop"] = "channel"
    first_touch: list[SlaStep] = Field(default_factory=list)
    cadence: Cadence | None = None

    @field_validator("accept", "first_touch")
    @classmethod
    def _ordered(cls, steps: list[SlaStep]) -> list[SlaStep]:
        for before, after in zip(steps, steps[1:], strict=False):
            if after.after <= before.after:
                raise ValueError("steps must be in increasing order of `after`")
        return steps

    @model_validator(mode="after")
    def _no_reassign_after_accept(self) -> SlaPolicy:
        if any(s.action == "reassign" for s in self.first_touch):
            raise ValueError("first_touch steps may only nudge or escalate")
        return self


def _default_policies() -> dict[str, SlaPolicy]:
    return {"default": SlaPolicy()}


class Sla(_Model):
    policies: dict[str, SlaPolicy] = Field(default_factory=_default_policies)


class Commitment(_Model):
    mqls_per_quarter: int = Field(default=0, ge=0)


class Digest(_Model):
    day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    time: str = Field(default="08:00", pattern=r"^\d{2}:\d{2}$")
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        return _check_timezone(value)


class Roles(_Model):
    admins: list[EmailStr] = Field(default_factory=list)
    marketing: list[Person] = Field(default_factory=list)


WebhookEvent = Literal[
    "lead.qualified",
    "lead.offered",
    "lead.accepted",
    "lead.rejected",
    "lead.touched",
    "lead.sql",
    "lead.unreachable",
    "lead.escalated",
    "lead.opportunity",
    "lead.won",
    "lead.lost",
]


class Webhook(_Model):
    url: str = Field(pattern=r"^https?://")
    events: list[WebhookEvent] = Field(min_length=1)


class Retention(_Model):
    contact_details_after: Duration | None = None
    # How long a refused lead's payload is kept as an intake failure (issue 15); contact details
    # go sooner if contact_details_after is shorter.
    intake_failures_for: Duration = timedelta(days=30)


class Agreement(_Model):
    """The whole agreement. Build it with ``scoring.agreement_check.load_agreement``."""

    definition: Definition = Field(default_factory=Definition)
    stages: Stages = Field(default_factory=Stages)
    qualification: Qualification = Field(default_factory=Qualification)
    scoring: Scoring = Field(default_factory=Scoring)
    teams: list[Team] = Field(min_length=1)
    routing: Routing = Field(default_factory=Routing)
    channels: Channels = Field(default_factory=Channels)
    rejection_reasons: list[RejectionReason] = Field(min_length=1)
    sla: Sla = Field(default_factory=Sla)
    commitment: Commitment = Field(default_factory=Commitment)
    digest: Digest = Field(default_factory=Digest)
    roles: Roles = Field(default_factory=Roles)
    holidays: list[date] = Field(default_factory=list)
    webhooks: list[Webhook] = Field(default_factory=list)
    retention: Retention = Field(default_factory=Retention)
    import_columns: dict[str, str] = Field(default_factory=dict, alias="import")
    sources: list[Source] = Field(default_factory=list)
    crm_actions: list[CrmAction] = Field(default_factory=list)

    @field_validator("crm_actions")
    @classmethod
    def _unique_crm_actions(cls, value: list[CrmAction]) -> list[CrmAction]:
        names = [a.name for a in value]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"crm action names must be unique: {', '.join(repeated)}")
        return value

    def crm_action(self, name: str) -> CrmAction | None:
        return next((a for a in self.crm_actions if a.name == name), None)

    @field_validator("sources")
    @classmethod
    def _unique_sources(cls, value: list[Source]) -> list[Source]:
        names = [s.name for s in value]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"source names must be unique: {', '.join(repeated)}")
        return value

    def source(self, name: str) -> Source | None:
        return next((s for s in self.sources if s.name == name), None)

    def team(self, name: str) -> Team | None:
        return next((t for t in self.teams if t.name == name), None)

    def reason(self, code: str) -> RejectionReason | None:
        return next((r for r in self.rejection_reasons if r.code == code), None)

    def reps(self) -> list[tuple[Team, Rep]]:
        return list(self.directory.reps)

    def rep(self, email: str) -> tuple[Team, Rep] | None:
        return self.directory.rep_by_email.get(email.lower())

    def people(self) -> list[Person]:
        """Everyone Baton knows, reps first, each email once."""
        return list(self.directory.people)

    def person_by(
        self,
        *,
        email: str | None = None,
        platform: str | None = None,
        id: str | None = None,
        slack_id: str | None = None,
        teams_id: str | None = None,
    ) -> Person | None:
        """The first person (in ``people()`` order) with any of the given identities.

        ``platform=`` with ``id=`` looks up a chat id; ``slack_id=``/``teams_id=`` are the same for those two."""
        ids: dict[str, str | None] = {"slack": slack_id, "teams": teams_id}
        if platform is not None:
            ids[platform] = id
        return self.directory.find(email, ids)

    @cached_property
    def directory(self) -> Directory:
        # Looked up several times per card and per SLA step; the agreement is frozen, so index it
        # once. (A model_copy would carry this index over: build a new Agreement instead.)
        return Directory.of(self)

    def managed_teams(self, email: str) -> list[Team]:
        email = email.lower()
        return [t for t in self.teams if any(m.email.lower() == email for m in t.managers)]
