"""A PSRP runspace pool shell: psrpcore's server state machine fed by WSMan, pipelines run on
the emulated machine.

Each pipeline's commands are split into statements at psrpcore's ``end_of_statement`` marks and
passed to ``machine.invoke`` together with the pipeline input that came through Send. Script
commands (``add_script``) are not run: the lab answers a ParserError when the text does not parse
and otherwise a terminating error saying it runs typed cmdlet calls only.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psrpcore
from psrpcore.types import (
    ErrorCategory,
    ErrorCategoryInfo,
    ErrorRecord,
    NETException,
    PSInvocationState,
)

from aksnet.lab import psparse
from aksnet.lab.backend import CommandCall, EmulatedMachine, PSError
from aksnet.lab.wsman.convert import plain, to_ps
from aksnet.lab.wsman.shells import ShellBase

log = logging.getLogger(__name__)

SCRIPT_REFUSED = (
    "The aksnet lab runs typed cmdlet calls and aksnet WinRM envelopes only; it does not run "
    "script text (commands found: {commands})."
)


@dataclass
class _Pipeline:
    server: psrpcore.ServerPipeline
    meta: Any = None  # psrpcore.PowerShell once CreatePipeline arrived
    input: list[Any] = field(default_factory=list)


def category_info(error: PSError) -> ErrorCategoryInfo:
    """CategoryInfo of an error record; an unknown category name becomes NotSpecified."""
    try:
        category = ErrorCategory[error.category]
    except KeyError:
        category = ErrorCategory.NotSpecified
    return ErrorCategoryInfo(
        Category=category, Reason=error.error_id.split(",")[0], TargetName=error.target or ""
    )


def error_record(error: PSError) -> ErrorRecord:
    return ErrorRecord(
        Exception=NETException(error.message),
        CategoryInfo=category_info(error),
        TargetObject=error.target,
        FullyQualifiedErrorId=error.error_id,
    )


def script_error(text: str) -> PSError:
    """What the lab answers for script text: ParserError, or the refusal."""
    problem = psparse.has_error(text)
    if problem is not None:
        return PSError(
            f"{problem}. The script does not parse.",
            category="ParserError",
            error_id="ParseException",
            terminating=True,
        )
    names = ", ".join(dict.fromkeys(u.name for u in psparse.extract(text))) or "none"
    return PSError(
        SCRIPT_REFUSED.format(commands=names),
        category="PermissionDenied",
        error_id="AksnetLabScriptRefused",
        terminating=True,
    )


def statements_of(commands: Sequence[Any]) -> list[list[CommandCall]]:
    """psrpcore Commands -> statements (lists of CommandCall) split at end_of_statement."""
    statements: list[list[CommandCall]] = [[]]
    for cmd in commands:
        params = tuple((name, plain(value)) for name, value in cmd.parameters)
        statements[-1].append(CommandCall(str(cmd.command_text), params))
        if cmd.end_of_statement:
            statements.append([])
    return [s for s in statements if s]


class PsrpShell(ShellBase):
    """One runspace pool. Feed it WSMan payloads; it queues PSRP fragments for Receive."""

    kind = "powershell"

    def __init__(
        self,
        shell_id: str,
        resource_uri: str,
        chunk_budget: int,
        machine: EmulatedMachine,
        on_pipeline: Callable[[], None],
    ) -> None:
        super().__init__(shell_id, resource_uri, chunk_budget)
        self.machine = machine
        self._on_pipeline = on_pipeline
        self.pool = psrpcore.ServerRunspacePool()
        self._pipes: dict[uuid.UUID, _Pipeline] = {}
        self.workers: list[threading.Thread] = []

    def feed(self, data: bytes, command_id: str | None) -> None:
        """Process PSRP fragments from Create/Command/Send (caller holds cond)."""
        pid = uuid.UUID(command_id) if command_id else None
        self.pool.receive_data(psrpcore.PSRPPayload(data, psrpcore.StreamType.default, pid))
        while (event := self.pool.next_event()) is not None:
            self._on_event(event)
        self.flush()

    def new_pipeline(self, command_id: str) -> None:
        """psrpcore needs the ServerPipeline before the CreatePipeline message arrives."""
        pid = uuid.UUID(command_id)
        self._pipes[pid] = _Pipeline(psrpcore.ServerPipeline(self.pool, pid))

    def _on_event(self, event: Any) -> None:
        if isinstance(event, psrpcore.CreatePipelineEvent):
            pipe = self._pipes[event.pipeline_id]
            pipe.meta = event.pipeline
            if event.pipeline.no_input:
                self._start(event.pipeline_id)
        elif isinstance(event, psrpcore.PipelineInputEvent):
            self._pipes[event.pipeline_id].input.append(plain(event.data))
        elif isinstance(event, psrpcore.EndOfPipelineInputEvent):
            self._start(event.pipeline_id)

    def flush(self) -> None:
        while (payload := self.pool.data_to_send(amount=self.chunk_budget)) is not None:
            target = str(payload.pipeline_id).upper() if payload.pipeline_id else None
            self.queue(target, [("stdout", payload.data)])

    def _start(self, pid: uuid.UUID) -> None:
        self._on_pipeline()
        worker = threading.Thread(target=self._run, args=(pid,), name=f"psrp-{pid}", daemon=True)
        self.workers = [w for w in self.workers if w.is_alive()]
        self.workers.append(worker)
        worker.start()

    def _invoke(self, pipe: _Pipeline) -> tuple[list[Any], PSError | None]:
        """Run the pipeline on the machine (no lock held: a machine may be slow)."""
        scripts = [c for c in pipe.meta.commands if c.is_script]
        try:
            if scripts:
                raise script_error(str(scripts[0].command_text))
            outputs = self.machine.invoke(statements_of(pipe.meta.commands), input=pipe.input)
            return list(outputs), None
        except PSError as exc:
            return [], exc
        except Exception as exc:  # a machine bug must not hang the client: fail the pipeline
            log.debug("machine %s raised %s", self.machine.name, type(exc).__name__, exc_info=True)
            return [], PSError(f"{type(exc).__name__}: {exc}", error_id="LabMachineFailure")

    def _run(self, pid: uuid.UUID) -> None:
        pipe = self._pipes[pid]
        with self.cond:
            pipe.server.start()
            self.flush()
        outputs, failure = self._invoke(pipe)
        with self.cond:
            if pipe.server.state != PSInvocationState.Running:  # stopped meanwhile
                return
            for value in outputs:
                if isinstance(value, PSError):
                    pipe.server.write_error(
                        NETException(value.message),
                        category_info(value),
                        target_object=value.target,
                        fully_qualified_error_id=value.error_id,
                    )
                else:
                    pipe.server.write_output(to_ps(value))
            if failure is not None:
                pipe.server._change_state(PSInvocationState.Failed, error_record(failure))
            else:
                pipe.server.complete()
            self.finish(str(pid).upper())
            self.flush()

    def signal(self, command_id: str, code: str) -> None:
        """ctrl_c stops a running pipeline; terminate ends the command (caller holds cond)."""
        pipe = self._pipes.get(uuid.UUID(command_id))
        if pipe is not None and pipe.server.state == PSInvocationState.Running:
            pipe.server.stop()
            self.flush()
        if code.endswith("Terminate") or pipe is None:
            self._pipes.pop(uuid.UUID(command_id), None)
        self.finish(command_id.upper())

    def join(self) -> None:
        for worker in list(self.workers):
            worker.join()
