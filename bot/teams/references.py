"""Where Baton may speak later: ``ConversationReference``s captured from every incoming activity.

A personal chat is stored under the user's AAD object id, their email (when known) and the
conversation id; a group chat under its conversation id; a channel under its channel id and the
conversation id. Storing again (a re-install, the next message) refreshes the reference and
clears ``gone``.

**Teams.** An app is added to a team, not to a channel: Teams says so once, in General
(``conversationUpdate`` with the bot in ``membersAdded``, or ``installationUpdate``), with
``channelData.team``. That reference is also stored under the kind ``team`` (key ``team:<id>``),
and every channel row of a team records ``team_id`` beside the reference, so that a channel
Baton never heard from is found by listing the team's channels (``bot.teams.team_channels``)
and removing the app from the team marks all its channels gone. Channel ids survive a rename.
"""

from __future__ import annotations

from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ConversationReference
from sqlalchemy import select, update

from handlers.services import Services
from store.models import Conversation
from store.upsert import insert_or_update

PLATFORM = "teams"


def base_conversation_id(conversation_id: str) -> str:
    """A channel thread's id without its ``;messageid=…`` suffix: the channel's conversation."""
    return conversation_id.split(";messageid=", 1)[0]


def tenant_of(activity: Activity) -> str | None:
    if activity.conversation and activity.conversation.tenant_id:
        return str(activity.conversation.tenant_id)
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = data.get("tenant") or {}
    return str(tenant["id"]) if isinstance(tenant, dict) and tenant.get("id") else None


def team_of(activity: Activity) -> str | None:
    """``channelData.team.id``: the team a channel activity (or a team install) belongs to."""
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    team = data.get("team") or {}
    return str(team["id"]) if isinstance(team, dict) and team.get("id") else None


def team_key(team_id: str) -> str:
    """A team's own key: General's channel id is the team id, so the bare id is General's row."""
    return f"team:{team_id}"


def keys_for(activity: Activity, email: str | None) -> list[tuple[str, str]]:
    """(kind, key) pairs this activity's conversation is reachable under."""
    conversation = activity.conversation
    if conversation is None or not conversation.id:
        return []
    kind = conversation.conversation_type or "personal"  # the Emulator sends no type
    keys: list[tuple[str, str]] = [("conversation", base_conversation_id(conversation.id))]
    if kind == "personal":
        sender = activity.from_property
        if sender is not None and sender.aad_object_id:
            keys.append(("user", sender.aad_object_id))
        if email:
            keys.append(("user", email.lower()))
    elif kind == "channel":
        data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
        channel = data.get("channel") or {}
        if isinstance(channel, dict) and channel.get("id"):
            keys.append(("channel", str(channel["id"])))
        if team := team_of(activity):
            keys.append(("team", team_key(team)))
    return list(dict.fromkeys(keys))


def reference_for(activity: Activity) -> dict[str, Any]:
    reference = TurnContext.get_conversation_reference(activity)
    if reference.conversation is not None and reference.conversation.id:
        # Proactive posts go to the channel (a new thread), not into the thread we were spoken to in.
        reference.conversation.id = base_conversation_id(reference.conversation.id)
    reference.activity_id = None
    data: dict[str, Any] = reference.serialize()
    return data


async def remember(services: Services, activity: Activity, email: str | None) -> int:
    """Store (or refresh) the reference under every key; returns how many keys were written."""
    keys = keys_for(activity, email)
    if not keys or not activity.service_url:
        return 0
    reference = reference_for(activity)
    team = team_of(activity)
    if team:
        reference["team_id"] = team
    tenant = tenant_of(activity)
    channels = [key for kind, key in keys if kind == "channel"]
    await store(services, [k for k in keys if k[0] != "channel"], reference, tenant)
    if team and not _uninstall_event(activity):
        await revive_team(services, team)
    for channel in channels:
        # A channel event (created, renamed) may arrive in General's conversation: post to the channel itself.
        await store(services, [("channel", channel)], with_conversation(reference, channel), tenant)
    return len(keys)


