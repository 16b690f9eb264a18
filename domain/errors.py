"""Domain errors: a command refused by the rules, with a message a person can act on.

Two kinds of refusal: `InvalidCommand` is wrong whatever the city's state (it names a standard or a
criterion that does not exist: the caller must change the command), `CommandRejected` is not allowed
now (the city's state must change first). The workflow passes each on by its class name, and the
API answers 422 for the first, 409 for the second.
"""

from __future__ import annotations

from datetime import datetime


class DomainError(Exception):
    """Base of every refusal the domain makes."""


class InvalidCommand(DomainError):
    """A command that can never be allowed as given: an unknown standard version or criterion."""


class CommandRejected(DomainError):
    """A command that the rules do not allow now.

    The message says why and, where useful, what is allowed instead.
    """

    def __init__(self, reason: str, *, allowed: list[str] | None = None) -> None:
        self.reason = reason
        self.allowed = allowed or []
        message = reason
        if self.allowed:
            message += f" (allowed now: {', '.join(self.allowed)})"
        super().__init__(message)


class TooFrequent(CommandRejected):
    """A command given more often than the programme allows (a flood of snapshots): allowed again
    at `retry_at`."""

    def __init__(self, reason: str, *, retry_at: datetime) -> None:
        self.retry_at = retry_at
        super().__init__(f"{reason}; try again after {retry_at:%Y-%m-%d %H:%M} UTC")


class IneligibleCity(CommandRejected):
    """A city outside the programme's eligibility rules."""
