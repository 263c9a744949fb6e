"""Salesforce Outbound Messages: the SOAP ``notifications`` call in, ``<Ack>true</Ack>`` or a fault out.

The request is the ``notifications`` element of the outbound-messaging WSDL inside a SOAP 1.1
envelope: ``OrganizationId``, ``ActionId``, ``SessionId``, ``EnterpriseUrl``, ``PartnerUrl`` and
up to 100 ``Notification`` elements, each an ``Id`` and the ``sObject`` with the fields chosen in
Setup. XML is parsed by defusedxml: a DTD, entity declarations or external references are refused
(no billion laughs, no file or network reads), and the body is bounded by the app's size limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND = "http://soap.sforce.com/2005/09/outbound"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
MAX_NOTIFICATIONS = 100  # the WSDL's maxOccurs
MAX_DEPTH = 8  # Envelope/Body/notifications/Notification/sObject/field is 6
CONTENT_TYPE = "text/xml; charset=utf-8"

ACK = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}">'
    "<soapenv:Body>"
    f'<notificationsResponse xmlns="{OUTBOUND}"><Ack>true</Ack></notificationsResponse>'
    "</soapenv:Body>"
    "</soapenv:Envelope>"
)


class SoapError(Exception):
    """The message cannot be taken: each problem is named in the fault."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Notification:
    id: str | None
    record: dict[str, Any]  # the sObject's fields by local name; xsi:nil fields are None


@dataclass(frozen=True)
class OutboundMessage:
    organization_id: str | None
    action_id: str | None
    notifications: list[Notification]


def fault(message: str, problems: list[str], code: str = "Client") -> str:
    """A SOAP 1.1 fault naming every problem (``faultstring`` the summary, ``detail`` each one)."""
    details = "".join(f"<problem>{escape(p)}</problem>" for p in problems)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}">'
        "<soapenv:Body><soapenv:Fault>"
        f"<faultcode>soapenv:{code}</faultcode>"
        f"<faultstring>{escape(message)}</faultstring>"
        f'<detail><problems xmlns="urn:baton">{details}</problems></detail>'
        "</soapenv:Fault></soapenv:Body>"
        "</soapenv:Envelope>"
    )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _depth(root: Element) -> int:
    deepest, stack = 0, [(root, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth <= MAX_DEPTH:
            stack.extend((child, depth + 1) for child in node)
    return deepest


def _text(element: Element | None) -> str | None:
    if element is None or element.get(f"{{{XSI}}}nil") == "true":
        return None
    return (element.text or "").strip()


def parse(body: bytes) -> OutboundMessage:
    """The outbound message in ``body``; raises ``SoapError`` naming what is wrong."""
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise SoapError(
            [f"the XML declares a DTD, entities or external references, which are refused ({exc})"]
        ) from None
    except ParseError as exc:
        raise SoapError([f"the body is not well-formed XML: {exc}"]) from None
    if _depth(root) > MAX_DEPTH:
        raise SoapError([f"the XML nests elements more than {MAX_DEPTH} deep"])
    if root.tag != f"{{{SOAP_ENV}}}Envelope":
        raise SoapError([f"the root element is {_local(root.tag)!r}, not a SOAP 1.1 Envelope"])
    body_element = root.find(f"{{{SOAP_ENV}}}Body")
    call = body_element.find(f"{{{OUTBOUND}}}notifications") if body_element is not None else None
    if call is None:
        raise SoapError([f"no notifications element (namespace {OUTBOUND}) in the SOAP Body"])
    items = call.findall(f"{{{OUTBOUND}}}Notification")
    if not items:
        raise SoapError(["the message holds no Notification"])
    if len(items) > MAX_NOTIFICATIONS:
        raise SoapError([f"{len(items)} notifications in one message; Salesforce sends at most {MAX_NOTIFICATIONS}"])
    notifications = []
    problems = []
    for i, item in enumerate(items):
        sobject = item.find(f"{{{OUTBOUND}}}sObject")
        if sobject is None:
            problems.append(f"Notification[{i}]: no sObject")
            continue
        record: dict[str, Any] = {}
        for field in sobject:
            record.setdefault(_local(field.tag), _text(field))
        notifications.append(Notification(_text(item.find(f"{{{OUTBOUND}}}Id")), record))
    if problems:
        raise SoapError(problems)
    return OutboundMessage(
        _text(call.find(f"{{{OUTBOUND}}}OrganizationId")),
        _text(call.find(f"{{{OUTBOUND}}}ActionId")),
        notifications,
    )