def _uninstall_event(activity: Activity) -> bool:
    return bool(activity.type == "installationUpdate" and activity.action == "remove")


async def revive_team(services: Services, team_id: str) -> None:
    """The app is (again) in this team: its channels, marked gone by an uninstall, are reachable again
    (a channel deleted meanwhile answers 404 on the next post and is marked gone once more)."""
    async with services.db.transaction() as session:
        rows = (
            await session.scalars(
                select(Conversation).where(Conversation.platform == PLATFORM, Conversation.gone.is_(True))
            )
        ).all()
        keys = [row.key for row in rows if row.reference.get("team_id") == team_id]
        if keys:
            await session.execute(
                update(Conversation)
                .where(Conversation.platform == PLATFORM, Conversation.key.in_(keys))
                .values(gone=False)
            )


def with_conversation(reference: dict[str, Any], conversation_id: str) -> dict[str, Any]:
    """``reference`` pointed at another conversation of the same team (a channel)."""
    conversation = dict(reference.get("conversation") or {})
    conversation["id"] = conversation_id
    return {**reference, "conversation": conversation}


async def store(
    services: Services, keys: list[tuple[str, str]], reference: dict[str, Any], tenant_id: str | None
) -> None:
    if not keys:
        return
    now = services.clock.now()
    async with services.db.transaction() as session:
        for kind, key in keys:
            values = {"kind": kind, "reference": reference, "tenant_id": tenant_id, "gone": False, "updated_at": now}
            # An upsert, so two first messages racing on two replicas do not collide.
            await insert_or_update(
                session,
                Conversation,
                {"platform": PLATFORM, "key": key, **values},
                on=("platform", "key"),
                update=values,
            )


async def find(services: Services, *keys: str | None) -> Conversation | None:
    """The first stored conversation among ``keys`` (in order), gone or not."""
    wanted = [k for k in keys if k]
    if not wanted:
        return None
    async with services.db.read() as session:
        rows = {
            row.key: row
            for row in (
                await session.scalars(
                    select(Conversation).where(Conversation.platform == PLATFORM, Conversation.key.in_(wanted))
                )
            ).all()
        }
    return next((rows[k] for k in wanted if k in rows), None)


async def any_in_tenant(services: Services, tenant_id: str | None) -> Conversation | None:
    """Any live conversation (for its service URL), preferring the given tenant."""
    async with services.db.read() as session:
        query = select(Conversation).where(Conversation.platform == PLATFORM, Conversation.gone.is_(False))
        if tenant_id:
            query = query.where(Conversation.tenant_id == tenant_id)
        return await session.scalar(query.order_by(Conversation.updated_at.desc()).limit(1))


async def teams(services: Services) -> list[Conversation]:
    """Every live team Baton was installed in (newest first)."""
    async with services.db.read() as session:
        query = select(Conversation).where(
            Conversation.platform == PLATFORM, Conversation.kind == "team", Conversation.gone.is_(False)
        )
        return list((await session.scalars(query.order_by(Conversation.updated_at.desc()))).all())


async def mark_gone(services: Services, conversation_id: str, team_id: str | None = None) -> int:
    """Stop sending to a conversation the bot was removed from (with ``team_id``, to every channel
    of that team); returns how many keys were marked."""
    async with services.db.transaction() as session:
        rows = (await session.scalars(select(Conversation).where(Conversation.platform == PLATFORM))).all()
        gone = [
            row.key
            for row in rows
            if row.key == conversation_id
            or (row.reference.get("conversation") or {}).get("id") == conversation_id
            or (team_id is not None and row.reference.get("team_id") == team_id)
        ]
        if gone:
            await session.execute(
                update(Conversation)
                .where(Conversation.platform == PLATFORM, Conversation.key.in_(gone))
                .values(gone=True)
            )
    return len(gone)


def as_reference(row: Conversation) -> ConversationReference:
    stored = {k: v for k, v in row.reference.items() if k != "team_id"}  # ours, not the Bot Framework's
    reference: ConversationReference = ConversationReference().deserialize(stored)
    return reference
