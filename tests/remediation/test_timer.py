"""The systemd timer and service of a scheduled Repair: written into a directory, verified with
systemd-analyze when present (else parsed), removed; bad input refused naming the parameter."""

from __future__ import annotations

import configparser
import json
import shutil
from pathlib import Path

import pytest

from aksnet import cli
from aksnet.errors import InvalidInput
from aksnet.remediation.timer import install_timer, remove_timer, verify_units


def parse(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text())
    return parser


def test_the_units_run_repair_of_the_cluster_every_interval(tmp_path: Path) -> None:
    units = install_timer(
        "c1", directory=tmp_path, interval=900, deadline=300, store="/var/lib/aksnet/aksnet.db"
    )
    assert {p.name for p in tmp_path.iterdir()} == {
        "aksnet-remediation-c1.service",
        "aksnet-remediation-c1.timer",
    }
    service, timer = parse(units.service), parse(units.timer)
    argv = service["Service"]["ExecStart"].split()
    assert argv[1:] == [
        "remediation", "repair", "--deadline", "300", "--no-progress",
        "--name", "c1", "--store", "/var/lib/aksnet/aksnet.db",
    ]  # fmt: skip
    assert Path(argv[0]).exists()  # the aksnet of this installation
    assert service["Service"]["Type"] == "oneshot"
    assert timer["Timer"]["OnUnitActiveSec"] == "900s"
    assert timer["Install"]["WantedBy"] == "timers.target"
    assert verify_units(units) is None  # systemd-analyze verify (when installed) finds nothing

    assert remove_timer("c1", directory=tmp_path) == 2
    assert list(tmp_path.iterdir()) == []
    assert remove_timer("c1", directory=tmp_path) == 0


def test_a_log_file_and_every_cluster(tmp_path: Path) -> None:
    units = install_timer(directory=tmp_path, interval=3600, deadline=600, log_file="/tmp/r.log")
    service = parse(units.service)["Service"]
    assert units.service.name == "aksnet-remediation.service"
    assert "--name" not in service["ExecStart"]
    assert service["StandardOutput"] == "append:/tmp/r.log"


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"name": "C1; rm -rf /"}, "name"),
        ({"interval": 10}, "interval"),
        ({"interval": 600, "deadline": 600}, "deadline"),
        ({"store": "/tmp/a b.db"}, "command"),
        ({"log_file": "/tmp/$HOME.log"}, "logFile"),
    ],
)
def test_bad_input_is_refused(tmp_path: Path, kwargs: dict[str, object], parameter: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        install_timer(directory=tmp_path, **kwargs)  # type: ignore[arg-type]
    assert caught.value.parameter == parameter
    assert list(tmp_path.iterdir()) == []


def test_the_directory_must_exist(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="existing directory"):
        install_timer("c1", directory=tmp_path / "absent")


def test_verify_reports_a_broken_unit(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    units = install_timer("c1", directory=tmp_path, command=["relative/aksnet"])
    complaint = verify_units(units)
    assert complaint is not None and "relative/aksnet" in complaint


def test_the_cli_installs_and_removes_the_units(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["remediation", "install-timer", "--name", "c1", "--directory", str(tmp_path)]
    assert cli.main([*argv, "--interval", "600", "--deadline", "300", "--json"]) == 0
    written = json.loads(capsys.readouterr().out)
    assert Path(written["Timer"]).read_text().count("OnUnitActiveSec=600s") == 1
    argv = ["remediation", "remove-timer", "--name", "c1", "--directory", str(tmp_path)]
    assert cli.main([*argv, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"Removed": 2}
    assert cli.main([*argv[:2], "--name", "Bad Name", "--directory", str(tmp_path)]) == 2
