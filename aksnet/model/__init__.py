"""The desired state: network settings, clusters, node pools and load balancers."""
