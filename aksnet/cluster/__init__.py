"""Cluster operations end to end: create (Linux-only for now), get and remove.

Where hosts come from (aksnet.cluster.hosts): the running lab's lab.json and credentials.json;
keys a cluster must keep across runs (aksnet.cluster.keys) live in AKSNET_HOME/clusters/<name>.
"""
