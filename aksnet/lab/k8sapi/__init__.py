"""The lab's EMULATED Kubernetes API server: enough of the REST API for the kubernetes client.

A lab node has no Kubernetes. This package serves, over TLS with client-certificate
authentication against the cluster's CA, the part of the Kubernetes API that aksnet and its users
need in the lab: discovery, namespaces, nodes (from the lab's control-plane registry,
aksnet.lab.k8sregistry), services with ClusterIP and NodePort allocation, endpoints and events,
with list, watch and patch of services/status. It is EMULATED: /version says so, and so does the
X-Aksnet-Lab header of every response.

Modules: pki (cluster CA, certificates, kubeconfig), objects (the object store, resource
versions and the watch log), resources (the API's objects and allocations), handler (HTTP
routing), server (TLS server), process (start and stop it as a background process in a node).
Lab only: product code never imports this package.
"""
