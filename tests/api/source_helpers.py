"""The sources the source tests configure, and requests signed as HubSpot and Baton sign them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.api.auth import sign
from bot.api.source_auth import hubspot_sign

FIXTURES = Path(__file__).resolve().parent / "fixtures"
HUBSPOT_SECRET = "fake-hubspot-client-secret-0000"
JSON_TOKEN = "fake-json-source-token-0000"
HMAC_SECRET = "fake-hmac-source-secret-0000"
ORG_ID = "00D000000000062EAA"
FLOW_TOKEN = "fake-flow-token-0000"
MARKETO_TOKEN = "fake-marketo-token-0000"
SECRETS = {
    "BATON_SOURCE_FLOW": FLOW_TOKEN,
    "BATON_SOURCE_MARKETO": MARKETO_TOKEN,
    "BATON_SOURCE_HUBSPOT_SECRET": HUBSPOT_SECRET,
    "BATON_SOURCE_FORMS_TOKEN": JSON_TOKEN,
    "BATON_SOURCE_SIGNED_SECRET": HMAC_SECRET,
}
SOURCES: list[dict[str, Any]] = [
    {"name": "hubspot", "preset": "hubspot", "auth": {"kind": "hubspot", "secret_env": "BATON_SOURCE_HUBSPOT_SECRET"}},
    {"name": "salesforce", "preset": "salesforce", "auth": {"kind": "salesforce", "organization_id": ORG_ID}},
    {
        "name": "forms",
        "auth": {"kind": "bearer", "secret_env": "BATON_SOURCE_FORMS_TOKEN"},
        "fields": {
            "external_id": "submission.id",
            "email": "submission.contact.email",
            "first_name": "submission.contact.first",
            "title": "submission.contact.role",
            "company": "submission.company.name",
            "employees": "submission.company.size",
            "industry": "submission.company.sector",
            "country": "submission.company.country",
        },
        "custom": {"utm_medium": "submission.utm.medium"},
        "activities": "submission.events[].{type: kind, occurred_at: at}",
        "defaults": {"source": "website form", "country": "US"},
    },
    {"name": "flow", "preset": "salesforce_flow", "auth": {"kind": "bearer", "secret_env": "BATON_SOURCE_FLOW"}},
    {"name": "marketo", "preset": "marketo", "auth": {"kind": "bearer", "secret_env": "BATON_SOURCE_MARKETO"}},
    {
        "name": "forms-each",
        "auth": {"kind": "bearer", "secret_env": "BATON_SOURCE_FORMS_TOKEN"},
        "per_lead": True,
        "fields": {
            "external_id": "submission.id",
            "email": "submission.contact.email",
            "employees": "submission.company.size",
        },
        "defaults": {"title": "VP Sales", "industry": "software", "country": "US", "company": "Prospect A"},
    },
    {
        "name": "dialer",
        "auth": {"kind": "bearer", "secret_env": "BATON_SOURCE_FORMS_TOKEN"},
        "per_lead": True,
        "fields": {"external_id": "lead.external_id", "email": "lead.email"},
        "touches": "calls[].{kind: 'call', rep: agent_email, at: started_at, outcome: disposition, id: call_id}",
    },
    {
        "name": "deals",
        "auth": {"kind": "bearer", "secret_env": "BATON_SOURCE_FORMS_TOKEN"},
        "per_lead": True,
        "fields": {"external_id": "contact.id", "email": "contact.email"},
        "outcome": "deal.{outcome: stage, amount: amount, currency: currency, reason: lost_reason, crm_id: id}",
    },
    {
        "name": "signed",
        "auth": {"kind": "hmac", "secret_env": "BATON_SOURCE_SIGNED_SECRET"},
        "fields": {"external_id": "id", "email": "email"},
    },
]


def hubspot_contact(**properties: str) -> dict[str, Any]:
    """HubSpot's workflow webhook body for a contact, with some property values replaced."""
    contact: dict[str, Any] = json.loads((FIXTURES / "hubspot_workflow_contact.json").read_text())
    for name, value in properties.items():
        contact["properties"][name] = {"value": value, "versions": []}
    return contact


def hubspot_headers(url: str, body: bytes, now_ms: int, secret: str = HUBSPOT_SECRET) -> dict[str, str]:
    timestamp = str(now_ms)
    return {
        "Content-Type": "application/json",
        "X-HubSpot-Signature-v3": hubspot_sign(secret, "POST", url, body, timestamp),
        "X-HubSpot-Request-Timestamp": timestamp,
    }


def baton_headers(body: bytes, now: int, secret: str = HMAC_SECRET) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Baton-Timestamp": str(now),
        "X-Baton-Signature": sign(secret, str(now), body),
    }


def salesforce_message(count: int = 1, org_id: str = ORG_ID, **fields: str | None) -> bytes:
    """The documented Outbound Message with ``count`` Lead notifications (ids and emails made unique)."""
    text = (FIXTURES / "salesforce_outbound_lead.xml").read_text()
    head, rest = text.split("<Notification>", 1)
    notification, tail = rest.split("</Notification>", 1)
    for name, value in fields.items():
        start = notification.index(f"<sf:{name}")
        end = notification.index("\n", start)
        notification = (
            notification[:start] + (f"<sf:{name}>{value}</sf:{name}>" if value is not None else "") + notification[end:]
        )
    items = []
    for i in range(count):
        one = notification.replace("00Q000000000001AAA", f"00Q{i:012d}AAA").replace(
            "04l000000000001AAA", f"04l{i:012d}AAA"
        )
        items.append("<Notification>" + one.replace("pat.prospect@", f"pat.prospect{i}@") + "</Notification>")
    return (head.replace("00D000000000062EAA", org_id) + "".join(items) + tail).encode()


XML = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}


async def kept_failures(db: Any) -> list[Any]:
    """The intake failures kept, oldest first."""
    from sqlalchemy import select

    from store.models import IntakeFailure

    async with db.transaction() as session:
        return list((await session.scalars(select(IntakeFailure).order_by(IntakeFailure.id))).all())


async def assert_no_lead_written(db: Any) -> None:
    """Nothing intake writes for a lead; only intake failures and the admins' alert about them."""
    from sqlalchemy import select

    from store.models import OutboxMessage
    from tests.api.intake_helpers import WRITTEN, counts

    found = await counts(db)
    async with db.transaction() as session:
        keys = list(await session.scalars(select(OutboxMessage.dedupe_key)))
    assert all(k and ":delivery-alert:intake:" in f":{k}" for k in keys), keys
    assert {k: v for k, v in found.items() if k != "OutboxMessage"} == dict.fromkeys(
        (m.__name__ for m in WRITTEN if m.__name__ != "OutboxMessage"), 0
    )
