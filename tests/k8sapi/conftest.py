from tests.k8sapi.fixtures import running_api

__all__ = ["running_api"]
