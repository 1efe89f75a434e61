"""The contract between the PowerShell cmdlets and the bridge's request schema, as checks that
return a list of problems (empty: the contract holds), so tests can also show that they fail."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aksnet.bridge.schema import CommandSchema
from tests.bridge.psmodule import PsFunction

# PowerShell parameter type -> the JSON types ConvertTo-Json can produce for it.
PS_TO_JSON = {
    "string": {"string"},
    "string[]": {"array"},
    "int": {"integer"},
    "bool": {"boolean"},
    "switch": {"boolean"},
    "object": {"string", "object"},
}
NOT_SENT = {"credential"}  # travels in the request's credential field, not in parameters


def bridge_command(function: PsFunction) -> tuple[str | None, list[str]]:
    commands = {call.get("Command") for call in function.bridge_calls}
    if len(commands) != 1 or None in commands:
        return None, [f"{function.name}: calls Invoke-AksNetBridge with commands {commands}"]
    return commands.pop(), []


def parameter_problems(
    function: PsFunction, schemas: Mapping[str, CommandSchema], documented: Sequence[str]
) -> list[str]:
    """Every problem between one cmdlet's param block, the bridge schema and the docs."""
    command, problems = bridge_command(function)
    if command is None:
        return problems
    schema = schemas.get(command)
    if schema is None:
        return [f"{function.name}: the bridge has no command {command!r}"]
    sent = {n: p for n, p in function.parameters.items() if n.lower() not in NOT_SENT}
    for name, parameter in sent.items():
        param = schema.parameters.get(name)
        if param is None:
            problems.append(f"{function.name}: -{name} is passed but the bridge does not know it")
            continue
        allowed = PS_TO_JSON.get((parameter.type_name or "object").lower(), set())
        if not allowed <= set(param.types):
            problems.append(
                f"{function.name}: -{name} is [{parameter.type_name}], sent as {allowed}, "
                f"but the bridge accepts {param.types}"
            )
        if param.required and not parameter.mandatory:
            problems.append(f"{function.name}: -{name} is required by the bridge, not Mandatory")
    for name in schema.parameters:
        if name not in sent:
            problems.append(f"{function.name}: the bridge takes '{name}', the cmdlet lacks it")
    for name in documented:
        if name not in function.parameters:
            problems.append(f"{function.name}: documented AksHci parameter -{name} is missing")
    return problems


def export_problems(exported: Sequence[str], defined: Sequence[str]) -> list[str]:
    missing = sorted(set(defined) - set(exported))
    extra = sorted(set(exported) - set(defined))
    problems = [f"defined but not in FunctionsToExport: {n}" for n in missing]
    problems += [f"in FunctionsToExport but not defined: {n}" for n in extra]
    if len(exported) != len(set(exported)):
        problems.append("FunctionsToExport lists a name twice")
    return problems


def help_problems(function: PsFunction) -> list[str]:
    """Comment-based help: a synopsis, every parameter, at least one example."""
    help_text = function.help_text
    problems = []
    for keyword in (".SYNOPSIS", ".EXAMPLE"):
        if keyword not in help_text:
            problems.append(f"{function.name}: help has no {keyword}")
    for name in function.parameters:
        if f".PARAMETER {name}\n" not in help_text:
            problems.append(f"{function.name}: help does not describe -{name}")
    return problems
