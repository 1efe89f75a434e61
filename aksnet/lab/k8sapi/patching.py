"""PATCH and PUT bodies of the EMULATED API: JSON patch, merge patch, strategic merge patch.

Strategic merge patch is applied as a JSON merge patch (RFC 7386): for the fields this API
serves (status.loadBalancer.ingress, labels, annotations, ports) a list is replaced whole,
which is what the strategic form does for lists without a patch merge key.
Lab only: product code never imports this module.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from aksnet.lab.k8sapi.resources import ApiError, Obj

JSON_PATCH = "application/json-patch+json"
MERGE_PATCHES = ("application/merge-patch+json", "application/strategic-merge-patch+json")


def change_for(method: str, content_type: str, body: bytes) -> Callable[[Obj], Obj]:
    """The change a PUT (replace) or PATCH of `content_type` makes to an object."""
    media = content_type.split(";")[0].strip()
    value = json.loads(body or b"null")
    if method == "PUT":
        return lambda _old: _object(value)
    if media == JSON_PATCH:
        if not isinstance(value, list):
            raise ApiError(400, "BadRequest", "a JSON patch must be a list of operations")
        return lambda old: json_patch(old, value)
    if media in MERGE_PATCHES:
        return lambda old: _object(merge_patch(old, _object(value)))
    raise ApiError(415, "UnsupportedMediaType", f"the patch type {media!r} is not supported")


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge key by key, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = merge_patch(result.get(name), value)
    return result


def json_patch(target: Obj, operations: list[Any]) -> Obj:
    """RFC 6902 add, replace, remove and test."""
    document = copy.deepcopy(target)
    for operation in operations:
        op, path = operation.get("op"), operation.get("path", "")
        parts = [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]
        if not parts:
            raise ApiError(422, "Invalid", f"JSON patch path {path!r}: the root is not patchable")
        parent: Any = document
        for part in parts[:-1]:
            parent = parent[int(part)] if isinstance(parent, list) else parent.setdefault(part, {})
        last = parts[-1]
        if op in ("add", "replace"):
            _put(parent, last, operation["value"], insert=op == "add")
        elif op == "remove":
            del parent[int(last) if isinstance(parent, list) else last]
        elif op == "test":
            current = parent[int(last)] if isinstance(parent, list) else parent.get(last)
            if current != operation.get("value"):
                raise ApiError(422, "Invalid", f"JSON patch test failed at {path}")
        else:
            raise ApiError(422, "Invalid", f"JSON patch op {op!r} is not supported")
    return document


def _put(parent: Any, last: str, value: Any, *, insert: bool) -> None:
    if isinstance(parent, list):
        if last == "-":
            parent.append(value)
        elif insert:
            parent.insert(int(last), value)
        else:
            parent[int(last)] = value
    else:
        parent[last] = value


def _object(value: Any) -> Obj:
    if not isinstance(value, dict):
        raise ApiError(400, "BadRequest", "the request body must be a JSON object")
    return value
