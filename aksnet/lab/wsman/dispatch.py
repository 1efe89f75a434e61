"""WSMan actions -> shells: Create, Get, Delete, Command, Send, Signal, Receive."""

from __future__ import annotations

import base64
import binascii
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from aksnet.lab.backend import EmulatedMachine
from aksnet.lab.wsman import faults
from aksnet.lab.wsman.psrp import PsrpShell
from aksnet.lab.wsman.shells import ShellBase, ShellRegistry
from aksnet.lab.wsman.soap import NS, SHELL_ACTION, TRANSFER_ACTION, Request, envelope, q
from aksnet.lab.wsman.stats import ServerStats
from aksnet.lab.wsman.winrs import CmdShell

PSRP_CREATION = "{http://schemas.microsoft.com/powershell}creationXml"
DONE = NS["rsp"] + "/CommandState/Done"
RUNNING = NS["rsp"] + "/CommandState/Running"
SERVER_MAX_ENVELOPE = 500 * 1024  # WinRM's default MaxEnvelopeSizekb
ENVELOPE_OVERHEAD = 4096  # room for the SOAP around the base64 streams of a ReceiveResponse


@dataclass(frozen=True)
class Answer:
    """An HTTP status and body, or a WSMan fault to send instead."""

    body: bytes = b""
    fault_code: int | None = None
    fault_detail: str = ""


