#!/usr/bin/env bash
# The main job on the embedded lab. Today: the lab comes up (two emulated Hyper-V hosts behind real
# WSMan/PSRP endpoints, a lab bridge), a static network setting for the lab's subnet, and the plan
# of `New-AksHciCluster -name c1 -primaryNetworkPlugin flannel`; cluster creation joins this script
# with issue 4. The lab is taken down at the end unless KEEP_LAB=1.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/bootstrap.sh
export PATH="$root/.venv/bin:$PATH"
export AKSNET_HOME="${AKSNET_HOME:-$root/lab-home}"
mkdir -p "$AKSNET_HOME"

if [[ "${KEEP_LAB:-0}" != 1 ]]; then
    trap 'aksnet lab down >/dev/null' EXIT
fi
aksnet lab up
echo

if ! aksnet network get --name labnet >/dev/null 2>&1; then
    aksnet network new --name labnet --vswitch-name LabSwitch \
        --ip-address-prefix 198.18.0.0/24 --gateway 198.18.0.1 --dns-servers 198.18.0.1 \
        --k8s-node-ip-pool-start 198.18.0.10 --k8s-node-ip-pool-end 198.18.0.99 \
        --vip-pool-start 198.18.0.200 --vip-pool-end 198.18.0.250
fi
aksnet plugin list
echo
aksnet cluster plan --name c1 --vnet labnet --primary-network-plugin flannel \
    --linux-node-count 2 --windows-node-count 1 --service-port 80 --service-port 443
