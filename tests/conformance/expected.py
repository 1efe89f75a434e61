"""What a failed remote command must report, in the terms of its transport."""

from __future__ import annotations

from dataclasses import dataclass

from aksnet.errors import RemoteCommandFailed


@dataclass(frozen=True)
class ExpectedRecord:
    """One PowerShell error record, field by field, as the host writes it."""

    message: str
    category: str
    fully_qualified_error_id: str
    target: str | None

    def check(self, error: RemoteCommandFailed) -> None:
        # (WinRM also reports powershell.exe's exit status; the record is what counts.)
        [record] = error.records
        assert record.message == self.message
        assert record.category == self.category
        assert record.fully_qualified_error_id == self.fully_qualified_error_id
        assert record.target == self.target
        assert self.message in str(error)


@dataclass(frozen=True)
class ExpectedExit:
    """A non-zero exit status and the lines the command wrote to stderr."""

    exit_status: int
    stderr_lines: tuple[str, ...]

    def check(self, error: RemoteCommandFailed) -> None:
        assert error.records == ()
        assert error.exit_status == self.exit_status
        assert tuple(error.stderr.strip().splitlines()) == self.stderr_lines
        assert self.stderr_lines[-1] in str(error)  # the message carries stderr's last line


Expected = ExpectedRecord | ExpectedExit
