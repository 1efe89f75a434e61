"""The Windows scheduled task of Register-AksHciRemediationTask: what it runs, decided here.

The module's cmdlet registers it (Register-ScheduledTask, as the account the admin chose: the
password goes to that cmdlet only, never into the task's command line or to Python). The task
runs `powershell.exe -NoProfile -NonInteractive -EncodedCommand <script>`: the script imports
AksNet, runs Repair-AksHciClusterNetwork, appends one line to the log file, writes an event
(source AksNet, Application log; id 7000 + the exit code: Information, Warning when drift was
repaired, Error when a check failed) and exits with the report's exit code. The only values in
the script are the cluster name (a checked name), the deadline (a number) and the log path,
each a single-quoted PowerShell literal. Runs of one cluster never overlap: the task does not
start a new instance while one runs, and the repair holds the cluster's remediation lease.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any

from aksnet.errors import InvalidInput
from aksnet.remediation.timer import CLUSTER_NAME

EVENT_SOURCE = "AksNet"
EVENT_BASE_ID = 7000
TASK_PATH = "\\AksNet\\"
DEFAULT_LOG = "C:\\ProgramData\\AksNet\\remediation.log"
INTERVAL = re.compile(r"(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})")
MIN_INTERVAL = 60

_SCRIPT = """\
# aksnet remediation task (Register-AksHciRemediationTask); runs Repair-AksHciClusterNetwork
$ErrorActionPreference = 'Continue'
$log = {log}
$started = (Get-Date).ToString('o')
try {{
    Import-Module AksNet -ErrorAction Stop
    $arguments = @{{ deadline = {deadline}; Confirm = $false; ErrorAction = 'Stop' }}{name_argument}
    $report = Repair-AksHciClusterNetwork @arguments
    $code = [int]$report.ExitCode
    $summary = $report.Summary | ConvertTo-Json -Compress
    $text = "$started repair of {target}: exit code $code $summary"
}}
catch {{
    $code = 2
    $text = "$started repair of {target} failed: $($_.Exception.Message)"
}}
Add-Content -LiteralPath $log -Value $text
$entry = @('Information', 'Warning', 'Error')[[Math]::Min($code, 2)]
$entryArguments = @{{ LogName = 'Application'; Source = '{source}'; EventId = {base} + $code }}
Write-EventLog @entryArguments -EntryType $entry -Message $text
exit $code
"""


@dataclass(frozen=True)
class TaskDefinition:
    name: str | None
    task_name: str
    interval_seconds: int
    deadline: int
    log_path: str
    script: str

    @property
    def argument(self) -> str:
        encoded = base64.b64encode(self.script.encode("utf-16-le")).decode("ascii")
        return f"-NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand {encoded}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "Name": self.name,
            "TaskName": self.task_name,
            "TaskPath": TASK_PATH,
            "Execute": "powershell.exe",
            "Argument": self.argument,
            "IntervalSeconds": self.interval_seconds,
            "Deadline": self.deadline,
            "LogPath": self.log_path,
            "EventSource": EVENT_SOURCE,
            "Script": self.script,
        }


def parse_interval(text: str) -> int:
    """A TimeSpan as PowerShell writes it ([d.]hh:mm:ss) in seconds, at least a minute."""
    match = INTERVAL.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise InvalidInput("interval", text, "it must be a time span such as 00:15:00.")
    days, hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    if minutes > 59 or seconds > 59:
        raise InvalidInput("interval", text, "minutes and seconds must be below 60.")
    total = ((days * 24 + hours) * 60 + minutes) * 60 + seconds
    if total < MIN_INTERVAL:
        raise InvalidInput("interval", text, f"it must be at least {MIN_INTERVAL} seconds.")
    return total


def ps_literal(value: str, parameter: str) -> str:
    """A single-quoted PowerShell literal: nothing in it is expanded."""
    if any(c in value for c in "\r\n\0"):
        raise InvalidInput(parameter, value, "it must be one line.")
    # PowerShell also ends a single-quoted string at the typographic quotes U+2018/U+2019/U+201A/
    # U+201B: double them as well.
    escaped = re.sub("(['\u2018\u2019\u201a\u201b])", r"\1\1", value)
    return f"'{escaped}'"


def task_definition(
    name: str | None, interval: str, *, deadline: int = 600, log_path: str = DEFAULT_LOG
) -> TaskDefinition:
    if name is not None and not CLUSTER_NAME.fullmatch(name):
        raise InvalidInput("name", name, "it must be a cluster name (a-z, 0-9 and '-').")
    seconds = parse_interval(interval)
    if not 0 < deadline < seconds:
        raise InvalidInput(
            "deadline",
            deadline,
            f"it must be positive and shorter than the interval ({seconds} s).",
        )
    if not log_path:
        raise InvalidInput("logPath", log_path, "it must name a file.")
    script = _SCRIPT.format(
        log=ps_literal(log_path, "logPath"),
        name_argument=f"\n    $arguments['name'] = '{name}'" if name else "",
        deadline=int(deadline),
        target=f"cluster {name}" if name else "every cluster",
        source=EVENT_SOURCE,
        base=EVENT_BASE_ID,
    )
    return TaskDefinition(name, task_name(name), seconds, int(deadline), log_path, script)


def task_name(name: str | None) -> str:
    """The scheduled task's name (under TASK_PATH): one task per cluster, or one for all."""
    if name is not None and not CLUSTER_NAME.fullmatch(name):
        raise InvalidInput("name", name, "it must be a cluster name (a-z, 0-9 and '-').")
    return f"AksNet remediation {name}" if name else "AksNet remediation"
