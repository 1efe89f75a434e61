"""The lab's WSMan server: real HTTP(S), WS-Management, WinRS and PSRP for emulated machines.

pypsrp and pywinrm talk to it unchanged (Basic, NTLM with message encryption, HTTPS). Cmdlet
calls are answered by an aksnet.lab.backend.EmulatedMachine; no script text is ever run.
"""

from aksnet.lab.wsman.faults import FaultPlan
from aksnet.lab.wsman.server import WSManServer
from aksnet.lab.wsman.stats import ServerStats

__all__ = ["FaultPlan", "ServerStats", "WSManServer"]
