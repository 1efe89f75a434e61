"""Over PSRP, as aksnet does it: the join file, Start-Process kubeadm.exe, ExitCode, kubelet.conf;
the node lands in the lab's emulated control plane."""

from __future__ import annotations

from pathlib import Path

import yaml

from aksnet.lab import k8sregistry
from aksnet.lab.fabric import Lab
from aksnet.remote import psfiles
from aksnet.remote.base import Cmdlet
from aksnet.remote.psrp import PSRPSession
from tests.hyperv.test_kubeadm_exe import CONFIG, ERR, OUT, join_config
from tests.windowslab import winvm


def test_kubeadm_exe_join_over_psrp_registers_the_node(
    lab: Lab, host: PSRPSession, tmp_path: Path
) -> None:
    endpoint = f"{lab.network.subnet.network_address + 100}:6443"
    k8sregistry.init_cluster(lab.lab_dir, endpoint, "10.244.0.0/16", "10.96.0.0/12")
    address = str(lab.network.subnet.network_address + 51)
    vm = winvm.new_vm("c1win1", 1, address, tmp_path)
    net = winvm.network(lab.network.subnet, str(lab.network.gateway), dhcp=False)
    winvm.create_on_host(host, vm, winvm.build_seed(tmp_path, vm, net))
    config = join_config()
    config["discovery"]["bootstrapToken"]["apiServerEndpoint"] = endpoint

    with vm.session() as node:
        psfiles.put(node, yaml.safe_dump(config).encode(), CONFIG)
        (process,) = node.invoke(
            Cmdlet.of("Start-Process", FilePath=r"C:\k\kubeadm.exe",
                      ArgumentList=["join", "--config", CONFIG], Wait=True, NoNewWindow=True,
                      PassThru=True, RedirectStandardOutput=OUT, RedirectStandardError=ERR)
        )  # fmt: skip
        assert process["ExitCode"] == 0
        (out,) = node.invoke(Cmdlet.of("Get-Content", LiteralPath=OUT, Raw=True))
        assert "EMULATED" in out
        assert node.invoke(Cmdlet.of("Test-Path", LiteralPath=r"C:\k\kubelet.conf")) == [True]
    registered = k8sregistry.read_cluster(lab.lab_dir, endpoint)
    assert registered is not None
    assert registered["nodes"]["c1win1"]["os"] == "windows"
    assert registered["nodes"]["c1win1"]["address"] == address
