"""CityCertificationWorkflow: one per city (id `city-<city_id>`), alive as long as the city takes part.

Thin by design: every rule is the domain's `decide`; this file only orders things in time.
- Human commands arrive as the `give` Update, already typed (GiveCommand). Its validator decides on
  the current state, so a refused command never enters the history; the handler decides again under
  a lock (the state may have moved while it queued), records the events through an activity (their
  ids derived from the caller's request id), folds them, and answers with receipts (ids and types)
  and the city's summary. The validator first checks the application layer's proof, the actor's
  role, and that a command naming who gives it names the actor. The
  older `command` Update (a command by name, no proof) is retired: it refuses every new call, and
  its handler stays only so that histories recorded through it replay.
- Deadlines are one timer: the run loop sleeps until the state's next deadline and gives the due
  timer commands (expire clarifications, escalate reviews, close the appeal window, lapse, and in
  runs started with `warn_before_due_dates` tell people of due dates that are near).
- Reminders arrive as a signal from the reminder sweep.
- When a certification cycle ends, the run continues-as-new carrying the folded state, so a
  history stays one cycle long however many decades the city stays.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from activities.names import RECORD_EVENTS, EventToRecord, RecordEventsInput, RecordEventsResult
from domain import Actor, CityState, CommandRejected, InvalidCommand, Phase, decide, fold, rules
from domain import commands as cmd
from domain import events as ev
from domain.deadlines import deadlines, due_timer_commands, next_deadline
from workflows import search_attributes as sa
from workflows.contracts import (
    CARRIED_SEARCH_ATTRIBUTES,
    COMMANDS,
    CYCLE_ENDS,
    HANDOVER_WHEN_FULL,
    KEEP_DEADLINE_TIMER,
    PATCHES,
    RECORD_LOCALLY,
    RECORD_RETRY,
    ROUNDS_RULES,
    RULED_OUTSIDE_A_CYCLE,
    RULES_PER_CYCLE,
    SCHEDULER,
    SUSPENSION_RULES,
    TIMER,
    TIMER_RETRY_PAUSE,
    CityView,
    CityWorkflowInput,
    CommandRequest,
    CommandResult,
    EventReceipt,
    GiveCommand,
    check_named_actor,
    check_proof,
    check_role,
    command_event_id,
    parse_command,
    refuse_timer_command,
    refused,
)

__all__ = [
    "COMMANDS",
    "CityCertificationWorkflow",
    "CityView",
    "CityWorkflowInput",
    "CommandRequest",
    "CommandResult",
    "GiveCommand",
]


@workflow.defn(name="CityCertification")
class CityCertificationWorkflow:
    @workflow.init
    def __init__(self, input: CityWorkflowInput) -> None:
        # Set up here, not in run(): an Update may arrive before run() starts.
        self.city_id = input.city_id
        self.policy = input.policy
        self.state = input.state or CityState.initial(input.city_id)
        self.use_search_attributes = input.search_attributes
        self.lock = asyncio.Lock()
        self.reminders: list[int] = []
        self.changed = False
        self.cycle_over = False
        self.published: dict[str, Any] = {}
        self.timers_paused_until: datetime | None = None
        self.recording_timers = False
        self.updates_per_run = input.updates_per_run
        # The policy due-date warnings are timed by, or None: a run without them (see the input).
        self.warnings = input.policy if input.warn_before_due_dates else None
        self.updates_accepted = 0
        self.handing_over = False
        self.patched_at_start = frozenset(input.patched_at_start)
        # The deadline's timer while it runs (KEEP_DEADLINE_TIMER), and the deadline it waits for.
        self.timer: asyncio.Future[None] | None = None
        self.timer_deadline: datetime | None = None
        # The decision the `give` validator just made, reused by its handler when nothing moved in
        # between: (the request, the state's version, the time) and the events (see _give).
        self.validated: tuple[tuple[str, int, datetime], list[ev.DomainEvent]] | None = None

    @workflow.run
    async def run(self, input: CityWorkflowInput) -> CityState:
        if self._patched(CARRIED_SEARCH_ATTRIBUTES):
            # Temporal carries the search attributes across continue-as-new: what the last run
            # published stands, and only what differs is sent. A city with nothing recorded yet
            # (its registration is on its way) publishes with its first record.
            self.published = self._carried_search_attributes()
            if self.state.version > 0:
                self._publish()
        else:
            self._publish()
        keep_timer = self._patched(KEEP_DEADLINE_TIMER)
        while not self.cycle_over and self.state.phase is not Phase.WITHDRAWN:
            if self._history_full():
                self.handing_over = True  # the validator answers CityBusy from now on
                break
            deadline = next_deadline(self.state, self.warnings)
            if deadline and self.timers_paused_until:
                deadline = max(deadline, self.timers_paused_until)
            if keep_timer:
                await self._wait_for_change_or(deadline)
            else:  # runs recorded before: a timer per wait, cancelled when anything changed
                timeout = max(deadline - workflow.now(), timedelta(0)) if deadline else None
                with contextlib.suppress(TimeoutError):  # the deadline came: give the due timer commands
                    await workflow.wait_condition(
                        lambda: self.changed or bool(self.reminders), timeout=timeout
                    )
            self.changed = False
            async with self.lock:
                self.recording_timers = True
                for command in due_timer_commands(self.state, workflow.now(), self.warnings):
                    await self._try(command, TIMER)
                while self.reminders:
                    await self._try(cmd.SendReminder(threshold_days=self.reminders.pop(0)), SCHEDULER)
                self.recording_timers = False
        # Let in-flight Updates return their results before this run ends.
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self.state.phase is Phase.WITHDRAWN:
            return self.state
        workflow.continue_as_new(
            CityWorkflowInput(
                city_id=self.city_id,
                policy=self.policy,
                state=self.state,
                search_attributes=self.use_search_attributes,
                updates_per_run=self.updates_per_run,
                warn_before_due_dates=self.warnings is not None,
                # The next run starts on this code: every patch it knows is on from its start.
                patched_at_start=PATCHES,
            )
        )

    async def _wait_for_change_or(self, deadline: datetime | None) -> None:
        """Wait until something changed, a reminder came, or `deadline` (None: none) has come.

        The timer is started when the deadline moves and kept while it stays: a command that
        leaves the city's next deadline where it was (in the benchmark's cycle, the reviewer's
        declaration of no conflict; most commands there do move it) would otherwise cancel the
        timer and start it again: two commands in the history and two timer tasks on the server
        for nothing."""
        if deadline != self.timer_deadline:
            if self.timer is not None:
                self.timer.cancel()
            self.timer, self.timer_deadline = None, deadline
            if deadline is not None:
                wait = deadline - workflow.now()
                if wait <= timedelta(0):
                    return  # come already: the due timer commands are given at once
                self.timer = asyncio.ensure_future(workflow.sleep(wait))
        timer = self.timer
        await workflow.wait_condition(
            lambda: self.changed or bool(self.reminders) or (timer is not None and timer.done())
        )
        if timer is not None and timer.done():
            self.timer, self.timer_deadline = None, None

    def _patched(self, patch_id: str) -> bool:
        """workflow.patched, unless the run was started with the patch on (CityWorkflowInput.
        patched_at_start): then it is on without a marker or a TemporalChangeVersion upsert."""
        return patch_id in self.patched_at_start or workflow.patched(patch_id)

    def _history_full(self) -> bool:
        """Whether this run should hand over to a fresh one before the cycle ends: after
        `updates_per_run` accepted commands, or when Temporal suggests it (the history grows large).
        Behind a patch, asked only when the rule applies: runs recorded before it replay as they
        ran, and an ordinary run records no marker (one per run cost the worker ~12 KiB per open
        city, bench/lifecycle.py)."""
        full = self.updates_accepted >= self.updates_per_run or workflow.info().is_continue_as_new_suggested()
        return full and self._patched(HANDOVER_WHEN_FULL)

    # --- commands ------------------------------------------------------------------------------

    @workflow.update
    async def give(self, request: GiveCommand) -> CommandResult:
        return await self._give(request.command, request.actor, request.request_id)

    @give.validator
    def _validate_give(self, request: GiveCommand) -> None:
        # Who asks first: a command without the application layer's proof, or from a role that
        # may not give it, is refused before anything else is said about it.
        check_proof(self.city_id, request)
        refuse_timer_command(request.command)
        check_role(request.actor, request.command)
        check_named_actor(request.actor, request.command)
        events = self._check(request.command)
        self.validated = (self._decision_key(), events)

    # The untyped predecessor of `give`, retired: it carries no proof, so its validator refuses
    # every new call. Its handler stays because histories recorded before `give` existed replay it.
    @workflow.update
    async def command(self, request: CommandRequest) -> CommandResult:
        return await self._give(parse_command(request), request.actor)

    @command.validator
    def _validate_command(self, request: CommandRequest) -> None:
        raise ApplicationError(
            "the command Update is retired: commands are given through citycert (the give Update)",
            type="NotAuthorized",
            non_retryable=True,
        )

    async def _give(self, command: cmd.Command, actor: Actor, request_id: str = "") -> CommandResult:
        async with self.lock:
            in_force = self._rules_for(command)
            events = self._validated(in_force)
            if events is None:
                events = self._decide(command, in_force)
            recorded = await self._record(events, actor, request_id)
            self.updates_accepted += 1
        receipts = [EventReceipt(event_id=r.event_id, type=r.type) for r in recorded]
        return CommandResult(events=receipts, status=self.state.summary())

    def _decision_key(self) -> tuple[str, int, datetime]:
        """What a decision of the current Update depends on besides its command: the state (its
        version) and the time."""
        update = workflow.current_update_info()
        assert update is not None, "asked only in an Update's validator or handler"
        return update.id, self.state.version, workflow.now()

    def _validated(self, in_force: int) -> list[ev.DomainEvent] | None:
        """The events the validator decided for this Update, if nothing moved since (the same
        state and time, the latest rules): deciding is a pure function of those, so deciding again
        would give the same events. Replay runs no validator and decides in the handler, to the
        same events."""
        validated, self.validated = self.validated, None
        if validated is None or in_force != rules.LATEST or validated[0] != self._decision_key():
            return None
        return validated[1]

    def _check(self, command: cmd.Command) -> list[ev.DomainEvent]:
        # A moment when the state is about to move without the caller: the run hands over to the
        # next one, or a deadline has come and is being recorded. Deciding on the old state would
        # refuse (or allow) wrongly; the caller retries shortly (the API does so by itself).
        if self.cycle_over:
            raise ApplicationError("the certification cycle is closing; try again", type="CityBusy")
        if self.handing_over:
            raise ApplicationError("the city's workflow is moving to a fresh run; try again", type="CityBusy")
        if self.recording_timers or due_timer_commands(self.state, workflow.now(), self.warnings):
            raise ApplicationError("a deadline is being recorded; try again", type="CityBusy")
        return self._decide(command)

    def _rules_for(self, command: cmd.Command) -> int:
        """The rules a cycle opens under, or a snapshot is taken by (domain/rules.py): the latest,
        except when replaying a history recorded before they were chosen this way. Asked only for
        the commands they decide, so an ordinary run records no marker."""
        if not isinstance(command, RULED_OUTSIDE_A_CYCLE):
            return rules.LATEST
        if self._patched(SUSPENSION_RULES):
            return rules.SUSPENSIONS
        if self._patched(ROUNDS_RULES):
            return rules.ROUNDS
        return rules.PROGRAMME_REVIEW if self._patched(RULES_PER_CYCLE) else rules.FIRST

    def _decide(self, command: cmd.Command, in_force: int = rules.LATEST) -> list[ev.DomainEvent]:
        """The events a person's command causes now, or its refusal as a non-retryable error.
        (The validator decides under the latest rules: it never runs on replay.)"""
        refuse_timer_command(command)
        try:
            return decide(self.state, command, now=workflow.now(), policy=self.policy, rules=in_force)
        except (CommandRejected, InvalidCommand) as e:
            raise refused(e) from None

    @workflow.signal
    def remind(self, threshold_days: int) -> None:
        """From the reminder sweep: a reminder threshold has come for this city."""
        self.reminders.append(threshold_days)

    @workflow.query
    def current_state(self) -> CityState:
        return self.state

    @workflow.query
    def view(self) -> CityView:
        cycle = self.state.cycle
        return CityView(
            city_id=self.city_id,
            phase=self.state.phase,
            version=self.state.version,
            open_items=[i.criterion_id for i in cycle.open_items] if cycle else [],
            deadlines=deadlines(self.state, self.warnings),
        )

    # --- recording -----------------------------------------------------------------------------

    async def _try(self, command: cmd.Command, actor: Actor) -> None:
        """A timer or reminder command: one the state no longer needs is simply not given.

        If recording it fails for good (the store refused it), the city's workflow must not die
        with it: log, and try the due timers again after a pause instead of at once.
        """
        try:
            events = decide(self.state, command, now=workflow.now(), policy=self.policy)
        except CommandRejected as e:
            workflow.logger.info("timer command not needed: %s", e)
            return
        try:
            await self._record(events, actor)
        except ActivityError as e:
            workflow.logger.error("could not record %s: %s", command.command_name(), e.cause or e)
            self.timers_paused_until = workflow.now() + TIMER_RETRY_PAUSE

    async def _record(
        self, events: list[ev.DomainEvent], actor: Actor, request_id: str = ""
    ) -> list[EventToRecord]:
        info = workflow.info()
        now = workflow.now()
        records = [
            EventToRecord(
                # Replay-stable either way: a retried activity sends the same ids, so the store's
                # idempotent append writes them once. From the caller's request id when it gave
                # one (it can then find them), else workflow.uuid4() (timers, older histories).
                event_id=command_event_id(request_id, i) if request_id else workflow.uuid4(),
                type=e.event_type(),
                data=e.model_dump(mode="json"),
                occurred_at=now,
                actor=actor,
                workflow_id=info.workflow_id,
                run_id=info.run_id,
            )
            for i, e in enumerate(events)
        ]
        recording = RecordEventsInput(
            city_id=self.city_id, expected_version=self.state.version, events=records
        )
        if self._patched(RECORD_LOCALLY):
            # A local activity: the append runs within this workflow task, so an accepted command
            # costs one task instead of a task, a dispatch to an activity poller and another task.
            # A retry after the task is lost (the worker died mid-record) is safe: the event ids
            # are replay-stable and the store's append is idempotent, so it finds its events
            # recorded and answers as the first attempt did (tests/e2e/workflows/test_faults.py).
            result = await workflow.execute_local_activity(
                RECORD_EVENTS,
                recording,
                result_type=RecordEventsResult,
                start_to_close_timeout=timedelta(seconds=10),
                retry_policy=RECORD_RETRY,
            )
        else:  # histories recorded before: a regular activity
            result = await workflow.execute_activity(
                RECORD_EVENTS,
                recording,
                result_type=RecordEventsResult,
                # An append takes milliseconds; a short timeout lets a retry reach a live worker soon
                # after the one running it died (without heartbeats the server waits this long).
                start_to_close_timeout=timedelta(seconds=10),
                retry_policy=RECORD_RETRY,
            )
        if result.adopted:
            # The task that first decided this command was lost after its append committed (its
            # worker died mid-record), and this retry decided it again at a later `now`: the
            # recorded events are the facts, so the state folds those.
            events = [ev.EVENT_TYPES[a.type].model_validate(a.data) for a in result.adopted]
        self.state = fold(self.state, events)
        assert result.version == self.state.version, "the store and the workflow agree on the version"
        self.cycle_over = self.cycle_over or any(isinstance(e, CYCLE_ENDS) for e in events)
        self.changed = True
        self._publish()
        return records

    def _carried_search_attributes(self) -> dict[str, Any]:
        """Our search attributes as this run started with them: those its predecessor published."""
        carried = workflow.info().typed_search_attributes
        return {key.name: carried.get(key) for key in sa.ALL}

    def _publish(self) -> None:
        """Keep the search attributes current so operators can list cities from Temporal's side.

        Only changes are sent: each upsert is a command in the history, and a key is unset only
        once it was set (the test server cannot read back a never-set Datetime key unset).
        """
        if not self.use_search_attributes:
            return
        wanted = sa.of_state(self.state)
        updates = []
        for key in sa.ALL:
            value = wanted[key.name]
            if value == self.published.get(key.name):
                continue
            updates.append(key.value_set(value) if value is not None else key.value_unset())
            self.published[key.name] = value
        if updates:
            workflow.upsert_search_attributes(updates)
