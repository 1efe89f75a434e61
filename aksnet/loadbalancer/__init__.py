"""The HAProxy load balancer of a workload cluster: its frontends, its VM's configuration, and the
synchronisation of LoadBalancer Services with it (issue 5)."""
