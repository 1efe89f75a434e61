"""aksnet: Kubernetes clusters on Azure Stack HCI / Hyper-V with the AKS-HCI networking model."""

__version__ = "0.1.0"
