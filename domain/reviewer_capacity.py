"""A reviewer's capacity, for an assignment given by hand (automatic assignment's planner keeps to
it already: domain/assignment.py).

Our choice: an assignment beyond it is refused, not allowed with a warning. The capacity is the
reviewer's own agreed limit, on their record; a reviewer who agreed to take more has it raised
there (PUT /v1/people/{id}/reviewer-profile), which records who raised it and when, as a warning
clicked through would not. The refusal says so, and names their load.
"""

from __future__ import annotations

from domain.errors import CommandRejected


def refuse_beyond_reviewer_capacity(reviewer_id: str, capacity: int, load: int, taking: int) -> None:
    """CommandRejected when `reviewer_id`, with `load` open criteria assigned across every city, has
    no room within `capacity` for `taking` more; nothing when they do (or take none)."""
    if taking <= 0 or load + taking <= capacity:
        return
    raise CommandRejected(
        "reviewer {reviewer_id} has {load} open criteria of a capacity of {capacity}: no room for "
        "{taking} more; choose another reviewer, or raise their capacity on their record if they "
        "agreed to take more",
        reviewer_id=reviewer_id,
        load=load,
        capacity=capacity,
        taking=taking,
    )
