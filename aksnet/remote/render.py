"""The one renderer of PowerShell text: typed statements -> a WinRM script that carries no value.

Over WinRM (pywinrm ``run_ps``) only script text can be sent. So the script is a fixed template;
the statements (command names, parameter names and values) travel as one base64-encoded JSON
document inside a single-quoted literal whose alphabet (A-Z a-z 0-9 + / =) can hold no quote, no
``$``, no backtick and no newline. The script decodes it with ConvertFrom-Json and splats the
parameters: no value ever passes through the PowerShell parser.

The script answers with one JSON document on stdout: ``{"output": [...]}`` on success, or
``{"error": {...}}`` with the error record of the first failure (``$ErrorActionPreference`` is
Stop, so a non-terminating error fails the step as well).

Values the document carries: JSON scalars, lists and string-keyed dicts (hashtables), plus bytes,
tagged as ``{"__aksnet_bytes__": "<base64>"}`` and turned back into ``[byte[]]`` by the script.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Sequence
from typing import Any

from aksnet.remote.base import Statement, as_pipeline

ENVELOPE_VERSION = 1
BYTES_TAG = "__aksnet_bytes__"

# The template. `{payload}` is the only hole and receives base64 text only.
TEMPLATE = """\
# aksnet-envelope v1
$ErrorActionPreference='Stop';$ProgressPreference='SilentlyContinue'
function V($v){
if($v -is [Management.Automation.PSCustomObject]){
$n=@($v.PSObject.Properties|%{$_.Name})
if($n.Count -eq 1 -and $n[0] -eq '__aksnet_bytes__'){
return ,[Convert]::FromBase64String($v.__aksnet_bytes__)}
$h=@{};foreach($p in $v.PSObject.Properties){$h[$p.Name]=V $p.Value};return $h}
if($v -is [object[]]){return ,@($v|%{V $_})};return $v}
$d=[Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('{payload}'))|ConvertFrom-Json
try{
$o=foreach($s in $d.statements){$f=$null;$i=0
foreach($c in $s){$a=@{};foreach($p in $c.parameters.PSObject.Properties){$a[$p.Name]=V $p.Value}
if($i -eq 0){$f=@(& $c.name @a)}else{$f=@($f|& $c.name @a)};$i++};$f}
@{output=@($o)}|ConvertTo-Json -Depth 8 -Compress
}catch{$e=$_
$t=if($null -ne $e.TargetObject){$e.TargetObject.ToString()}else{$null}
$r=@{message=$e.Exception.Message;category=$e.CategoryInfo.Category.ToString()
fullyQualifiedErrorId=$e.FullyQualifiedErrorId;target=$t}
@{error=$r}|ConvertTo-Json -Compress
exit 1}
"""

_PAYLOAD = re.compile(r"FromBase64String\('([A-Za-z0-9+/=]*)'\)")


def _encode_value(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return {BYTES_TAG: base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dict):
        return {str(k): _encode_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode_value(v) for v in value]
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {BYTES_TAG}:
            return base64.b64decode(value[BYTES_TAG])
        return {k: _decode_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode_value(v) for v in value]
    return value


def envelope_document(statements: Sequence[Statement]) -> dict[str, Any]:
    """The JSON document that carries the statements."""
    return {
        "version": ENVELOPE_VERSION,
        "statements": [
            [
                {"name": c.name, "parameters": {k: _encode_value(v) for k, v in c.parameters}}
                for c in as_pipeline(s).commands
            ]
            for s in statements
        ],
    }


# pywinrm's run_ps sends `powershell -encodedcommand <base64 of UTF-16LE>` through cmd.exe,
# whose command line holds 8191 characters: 3061 characters of script at the most.
MAX_SCRIPT = 3061


def render_script(statements: Sequence[Statement]) -> str:
    """The script for pywinrm's run_ps; callers keep it within MAX_SCRIPT (split or refuse)."""
    doc = json.dumps(envelope_document(statements), ensure_ascii=False, separators=(",", ":"))
    payload = base64.b64encode(doc.encode("utf-8")).decode("ascii")
    return TEMPLATE.replace("{payload}", payload)


def decode_script(script: str) -> list[list[tuple[str, dict[str, Any]]]] | None:
    """The statements a rendered script carries, or None when it is not an aksnet envelope.

    Used by the lab, which runs no other script text; the template around the payload must be
    exactly TEMPLATE, so a tampered script is not taken for an envelope.
    """
    found = _PAYLOAD.search(script)
    if found is None or script != TEMPLATE.replace("{payload}", found.group(1)):
        return None
    doc = json.loads(base64.b64decode(found.group(1)).decode("utf-8"))
    return [
        [(c["name"], {k: _decode_value(v) for k, v in c["parameters"].items()}) for c in stmt]
        for stmt in doc["statements"]
    ]
