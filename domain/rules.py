"""Which decision rules a certification cycle runs under.

A cycle is decided by the rules in force when it opened, as it is reviewed against the standard
revision it opened under: a city halfway through its review when the rules change finishes under
the ones it started with, and a recorded history replays as it ran. Rules that change what an
existing command decides, or which deadlines a cycle has, ask `cycle.rules` which era they are in.

- FIRST: the review as first built (one text per clarification answer, any reviewer, one
  escalation, the standards' first revisions).
- PROGRAMME_REVIEW: the review as the programme runs it (worksheets, assigned reviewers, phase
  clocks, appeals against criteria, the standards' newest revisions).
- ROUNDS: one rule for how a certification ends (each end an explicit CertificationEnded; a
  re-certification's decision, whatever it is, takes effect at its award and supersedes the
  certification held), validity in calendar years from the award moment, certificate numbers,
  and an application names an open round.
- SUSPENSIONS: a suspended certificate gets no re-certification reminders (the programme does not
  invite a city to renew what it has suspended; reinstated, it gets those still due). Its term
  runs on: it lapses at its end date, suspended or not, as a suspension never lengthens it.
"""

from __future__ import annotations

FIRST = 1
PROGRAMME_REVIEW = 2
ROUNDS = 3
SUSPENSIONS = 4
LATEST = SUSPENSIONS
