"""Stand-ins for HubSpot's and Salesforce's record-update APIs, written from their public docs and
behaving at their worst when told to: 429 with Retry-After, an expired token (401), a 5xx HTML
page, 4xx validation errors in the vendor's own error shape.

HubSpot (CRM v3 objects API, private app access token):
``PATCH /crm/v3/objects/contacts/{contactId}`` with ``Authorization: Bearer <token>`` and
``{"properties": {...}}``; 200 with the updated object; errors are
``{"status": "error", "message", "correlationId", "category"}`` (``INVALID_AUTHENTICATION``,
``VALIDATION_ERROR``, ``OBJECT_NOT_FOUND``); a 429 adds ``errorType: RATE_LIMIT`` and ``policyName``.
An unknown property, a ``hs_lead_status`` outside its options or an owner id that is no owner is
a 400 ``VALIDATION_ERROR`` naming it.

Salesforce (REST API and OAuth 2.0 client credentials flow):
``POST /services/oauth2/token`` with a form ``grant_type=client_credentials&client_id&client_secret``
→ ``{"access_token", "signature", "instance_url", "id", "token_type": "Bearer", "issued_at"}`` (no
``expires_in``); bad client → 400 ``{"error": "invalid_client", "error_description"}``.
``PATCH /services/data/vXX.X/sobjects/Lead/{id}`` with ``Authorization: Bearer <token>`` and the
fields as a JSON object → 204 No Content; errors are a JSON list of
``{"message", "errorCode", "fields"}``: 401 ``INVALID_SESSION_ID`` ("Session expired or invalid"),
400 ``INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST`` for a Status not in the picklist,
``MALFORMED_ID``/``FIELD_INTEGRITY_EXCEPTION`` for an OwnerId that is no user, 404 ``NOT_FOUND``.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

HUBSPOT_STATUSES = {
    "NEW",
    "OPEN",
    "IN_PROGRESS",
    "OPEN_DEAL",
    "UNQUALIFIED",
    "ATTEMPTED_TO_CONTACT",
    "CONNECTED",
    "BAD_TIMING",
}
SALESFORCE_STATUSES = {"Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted"}
HTML_503 = "<html><head><title>Service Unavailable</title></head><body><h1>503 Service Unavailable</h1></body></html>"


@dataclass
class Scripted:
    """One answer to give instead of the normal one: status, body (str) and headers."""

    status: int
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class _Fake:
    def __init__(self) -> None:
        self.app = web.Application()
        self.server: TestServer | None = None
        self.received: list[Received] = []
        self.script: list[Scripted] = []  # answered first, in order, before the normal behaviour

    async def start(self) -> str:
        self.server = TestServer(self.app, host="127.0.0.1")
        await self.server.start_server()
        return self.url

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.port}"

    async def _record(self, request: web.Request) -> Received:
        got = Received(request.method, request.path_qs, dict(request.headers), await request.read())
        self.received.append(got)
        return got

    def _scripted(self) -> web.Response | None:
        if not self.script:
            return None
        answer = self.script.pop(0)
        return web.Response(
            status=answer.status, text=answer.body, headers=answer.headers, content_type=answer.content_type
        )


class HubSpotFake(_Fake):
    def __init__(self, token: str, owners: set[str], contacts: set[str]) -> None:
        super().__init__()
        self.token, self.owners, self.contacts = token, owners, contacts
        self.properties: dict[str, dict[str, str]] = {c: {} for c in contacts}
        self.app.router.add_patch("/crm/v3/objects/contacts/{contact_id}", self.update_contact)

    @staticmethod
    def error(status: int, category: str, message: str, **extra: Any) -> web.Response:
        body = {"status": "error", "message": message, "correlationId": secrets.token_hex(8), "category": category}
        return web.json_response({**body, **extra}, status=status)

    def rate_limited(self, retry_after: str = "10") -> Scripted:
        body = {
            "status": "error",
            "message": "You have reached your secondly limit.",
            "errorType": "RATE_LIMIT",
            "correlationId": secrets.token_hex(8),
            "policyName": "SECONDLY",
        }
        return Scripted(429, json.dumps(body), {"Retry-After": retry_after})

    async def update_contact(self, request: web.Request) -> web.Response:
        got = await self._record(request)
        if (scripted := self._scripted()) is not None:
            return scripted
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return self.error(
                401,
                "INVALID_AUTHENTICATION",
                "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can "
                "find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
            )
        if request.content_type != "application/json":
            return self.error(415, "VALIDATION_ERROR", "Unsupported Media Type")
        try:
            body = got.json()
        except ValueError:
            return self.error(400, "VALIDATION_ERROR", "Invalid input JSON on line 1")
        contact = request.match_info["contact_id"]
        if contact not in self.contacts:
            return self.error(404, "OBJECT_NOT_FOUND", "resource not found")
        properties = body.get("properties") if isinstance(body, dict) else None
        if not isinstance(properties, dict) or set(body) - {"properties"}:
            return self.error(400, "VALIDATION_ERROR", 'Invalid input JSON: expected {"properties": {...}}')
        problems = []
        for name, value in properties.items():
            if name == "hs_lead_status" and value not in HUBSPOT_STATUSES:
                problems.append(
                    {
                        "isValid": False,
                        "message": f"{value} was not one of the allowed options",
                        "error": "INVALID_OPTION",
                        "name": name,
                    }
                )
            elif name == "hubspot_owner_id" and str(value) not in self.owners:
                problems.append(
                    {
                        "isValid": False,
                        "message": f"{value} is not a valid owner id",
                        "error": "INVALID_OWNER_ID",
                        "name": name,
                    }
                )
            elif name not in {"hs_lead_status", "hubspot_owner_id", "lifecyclestage"}:
                problems.append(
                    {
                        "isValid": False,
                        "message": f'Property "{name}" does not exist',
                        "error": "PROPERTY_DOESNT_EXIST",
                        "name": name,
                    }
                )
        if problems:
            return self.error(400, "VALIDATION_ERROR", f"Property values were not valid: {json.dumps(problems)}")
        self.properties[contact].update({k: str(v) for k, v in properties.items()})
        return web.json_response(
            {
                "id": contact,
                "properties": self.properties[contact],
                "createdAt": "2026-11-01T10:00:00.000Z",
                "updatedAt": "2026-11-23T15:00:00.000Z",
                "archived": False,
            }
        )


class SalesforceFake(_Fake):
    def __init__(self, client_id: str, client_secret: str, users: set[str], leads: set[str]) -> None:
        super().__init__()
        self.client_id, self.client_secret, self.users, self.leads = client_id, client_secret, users, leads
        self.tokens: set[str] = set()
        self.token_requests: list[dict[str, str]] = []
        self.fields: dict[str, dict[str, Any]] = {lead: {} for lead in leads}
        self.app.router.add_post("/services/oauth2/token", self.token)
        self.app.router.add_patch("/services/data/{version}/sobjects/Lead/{lead_id}", self.update_lead)

    def expire_sessions(self) -> None:
        """Every token issued so far stops working (a session timeout or a revoked app)."""
        self.tokens.clear()

    @staticmethod
    def errors(status: int, code: str, message: str, fields: list[str] | None = None) -> web.Response:
        item: dict[str, Any] = {"message": message, "errorCode": code}
        if fields is not None:
            item["fields"] = fields
        return web.json_response([item], status=status)

    async def token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.token_requests.append({k: str(v) for k, v in form.items()})
        if form.get("grant_type") != "client_credentials":
            return web.json_response(
                {"error": "unsupported_grant_type", "error_description": "grant type not supported"}, status=400
            )
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return web.json_response(
                {"error": "invalid_client", "error_description": "invalid client credentials"}, status=400
            )
        token = "00D000000000001!" + secrets.token_urlsafe(24)
        self.tokens.add(token)
        return web.json_response(
            {
                "access_token": token,
                "signature": secrets.token_urlsafe(16),
                "instance_url": self.url,
                "id": f"{self.url}/id/00D000000000001EAA/005000000000001AAA",
                "token_type": "Bearer",
                "issued_at": "1795446000000",
            }
        )

    async def update_lead(self, request: web.Request) -> web.Response:
        got = await self._record(request)
        if (scripted := self._scripted()) is not None:
            return scripted
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or header.removeprefix("Bearer ") not in self.tokens:
            return self.errors(401, "INVALID_SESSION_ID", "Session expired or invalid")
        try:
            body = got.json()
        except ValueError:
            return self.errors(400, "JSON_PARSER_ERROR", "Unexpected character: was expecting JSON")
        lead = request.match_info["lead_id"]
        if lead not in self.leads:
            return self.errors(404, "NOT_FOUND", "The requested resource does not exist")
        if not isinstance(body, dict):
            return self.errors(400, "JSON_PARSER_ERROR", "Cannot deserialize instance of Lead from a non-object")
        for name in body:
            if name not in {"OwnerId", "Status"}:
                return self.errors(400, "INVALID_FIELD", f"No such column '{name}' on sobject of type Lead")
        if "Status" in body and body["Status"] not in SALESFORCE_STATUSES:
            return self.errors(
                400,
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                f"Lead Status: bad value for restricted picklist field: {body['Status']}",
                ["Status"],
            )
        if "OwnerId" in body and body["OwnerId"] not in self.users:
            return self.errors(
                400, "FIELD_INTEGRITY_EXCEPTION", "Owner ID: owner cannot be inactive or unknown", ["OwnerId"]
            )
        self.fields[lead].update(body)
        return web.Response(status=204)

    def unavailable(self) -> Scripted:
        return Scripted(503, HTML_503, content_type="text/html")
