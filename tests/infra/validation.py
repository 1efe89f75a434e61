"""Validators for the rendered artifacts.

Built-in Kubernetes kinds go through kubernetes-validate in strict mode (unknown fields are
errors). Calico's kinds are CRDs that kubernetes-validate has no schema for, and kubeadm's
configuration is not an API resource: both are checked against JSON schemas written for these
tests (schemas/*.json, each citing where its fields come from), with additionalProperties false.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import kubernetes_validate

from aksnet.model.cluster import DEFAULT_KUBERNETES_VERSION

# kubernetes-validate ships schemas per minor version: use the one of aksnet's default version.
KUBERNETES_SCHEMA_VERSION = ".".join([*DEFAULT_KUBERNETES_VERSION.lstrip("v").split(".")[:2], "0"])
CALICO_API_VERSIONS = ("operator.tigera.io/v1", "projectcalico.org/v3")
SCHEMAS = Path(__file__).parent / "schemas"


@lru_cache
def _schema(name: str) -> dict[str, Any]:
    loaded = json.loads((SCHEMAS / name).read_text())
    assert isinstance(loaded, dict)
    return loaded


def _validate_by_kind(schema_file: str, document: dict[str, Any]) -> None:
    """Validate against the definition named by the document's kind, for precise errors."""
    schema = dict(_schema(schema_file))
    kind = document.get("kind")
    if kind not in schema["$defs"]:
        raise jsonschema.ValidationError(f"kind {kind!r} is not defined in {schema_file}")
    schema.pop("oneOf")
    schema["$ref"] = f"#/$defs/{kind}"
    jsonschema.Draft202012Validator(schema).validate(document)


def validate_manifest(document: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError (or a subclass) when document is not valid."""
    if document.get("apiVersion") in CALICO_API_VERSIONS:
        _validate_by_kind("calico-crds.json", document)
        return
    kubernetes_validate.validate(document, KUBERNETES_SCHEMA_VERSION, strict=True)


def validate_kubeadm(document: dict[str, Any]) -> None:
    _validate_by_kind("kubeadm-v1beta3.json", document)
