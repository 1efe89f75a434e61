"""aksnet.lab.psparse: tree-sitter PowerShell parsing helpers."""

from __future__ import annotations

import pytest

from aksnet.lab import psparse


@pytest.mark.parametrize(
    "text",
    [
        "New-VM -Name 'x' -MemoryStartupBytes 1GB -Generation 2",
        "$p = @{ Name = 'vm1' }\nNew-VM @p -ErrorAction Stop | Out-Null",
        "try { Stop-VM -Name $n -Force } catch { Write-Error $_ } finally { $x = 1 }",
    ],
)
def test_valid_scripts_have_no_error(text: str) -> None:
    assert psparse.has_error(text) is None


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("Get-VM | Where-Object { $_.Name -eq 'x'", 1),
        ("Get-VM\nWrite-Output 'abc", 2),
        ("Get-VM\n\nNew-VM -Name (Get-Date", 3),
    ],
)
def test_broken_scripts_report_position(text: str, line: int) -> None:
    problem = psparse.has_error(text)
    assert problem is not None
    assert problem.line == line and problem.column >= 1
    assert str(problem).startswith(f"At line:{line} char:{problem.column}")


def test_extract_commands_and_parameters() -> None:
    text = (
        "$vm = Get-VM -Name $Name -ErrorAction SilentlyContinue\n"
        "Set-VMProcessor -VMName $Name -Count 4; Start-VM -Name $Name -Passthru | Out-Null\n"
    )
    uses = psparse.extract(text)
    assert uses == [
        psparse.CommandUse("Get-VM", ("-Name", "-ErrorAction")),
        psparse.CommandUse("Set-VMProcessor", ("-VMName", "-Count")),
        psparse.CommandUse("Start-VM", ("-Name", "-Passthru")),
        psparse.CommandUse("Out-Null", ()),
    ]


def test_parse_returns_tree() -> None:
    tree = psparse.parse("Get-VM")
    assert tree.root_node.type == "program" and not tree.root_node.has_error
