"""An action: one mutation of one host, with a human title and the values that must stay secret.

An action is a value (host, title, what to do, how to predict its effect) so it can be printed,
compared in tests and journaled before it runs. Titles may name a secret (a join token, a
password) only through `secrets`: everything shown to a person or written to the store goes
through `masked`, which replaces each secret with `<N characters>`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from aksnet.errors import InvalidInput, mask
from aksnet.plan.facts import Forecast

KINDS = ("create", "change", "delete", "run")

Do = Callable[[], object]
Simulate = Callable[[Forecast], None]


@dataclass(frozen=True)
class Action:
    """One mutation of `host`. `do` performs it; `simulate` predicts its effect in a dry run."""

    host: str
    title: str
    do: Do = field(compare=False, repr=False)
    simulate: Simulate | None = field(default=None, compare=False, repr=False)
    kind: str = "change"
    secrets: tuple[str, ...] = field(default=(), compare=False, repr=False)
    # A resumed run skips actions an earlier run of the operation completed. An action whose
    # need comes from time (renewing an expiring join token) may be needed again after it was
    # done: `repeatable` ones are never skipped; their facts alone decide.
    repeatable: bool = field(default=False, compare=False)

    def __post_init__(self) -> None:
        if not self.host:
            raise InvalidInput("host", self.host, "it must name the host the action changes.")
        if not self.title.strip():
            raise InvalidInput("title", self.title, "an action needs a human-readable title.")
        if self.kind not in KINDS:
            raise InvalidInput("kind", self.kind, f"it must be one of {', '.join(KINDS)}.")
        if any(not s for s in self.secrets):
            raise InvalidInput("secrets", "<empty>", "a secret value cannot be empty.")

    @property
    def shown_title(self) -> str:
        """The title as a person or the journal may see it."""
        return masked(self.title, self.secrets)

    def __repr__(self) -> str:
        return f"Action(host={self.host!r}, title={self.shown_title!r}, kind={self.kind!r})"


def masked(text: str, secrets: Sequence[str]) -> str:
    """`text` with every secret value replaced by `<N characters>`, longest first.

    Longest first, so a secret that contains another one is not half-masked.
    """
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, mask(secret))
    return text
