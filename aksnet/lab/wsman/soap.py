"""WS-Management SOAP envelopes: parse a request, build a response or a WSMan fault."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "wsa": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "wsman": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "wst": "http://schemas.xmlsoap.org/ws/2004/09/transfer",
    "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
    "wsmanfault": "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault",
    "cfg": "http://schemas.microsoft.com/wbem/wsman/1/config",
}
for _prefix, _uri in NS.items():
    ET.register_namespace(_prefix, _uri)

SHELL_ACTION = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/"
TRANSFER_ACTION = "http://schemas.xmlsoap.org/ws/2004/09/transfer/"
FAULT_ACTION = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"
ANONYMOUS = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
DEFAULT_OPERATION_TIMEOUT = 60.0
DEFAULT_MAX_ENVELOPE = 153600  # what WinRM assumes when a request names no MaxEnvelopeSize


class SoapError(ValueError):
    """The request is not a WS-Management envelope this server understands."""


def q(name: str) -> str:
    """'rsp:Shell' -> '{http://...shell}Shell' (ElementTree's qualified name)."""
    prefix, local = name.split(":")
    return f"{{{NS[prefix]}}}{local}"


@dataclass(frozen=True)
class Request:
    """The parts of a WSMan request the server dispatches on."""

    action: str
    message_id: str
    resource_uri: str
    operation_timeout: float
    max_envelope_size: int
    selectors: dict[str, str]
    options: dict[str, str]
    body: ET.Element = field(repr=False)

    @property
    def verb(self) -> str:
        """The last segment of the action: Create, Command, Receive, ..."""
        return self.action.rsplit("/", 1)[-1]

    @property
    def shell_id(self) -> str:
        return self.selectors.get("ShellId", "").upper()


def parse_duration(text: str | None, default: float) -> float:
    """xs:duration as WSMan clients send it ("PT20S", "PT20.000S") -> seconds."""
    if not text:
        return default
    value = text.strip()
    if not (value.startswith("PT") and value.endswith("S")):
        return default
    try:
        return float(value[2:-1])
    except ValueError:
        return default


def parse_request(data: bytes) -> Request:
    """Parse the SOAP envelope of one request."""
    try:
        env = ET.fromstring(data)
    except ET.ParseError as exc:
        raise SoapError(f"request is not well-formed XML: {exc}") from exc
    header, body = env.find("s:Header", NS), env.find("s:Body", NS)
    if header is None or body is None:
        raise SoapError("request is not a SOAP 1.2 envelope with Header and Body")
    size_text = header.findtext("wsman:MaxEnvelopeSize", default="", namespaces=NS).strip()
    return Request(
        action=header.findtext("wsa:Action", default="", namespaces=NS).strip(),
        message_id=header.findtext("wsa:MessageID", default="", namespaces=NS).strip(),
        resource_uri=header.findtext("wsman:ResourceURI", default="", namespaces=NS).strip(),
        operation_timeout=parse_duration(
            header.findtext("wsman:OperationTimeout", namespaces=NS), DEFAULT_OPERATION_TIMEOUT
        ),
        max_envelope_size=int(size_text) if size_text.isdigit() else DEFAULT_MAX_ENVELOPE,
        selectors={
            s.get("Name", ""): (s.text or "")
            for s in header.findall("wsman:SelectorSet/wsman:Selector", NS)
        },
        options={
            o.get("Name", ""): (o.text or "")
            for o in header.findall("wsman:OptionSet/wsman:Option", NS)
        },
        body=body,
    )


def envelope(action: str, relates_to: str, children: Iterable[ET.Element] = ()) -> bytes:
    """A response envelope; RelatesTo echoes the request's MessageID, as clients check."""
    env = ET.Element(q("s:Envelope"))
    header = ET.SubElement(env, q("s:Header"))
    ET.SubElement(header, q("wsa:Action")).text = action
    ET.SubElement(header, q("wsa:MessageID")).text = f"uuid:{str(uuid.uuid4()).upper()}"
    ET.SubElement(header, q("wsa:RelatesTo")).text = relates_to
    ET.SubElement(header, q("wsa:To")).text = ANONYMOUS
    body = ET.SubElement(env, q("s:Body"))
    body.extend(children)
    return bytes(ET.tostring(env, encoding="utf-8", xml_declaration=False))


def fault_envelope(relates_to: str, code: int, message: str, subcode: str) -> bytes:
    """A WSMan fault (sent with HTTP 500): clients read WSManFault@Code and the message."""
    fault = ET.Element(q("s:Fault"))
    code_el = ET.SubElement(fault, q("s:Code"))
    ET.SubElement(code_el, q("s:Value")).text = "s:Receiver"
    ET.SubElement(ET.SubElement(code_el, q("s:Subcode")), q("s:Value")).text = subcode
    reason = ET.SubElement(ET.SubElement(fault, q("s:Reason")), q("s:Text"))
    reason.text = message
    reason.set("{http://www.w3.org/XML/1998/namespace}lang", "en-US")
    detail = ET.SubElement(fault, q("s:Detail"))
    wsman_fault = ET.SubElement(
        detail, q("wsmanfault:WSManFault"), Code=str(code), Machine="127.0.0.1"
    )
    ET.SubElement(wsman_fault, q("wsmanfault:Message")).text = message
    return envelope(FAULT_ACTION, relates_to, [fault])
