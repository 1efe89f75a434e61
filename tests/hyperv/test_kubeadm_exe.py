"""Start-Process runs the Windows node image's EMULATED kubeadm.exe join (contract 5)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from aksnet.lab import k8sregistry
from aksnet.lab.hyperv import WindowsNode
from tests.hyperv.conftest import call, errors_in, run, terminating

ENDPOINT = "198.18.0.100:6443"
TOKEN = "abcdef.0123456789abcdef"
CONFIG = r"C:\k\kubeadm-join.yaml"
OUT, ERR = r"C:\k\kubeadm-join.out", r"C:\k\kubeadm-join.err"


@pytest.fixture
def lab_dir(tmp_path: Path) -> Path:
    k8sregistry.init_cluster(tmp_path / "lab", ENDPOINT, "10.244.0.0/16", "10.96.0.0/12")
    return tmp_path / "lab"


@pytest.fixture
def win(tmp_path: Path, lab_dir: Path) -> WindowsNode:
    node = WindowsNode("c1win1", tmp_path / "c1win1", ip_address="198.18.0.51", lab_dir=lab_dir)
    node.fs.real(r"C:\k\kubeadm.exe").parent.mkdir(parents=True, exist_ok=True)
    node.fs.real(r"C:\k\kubeadm.exe").write_text("stand-in")
    return node


def join_config(**changes: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "apiVersion": "kubeadm.k8s.io/v1beta3",
        "kind": "JoinConfiguration",
        "discovery": {
            "bootstrapToken": {
                "apiServerEndpoint": ENDPOINT,
                "token": TOKEN,
                "caCertHashes": ["sha256:" + "a" * 64],
            }
        },
        "nodeRegistration": {"name": "c1win1"},
    }
    config.update(changes)
    return config


def start_join(node: WindowsNode, config: dict[str, Any]) -> tuple[int, str, str]:
    """The contract's call, named parameters only; (ExitCode, stdout file, stderr file)."""
    node.fs.real(CONFIG).write_text(yaml.safe_dump(config))
    (process,) = run(
        node,
        call(
            "Start-Process",
            FilePath=r"C:\k\kubeadm.exe",
            ArgumentList=["join", "--config", CONFIG],
            Wait=True,
            NoNewWindow=True,
            PassThru=True,
            RedirectStandardOutput=OUT,
            RedirectStandardError=ERR,
        ),
    )
    assert process["HasExited"] is True and process["Lab"] is True
    return process["ExitCode"], node.fs.real(OUT).read_text(), node.fs.real(ERR).read_text()


def test_join_registers_the_windows_node_and_writes_kubelet_conf(
    win: WindowsNode, lab_dir: Path
) -> None:
    code, out, err = start_join(win, join_config())
    assert (code, err) == (0, "")
    assert "EMULATED" in out and "10.244.0.0/24" in out
    node = k8sregistry.read_cluster(lab_dir, ENDPOINT)["nodes"]["c1win1"]  # type: ignore[index]
    assert node == {
        "name": "c1win1",
        "os": "windows",
        "address": "198.18.0.51",
        "role": "worker",
        "podCIDR": "10.244.0.0/24",
    }
    assert run(win, call("Test-Path", LiteralPath=r"C:\k\kubelet.conf")) == [True]
    assert f"https://{ENDPOINT}" in win.fs.real(r"C:\k\kubelet.conf").read_text()
    # The token is in the file only: not in the output, not in the record of the call.
    assert TOKEN not in out and TOKEN not in str(win.kubeadm_calls)


