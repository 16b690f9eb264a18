"""Domain errors: a command refused by the rules, with a message a person can act on."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every refusal the domain makes."""


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


class IneligibleCity(CommandRejected):
    """A city outside the programme's eligibility rules."""
