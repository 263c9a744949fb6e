"""View-models: what Baton shows, as data. ``bot/slack`` and ``bot/teams`` render them.

Views travel through the outbox as JSON, so each has a ``type`` tag and is
registered here to be loaded back. All text in a view is raw; escaping is the
renderer's job, because only the renderer knows the target markup.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

_VIEWS: dict[str, type[BaseModel]] = {}
V = TypeVar("V", bound=type[BaseModel])


def register_view(cls: V) -> V:
    model: type[BaseModel] = cls
    tag = model.model_fields["type"].default
    if not isinstance(tag, str) or tag in _VIEWS:
        raise TypeError(f"view {cls.__name__} needs a unique default `type` tag")
    _VIEWS[tag] = cls
    return cls


def load_view(data: dict[str, Any]) -> BaseModel:
    """Rebuild a view from its JSON form (as stored in the outbox)."""
    # Import for their registration side effect; views live in small modules of their own.
    from handlers.views import lead_card, notice, reject_form  # noqa: F401

    try:
        cls = _VIEWS[data["type"]]
    except KeyError:
        raise ValueError(f"unknown view type {data.get('type')!r}") from None
    return cls.model_validate(data)
