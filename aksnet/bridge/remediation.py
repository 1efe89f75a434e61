"""Bridge handlers of Test-/Repair-AksHciClusterNetwork and Register-/Unregister-
AksHciRemediationTask (aksnet.remediation).

Test and Repair write one `AksNet.ClusterNetworkReport` (rows, summary, ExitCode: 0 clean,
1 drift, 2 error) and a warning per row that is drift or error, so a scheduled script sees them
in its log. Register answers with the task's definition (`AksNet.RemediationTask`: what the task
runs, its interval, log file and event source); the cmdlet registers it with
Register-ScheduledTask as the chosen account, whose password never reaches Python. Unregister
answers with the task's name.
"""

from __future__ import annotations

from aksnet.bridge.commands import Handler, open_store
from aksnet.bridge.emitter import Emitter
from aksnet.bridge.request import Request

REPORT_TYPE = "AksNet.ClusterNetworkReport"
TASK_TYPE = "AksNet.RemediationTask"
DEFAULT_DEADLINE = 600


def test_cluster_network(request: Request, out: Emitter) -> None:
    _run(request, out, repair=False)


def repair_cluster_network(request: Request, out: Emitter) -> None:
    _run(request, out, repair=True)


def _run(request: Request, out: Emitter, *, repair: bool) -> None:
    from aksnet import api

    p = request.parameters
    name, deadline = p.get("name"), float(p.get("deadline", DEFAULT_DEADLINE))
    with open_store() as store:
        if name is not None:
            store.get_cluster(name)  # NotFound before any host is reached
        hosts = api.lab_hosts(None)
        if repair:
            report = api.repair_cluster_network(
                store, hosts, name, what_if=request.what_if, deadline=deadline
            )
        else:
            report = api.test_cluster_network(store, hosts, name, deadline=deadline)
    for row in report.rows:
        if row.status in ("drift", "error"):
            where = f"{row.cluster}/{row.node}" if row.node else row.cluster
            out.warning(
                f"{where}: {row.check}: {row.status}: {row.observed} (desired: {row.desired})"
            )
    out.result(REPORT_TYPE, report.to_dict())


def register_task(request: Request, out: Emitter) -> None:
    from aksnet.remediation.task import DEFAULT_LOG, task_definition

    p = request.parameters
    name = p.get("name")
    definition = task_definition(  # every value checked before the store is read
        name,
        p.get("interval", "00:15:00"),
        deadline=int(p.get("deadline", DEFAULT_DEADLINE)),
        log_path=p.get("logPath") or DEFAULT_LOG,
    )
    if name is not None:
        with open_store() as store:
            store.get_cluster(name)  # a task for a cluster that does not exist: NotFound
    out.result(TASK_TYPE, {**definition.to_dict(), "WhatIf": request.what_if})


def unregister_task(request: Request, out: Emitter) -> None:
    from aksnet.remediation.task import TASK_PATH, task_name

    name = request.parameters.get("name")
    out.result(TASK_TYPE, {"Name": name, "TaskName": task_name(name), "TaskPath": TASK_PATH})


HANDLERS: dict[str, Handler] = {
    "Test-AksHciClusterNetwork": test_cluster_network,
    "Repair-AksHciClusterNetwork": repair_cluster_network,
    "Register-AksHciRemediationTask": register_task,
    "Unregister-AksHciRemediationTask": unregister_task,
}