def test_a_second_join_leaves_the_registry_as_it_was(win: WindowsNode, lab_dir: Path) -> None:
    start_join(win, join_config())
    before = k8sregistry.read_cluster(lab_dir, ENDPOINT)
    code, _, _ = start_join(win, join_config())
    assert code == 0 and k8sregistry.read_cluster(lab_dir, ENDPOINT) == before


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        (join_config(discovery={"bootstrapToken": {"apiServerEndpoint": ENDPOINT,
                                                   "token": TOKEN}}), "caCertHashes"),
        (join_config(controlPlane={"certificateKey": "b" * 64}), "control-plane"),
        (join_config(apiVersion="kubeadm.k8s.io/v1beta2"), "apiVersion"),
        (join_config(discovery={"bootstrapToken": {"apiServerEndpoint": "198.18.0.99:6443",
                                                   "token": TOKEN,
                                                   "caCertHashes": ["sha256:" + "a" * 64]}}),
         "no control plane at 198.18.0.99:6443"),
    ],
)  # fmt: skip
def test_a_refused_join_exits_1_with_the_reason_on_stderr_and_registers_nothing(
    win: WindowsNode, lab_dir: Path, config: dict[str, Any], reason: str
) -> None:
    code, out, err = start_join(win, config)
    assert code == 1 and out == ""
    assert "EMULATED" in err and reason in err
    assert k8sregistry.read_cluster(lab_dir, ENDPOINT)["nodes"] == {}  # type: ignore[index]
    assert run(win, call("Test-Path", LiteralPath=r"C:\k\kubelet.conf")) == [False]


def test_kubeadm_init_on_a_windows_node_is_refused(win: WindowsNode) -> None:
    win.fs.real(CONFIG).write_text("kind: InitConfiguration\n")
    (process,) = run(
        win,
        call("Start-Process", r"C:\k\kubeadm.exe", ["init", "--config", CONFIG], PassThru=True,
             RedirectStandardError=ERR),
    )  # fmt: skip
    assert process["ExitCode"] == 1
    assert "Windows nodes only join" in win.fs.real(ERR).read_text()


def test_start_process_refuses_what_windows_refuses(win: WindowsNode) -> None:
    missing = terminating(win, call("Start-Process", FilePath=r"C:\k\kubelet.exe"))
    assert missing.message == (
        "This command cannot be run due to the error: The system cannot find the file specified."
    )
    assert missing.error_id == (
        "InvalidOperationException,Microsoft.PowerShell.Commands.StartProcessCommand"
    )
    (same,) = errors_in(run(
        win,
        call("Start-Process", FilePath=r"C:\k\kubeadm.exe", RedirectStandardOutput=OUT,
             RedirectStandardError=OUT.upper(), PassThru=True),
    ))  # fmt: skip
    assert same.error_id.startswith("InvalidOperationException,") and "are same" in same.message
    (both,) = errors_in(run(
        win,
        call("Start-Process", FilePath=r"C:\k\kubeadm.exe", NoNewWindow=True,
             WindowStyle="Hidden", PassThru=True),
    ))  # fmt: skip
    assert "cannot be specified at the same time" in both.message
    assert win.kubeadm_calls == []  # neither started the program
    unknown = terminating(win, call("Start-Process", FilePath=r"C:\k\kubeadm.exe", Foo=1))
    assert "Foo" in unknown.message
    # -Verb belongs to the UseShellExecute set, -NoNewWindow to Default: no set has both.
    sets = terminating(
        win, call("Start-Process", FilePath=r"C:\k\kubeadm.exe", Verb="RunAs", NoNewWindow=True)
    )
    assert "AmbiguousParameterSet" in sets.error_id
    win.fs.real(r"C:\Windows\notepad.exe").parent.mkdir(parents=True)
    win.fs.real(r"C:\Windows\notepad.exe").write_text("x")
    other = terminating(win, call("Start-Process", FilePath=r"C:\Windows\notepad.exe"))
    assert "is not a valid Application" in other.message
    assert "runs only the programs of its image" in other.message


def test_a_join_with_a_token_the_control_plane_does_not_know_is_refused(
    win: WindowsNode, lab_dir: Path
) -> None:
    k8sregistry.add_token(lab_dir, ENDPOINT, "ghijkl.0123456789abcdef", expires=None)
    code, _, err = start_join(win, join_config())
    assert code == 1 and 'token ID "abcdef"' in err
    k8sregistry.add_token(lab_dir, ENDPOINT, TOKEN, expires=None)
    assert start_join(win, join_config())[0] == 0
