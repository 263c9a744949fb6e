"""A touch as the touches API (and a source's ``touches`` mapping) takes it."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, model_validator

from handlers.intake.input import Line, _in_range

TouchKind = Literal["call", "email", "meeting"]


class TouchIn(BaseModel):
    """``kind``; when it happened (``at``, default: now); the rep by ``rep`` (email) or
    ``rep_crm_id`` (their CRM user id, ``crm_id`` in the agreement); the CRM's ``outcome``;
    and its ``id`` for the touch, which makes sending it again harmless."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: TouchKind
    at: Annotated[AwareDatetime, AfterValidator(_in_range)] | None = None
    rep: EmailStr | None = None
    rep_crm_id: Line | None = Field(default=None, min_length=1, max_length=64)
    outcome: Line | None = Field(default=None, min_length=1, max_length=200)
    id: Line | None = Field(default=None, min_length=1, max_length=128)

    @model_validator(mode="after")
    def _one_rep(self) -> TouchIn:
        if (self.rep is None) == (self.rep_crm_id is None):
            raise ValueError("name the rep by exactly one of rep (their email) or rep_crm_id (their CRM user id)")
        return self
