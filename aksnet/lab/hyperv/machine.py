"""Run statements and pipelines against an emulated machine (the EmulatedMachine protocol).

Each command is bound against its contract (binder.py), then its handler runs once, or once per
pipeline input object. Non-terminating errors go to the error stream as PSError values unless
-ErrorAction says otherwise; a terminating error stops the remaining statements.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aksnet.lab.backend import CommandCall, PSError
from aksnet.lab.hyperv import errors
from aksnet.lab.hyperv.binder import NO_INPUT, Bound, bind
from aksnet.lab.hyperv.contracts import CmdletContract, default_contracts
from aksnet.lab.hyperv.filesystem import PathOutsideRoot, WindowsFileSystem
from aksnet.lab.hyperv.host import HyperVHost, LabFailure

log = logging.getLogger(__name__)
_QUIET = {"silentlycontinue", "ignore"}
_UNRESOLVED_WITHOUT_INPUT = ("MissingMandatoryParameter,", "AmbiguousParameterSet,")


@dataclass
class Context:
    """What a handler gets besides its bound parameters."""

    machine: MachineBase
    contract: CmdletContract

    @property
    def source(self) -> str:
        return self.contract.error_source

    def record(
        self, error_id: str, message: str, category: str, target: str | None = None
    ) -> PSError:
        return errors.record(self.source, error_id, message, category, target)

    def fail(
        self, error_id: str, message: str, category: str, target: str | None = None
    ) -> PSError:
        return errors.fail(self.source, error_id, message, category, target)


Handler = Callable[[Context, Bound], list[Any]]


class MachineBase:
    """An emulated Windows machine: a file system plus the commands it answers."""

    def __init__(self, name: str, fs: WindowsFileSystem) -> None:
        self.name = name
        self.fs = fs
        self.contracts = default_contracts()
        self.handlers: dict[str, Handler] = {}
        # Import-Module by name works for these; script modules load from files that exist.
        self.built_in_modules: frozenset[str] = frozenset()
        self.imported_modules: set[str] = set()

    def register(self, command: str, handler: Handler) -> None:
        if command.lower() not in self.contracts:
            raise ValueError(f"command {command!r} has no contract in cmdlet_contracts.json")
        self.handlers[command.lower()] = handler

    def available(self, command: str) -> bool:
        """Whether the command exists in the session now (functions need their module)."""
        return command.lower() in self.handlers

    def invoke(
        self, pipelines: Sequence[Sequence[CommandCall]], input: Sequence[Any] = ()
    ) -> list[Any]:
        """Run the statements in order; outputs and non-terminating errors, in order."""
        results: list[Any] = []
        for index, statement in enumerate(pipelines):
            items: list[Any] | None = list(input) if index == 0 and input else None
            for call in statement:
                items = self._run(call, items, results)
            results += items or []
        return results

    def _run(self, call: CommandCall, items: list[Any] | None, results: list[Any]) -> list[Any]:
        key = call.name.lower()
        contract = self.contracts.get(key)
        if contract is None or not self.available(key):
            raise errors.command_not_found(call.name)
        ctx = Context(self, contract)
        log.debug(
            "%s: %s %d input(s)", self.name, contract.name, -1 if items is None else len(items)
        )
        if items is None:
            return self._once(ctx, bind(contract, call.parameters), results)
        if not items:
            _check_without_input(contract, call)
            return []
        outputs: list[Any] = []
        for item in items:
            try:
                bound = bind(contract, call.parameters, item)
            except PSError as err:
                if err.terminating:
                    raise
                _emit_error(err, _error_action(call), results)
                continue
            outputs += self._once(ctx, bound, results)
        return outputs

    def _once(self, ctx: Context, bound: Bound, results: list[Any]) -> list[Any]:
        try:
            produced = self.handlers[ctx.contract.name.lower()](ctx, bound)
        except LabFailure as failure:
            produced = [
                ctx.record(failure.error_id, failure.message, failure.category, failure.target)
            ]
        except PathOutsideRoot as refused:
            produced = [
                ctx.record("UnauthorizedAccess", str(refused), "PermissionDenied", refused.path)
            ]
        outputs: list[Any] = []
        for value in produced:
            if isinstance(value, PSError):
                _emit_error(value, bound.error_action, results)
            else:
                outputs.append(value)
        return outputs


def _error_action(call: CommandCall) -> str:
    for name, value in call.parameters:
        if name is not None and name.lstrip("-").lower() in ("erroraction", "ea"):
            return str(value)
    return "Continue"


def _emit_error(err: PSError, action: str, results: list[Any]) -> None:
    if err.terminating:
        raise err
    if action.lower() == "stop":
        err.terminating = True  # -ErrorAction Stop: the same record, now stopping the pipeline
        raise err
    if action.lower() not in _QUIET:
        results.append(err)


def _check_without_input(contract: CmdletContract, call: CommandCall) -> None:
    """Upstream produced nothing: names are still checked, the process step never runs."""
    try:
        bind(contract, call.parameters)
    except PSError as err:
        if not err.error_id.startswith(_UNRESOLVED_WITHOUT_INPUT):
            raise


class HyperVMachine(MachineBase):
    """A Hyper-V host as WSMan sees it.

    ``delegated`` says the session may make a second hop (CredSSP / Kerberos delegation, or a
    command run on the owning node); without it cluster role changes fail as on a real cluster.
    """

    def __init__(self, host: HyperVHost, *, delegated: bool = False) -> None:
        super().__init__(host.name, host.fs)
        self.host = host
        self.delegated = delegated
        self.built_in_modules = frozenset({"hyper-v", "failoverclusters", "netsecurity"})
        from aksnet.lab.hyperv import (
            cmdlets_cluster,
            cmdlets_files,
            cmdlets_modules,
            cmdlets_net,
            cmdlets_vm,
        )

        for module in (cmdlets_vm, cmdlets_net, cmdlets_cluster, cmdlets_files, cmdlets_modules):
            module.register(self)

    @property
    def root(self) -> Path:
        return self.fs.root


__all__ = ["NO_INPUT", "Context", "Handler", "HyperVMachine", "MachineBase"]
