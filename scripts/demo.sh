#!/usr/bin/env bash
# The main job on the embedded lab: the lab comes up (two emulated Hyper-V hosts behind real
# WSMan/PSRP endpoints, a lab bridge), a static network setting for the lab's subnet, then
# `New-AksHciCluster -name c1 -primaryNetworkPlugin flannel` with one control plane, two Linux
# workers, one Windows worker and the HAProxy load-balancer VM: what-if first, then the create
# (VMs on the hosts; Linux nodes as namespaces with sshd reached with pinned keys; the Windows
# node an emulated Windows served over PSRP at its address with a pinned certificate; kubeadm,
# the CNI and HNS on the lab's emulated tools), a second apply with zero actions, Get, the
# admin kubeconfig used by the real kubectl through the API VIP on the real HAProxy, a
# LoadBalancer Service synced and answered over HTTP through its VIP, and Remove returning
# every address. The lab is taken down at the end unless KEEP_LAB=1. State goes to ./lab-home
# unless AKSNET_HOME is set.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/bootstrap.sh
export PATH="$root/.venv/bin:$PATH"
export AKSNET_HOME="${AKSNET_HOME:-$root/lab-home}"
mkdir -p "$AKSNET_HOME"

aksnet lab down >/dev/null 2>&1 || true    # a previous run's lab, if any
if [[ "${KEEP_LAB:-0}" != 1 ]]; then
    trap 'aksnet lab down >/dev/null' EXIT
fi
aksnet lab up
echo

# The network setting follows the lab's subnet (a /24 of 198.18.0.0/15 on the lab bridge).
read -r prefix gateway node_start node_end vip_start vip_end < <(
    aksnet lab status --json | python -c '
import ipaddress, json, sys
lab = json.load(sys.stdin)
net = ipaddress.ip_network(lab["subnet"])
at = lambda i: str(net.network_address + i)
print(net, lab["gateway"], at(10), at(99), at(200), at(250))')
aksnet cluster remove --name c1 >/dev/null 2>&1 || true
aksnet network remove --name labnet >/dev/null 2>&1 || true
aksnet network new --name labnet --vswitch-name LabSwitch \
    --ip-address-prefix "$prefix" --gateway "$gateway" --dns-servers "$gateway" \
    --k8s-node-ip-pool-start "$node_start" --k8s-node-ip-pool-end "$node_end" \
    --vip-pool-start "$vip_start" --vip-pool-end "$vip_end"
echo
aksnet plugin list
echo
cluster=(--name c1 --vnet labnet --primary-network-plugin flannel
    --linux-node-count 2 --windows-node-count 1)
aksnet cluster plan "${cluster[@]}" --service-port 80 --service-port 443
echo
aksnet cluster new "${cluster[@]}" --what-if
echo
aksnet cluster new "${cluster[@]}"
echo
echo "== the same create again: nothing to do"
aksnet cluster new "${cluster[@]}" --no-progress 2>/dev/null | grep "^No changes were needed"
echo
aksnet cluster get --name c1
echo
aksnet nodepool get --cluster-name c1
echo
echo "== Get-AksHciCredential, then the real kubectl through the API VIP (HAProxy on c1-lb-0)"
aksnet cluster credential --name c1 --config-path "$AKSNET_HOME/kube" --force
export KUBECONFIG="$AKSNET_HOME/kube/config"
kubectl get nodes -o wide
echo
echo "== a LoadBalancer Service, Sync-AksHciLoadBalancer, then HTTP to its VIP"
kubectl create -f - <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080, protocol: TCP}]
YAML
aksnet loadbalancer sync --name c1
kubectl get services
vip=$(kubectl get service web -o jsonpath='{.status.loadBalancer.ingress[0].ip}')
python - "$vip" <<'PY'
import sys, urllib.request
for _ in range(4):  # answered by the workers' NodePorts, in turn
    print(urllib.request.urlopen(f"http://{sys.argv[1]}/", timeout=5).read().decode().strip())
PY
echo
aksnet cluster remove --name c1
aksnet network get --name labnet
