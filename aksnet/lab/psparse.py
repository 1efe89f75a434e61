"""PowerShell parsing helpers built on tree-sitter-powershell (syntax only, no semantics).

The lab runs no script text; it parses scripts to answer the way PowerShell would: a
ParserError when the text does not parse, otherwise a refusal naming the commands it found.
tree-sitter-powershell has known false positives on valid PowerShell (numeric multipliers such as
``2 * 1GB`` in expressions, one-line ``switch`` with ``default``); has_error reports them too.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import tree_sitter_powershell
from tree_sitter import Language, Node, Parser, Tree

_LANGUAGE = Language(tree_sitter_powershell.language())


@dataclass(frozen=True)
class ParseProblem:
    """Where the script stops parsing (1-based line and column, as PowerShell reports)."""

    line: int
    column: int
    near: str

    def __str__(self) -> str:
        where = f"At line:{self.line} char:{self.column}"
        return f"{where}: unexpected or missing token near {self.near!r}"


@dataclass(frozen=True)
class CommandUse:
    """One command invocation found in a script, with the -Parameter names it uses."""

    name: str
    parameters: tuple[str, ...]


def parse(text: str) -> Tree:
    """Parse PowerShell text. A new Parser per call: Parser objects are not thread-safe."""
    return Parser(_LANGUAGE).parse(text.encode("utf-8"))


def _walk(node: Node) -> Iterator[Node]:
    yield node
    for child in node.children:
        yield from _walk(child)


def has_error(text: str) -> ParseProblem | None:
    """The first ERROR or MISSING node of the script, or None when it parses."""
    root = parse(text).root_node
    if not root.has_error:
        return None
    for node in _walk(root):
        if node.is_error or node.is_missing:
            row, col = node.start_point
            near = (node.text or b"").decode("utf-8", "replace")[:30] or node.type
            return ParseProblem(row + 1, col + 1, near)
    return ParseProblem(1, 1, "")  # has_error without a located node: report the start


def extract(text: str) -> list[CommandUse]:
    """The (command, -parameters) pairs of the script, in source order."""
    uses = []
    for node in _walk(parse(text).root_node):
        if node.type != "command":
            continue
        name_node = node.child_by_field_name("command_name")
        if name_node is None or name_node.text is None:
            continue
        params = tuple(
            (p.text or b"").decode("utf-8", "replace")
            for p in _walk(node)
            if p.type == "command_parameter"
        )
        uses.append(CommandUse(name_node.text.decode("utf-8", "replace"), params))
    return uses
