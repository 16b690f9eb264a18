"""The pure certification domain: standards, eligibility, commands, events, and the decider.

Imports only the standard library and pydantic, so the workflow sandbox can pass it through and
unit tests need neither a database nor Temporal.
"""

from domain.actors import Actor
from domain.decider import DEFAULT_POLICY, allowed_commands, decide
from domain.errors import CommandRejected, DomainError, IneligibleCity, InvalidCommand, TooFrequent
from domain.levels import Level, Outcome
from domain.policy import ProgrammePolicy
from domain.state import CityState, Phase, evolve, fold

__all__ = [
    "DEFAULT_POLICY",
    "Actor",
    "CityState",
    "CommandRejected",
    "DomainError",
    "IneligibleCity",
    "InvalidCommand",
    "Level",
    "Outcome",
    "Phase",
    "ProgrammePolicy",
    "TooFrequent",
    "allowed_commands",
    "decide",
    "evolve",
    "fold",
]