def chunk_budget(max_envelope_size: int) -> int:
    """Raw bytes per Receive whose base64 fits in the client's MaxEnvelopeSize."""
    return max((max_envelope_size - ENVELOPE_OVERHEAD) * 3 // 4, 1024)


def _b64(text: str | None) -> bytes:
    try:
        return base64.b64decode(text or "", validate=True)
    except binascii.Error as exc:
        raise ValueError(f"stream data is not base64: {exc}") from exc


class Dispatcher:
    """Answers one parsed request; thread-safe (each shell has its own lock)."""

    def __init__(self, machine: EmulatedMachine, stats: ServerStats, address: str = "") -> None:
        self.machine = machine
        self.stats = stats
        self.address = address  # the listener's URL, echoed in ResourceCreated
        self.shells = ShellRegistry()

    def answer(self, req: Request) -> Answer:
        if req.action == TRANSFER_ACTION + "Create":
            return self._create(req)
        if req.action == TRANSFER_ACTION + "Get" and req.resource_uri.endswith("/config"):
            return self._config(req)
        shell = self.shells.get(req.shell_id)
        if shell is None:
            return Answer(fault_code=faults.SHELL_NOT_FOUND, fault_detail=req.shell_id)
        handler = {
            TRANSFER_ACTION + "Get": self._get,
            TRANSFER_ACTION + "Delete": self._delete,
            SHELL_ACTION + "Command": self._command,
            SHELL_ACTION + "Send": self._send,
            SHELL_ACTION + "Signal": self._signal,
            SHELL_ACTION + "Receive": self._receive,
        }.get(req.action)
        if handler is None:
            return Answer(fault_code=faults.ACTION_NOT_SUPPORTED, fault_detail=req.action)
        return handler(req, shell)

    def _create(self, req: Request) -> Answer:
        spec = req.body.find("rsp:Shell", NS)
        if spec is None:
            return Answer(
                fault_code=faults.INVALID_REQUEST, fault_detail="Create without rsp:Shell"
            )
        shell_id = (spec.get("ShellId") or str(uuid.uuid4())).upper()
        budget = chunk_budget(req.max_envelope_size)
        shell: ShellBase
        if "/powershell" in req.resource_uri.lower():
            psrp = PsrpShell(shell_id, req.resource_uri, budget, self.machine, self._round_trip)
            creation = spec.find(PSRP_CREATION)
            with psrp.cond:
                if creation is not None:
                    psrp.feed(_b64(creation.text), None)
            shell = psrp
        else:
            shell = CmdShell(shell_id, req.resource_uri, budget, self.machine, self._round_trip)
        self.shells.add(shell)
        created = ET.Element(q("wst:ResourceCreated"))
        ET.SubElement(created, q("wsa:Address")).text = self.address
        refs = ET.SubElement(created, q("wsa:ReferenceParameters"))
        ET.SubElement(refs, q("wsman:ResourceURI")).text = req.resource_uri
        selectors = ET.SubElement(refs, q("wsman:SelectorSet"))
        ET.SubElement(selectors, q("wsman:Selector"), Name="ShellId").text = shell_id
        info = self._shell_info(shell, spec)
        return Answer(envelope(TRANSFER_ACTION + "CreateResponse", req.message_id, [created, info]))

    def _config(self, req: Request) -> Answer:
        """winrm/config, which pypsrp's update_max_payload_size reads."""
        config = ET.Element(q("cfg:Config"))
        ET.SubElement(config, q("cfg:MaxEnvelopeSizekb")).text = str(SERVER_MAX_ENVELOPE // 1024)
        return Answer(envelope(TRANSFER_ACTION + "GetResponse", req.message_id, [config]))

    def _round_trip(self) -> None:
        self.stats.count_round_trip()

    def _shell_info(self, shell: ShellBase, spec: ET.Element | None = None) -> ET.Element:
        info = ET.Element(q("rsp:Shell"))
        fields = [
            ("ShellId", shell.id),
            ("ResourceUri", shell.resource_uri),
            ("Owner", "aksnet-lab"),
            ("ClientIP", "127.0.0.1"),
            ("IdleTimeOut", "PT7200.000S"),
            ("State", "Connected"),
        ]
        if spec is not None:
            fields += [
                ("InputStreams", spec.findtext("rsp:InputStreams", default="", namespaces=NS)),
                ("OutputStreams", spec.findtext("rsp:OutputStreams", default="", namespaces=NS)),
            ]
        for tag, value in fields:
            ET.SubElement(info, q("rsp:" + tag)).text = value
        return info

    def _get(self, req: Request, shell: ShellBase) -> Answer:
        info = self._shell_info(shell)
        return Answer(envelope(TRANSFER_ACTION + "GetResponse", req.message_id, [info]))

    def _delete(self, req: Request, shell: ShellBase) -> Answer:
        self.shells.remove(shell.id)
        shell.close()
        return Answer(envelope(TRANSFER_ACTION + "DeleteResponse", req.message_id))

    def _command(self, req: Request, shell: ShellBase) -> Answer:
        line = req.body.find("rsp:CommandLine", NS)
        if line is None:
            return Answer(fault_code=faults.INVALID_REQUEST, fault_detail="no rsp:CommandLine")
        command_id = (line.get("CommandId") or str(uuid.uuid4())).upper()
        if isinstance(shell, PsrpShell):
            with shell.cond:
                shell.new_pipeline(command_id)
                shell.feed(_b64(line.findtext("rsp:Arguments", namespaces=NS)), command_id)
        elif isinstance(shell, CmdShell):
            arguments = [a.text or "" for a in line.findall("rsp:Arguments", NS)]
            command = line.findtext("rsp:Command", default="", namespaces=NS)
            shell.run(command_id, command, arguments)
        response = ET.Element(q("rsp:CommandResponse"))
        ET.SubElement(response, q("rsp:CommandId")).text = command_id
        return Answer(envelope(SHELL_ACTION + "CommandResponse", req.message_id, [response]))

    def _send(self, req: Request, shell: ShellBase) -> Answer:
        if isinstance(shell, PsrpShell):
            with shell.cond:
                for stream in req.body.findall("rsp:Send/rsp:Stream", NS):
                    command_id = stream.get("CommandId")
                    shell.feed(_b64(stream.text), command_id.upper() if command_id else None)
        response = ET.Element(q("rsp:SendResponse"))
        return Answer(envelope(SHELL_ACTION + "SendResponse", req.message_id, [response]))

    def _signal(self, req: Request, shell: ShellBase) -> Answer:
        signal = req.body.find("rsp:Signal", NS)
        command_id = (signal.get("CommandId") or "").upper() if signal is not None else ""
        code = req.body.findtext("rsp:Signal/rsp:Code", default="", namespaces=NS)
        with shell.cond:
            if isinstance(shell, PsrpShell) and command_id:
                shell.signal(command_id, code)
            elif command_id:
                shell.finish(command_id, None)
        response = ET.Element(q("rsp:SignalResponse"))
        return Answer(envelope(SHELL_ACTION + "SignalResponse", req.message_id, [response]))

    def _receive(self, req: Request, shell: ShellBase) -> Answer:
        desired = req.body.find("rsp:Receive/rsp:DesiredStream", NS)
        command_id = (
            (desired.get("CommandId") or "").upper() or None if desired is not None else None
        )
        result = shell.receive(command_id, req.operation_timeout)
        if result is None and shell.closed:  # deleted (or the server stopped) while waiting
            return Answer(fault_code=faults.SHELL_NOT_FOUND, fault_detail=shell.id)
        if result is None:
            return Answer(fault_code=faults.OPERATION_TIMEOUT)
        response = ET.Element(q("rsp:ReceiveResponse"))
        for name, data in result.chunks:
            attrs = {"Name": name, **({"CommandId": command_id} if command_id else {})}
            stream = ET.SubElement(response, q("rsp:Stream"), attrs)
            stream.text = base64.b64encode(data).decode()
        if command_id:
            state = DONE if result.done else RUNNING
            cs = ET.SubElement(response, q("rsp:CommandState"), CommandId=command_id, State=state)
            if result.done and result.exit_code is not None:
                ET.SubElement(cs, q("rsp:ExitCode")).text = str(result.exit_code)
        return Answer(envelope(SHELL_ACTION + "ReceiveResponse", req.message_id, [response]))

    def close(self) -> list[ShellBase]:
        """Close every shell (waking long-polling Receives); returns them for joining."""
        return self.shells.close_all()
