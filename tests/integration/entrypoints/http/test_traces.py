"""One trace per command, from the HTTP request through the workflow's Update and the activity to
the event store's append, exported to an in-memory exporter from the real API, worker and store."""

from __future__ import annotations

from pathlib import Path

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from eventstore import EventStore
from runtime import telemetry
from tests.integration.entrypoints.http.conftest import CRITERIA
from tests.integration.entrypoints.http.connected_api import connected_api


def named(spans: list[ReadableSpan], name: str) -> ReadableSpan:
    found = [s for s in spans if s.name == name]
    assert len(found) == 1, (name, sorted(s.name for s in spans))
    return found[0]


async def test_a_command_is_one_trace_from_the_request_to_the_append(
    store: EventStore, tmp_path: Path
) -> None:
    exporter = InMemorySpanExporter()
    with telemetry.tracing_to(exporter):
        async with connected_api(store, tmp_path) as api:
            await api.register("traceton")
            staff = await api.city("traceton")
            exporter.clear()  # the registration's spans, and the token's: the snapshot's alone from here
            snapshot = await api.post(
                "/v1/cities/traceton/snapshot",
                staff,
                {"standard_version": "wwc-2022", "answers": dict.fromkeys(CRITERIA[:30], "met")},
            )
    recorded = [e["event_id"] for e in snapshot["events"]]
    assert recorded
    spans = list(exporter.get_finished_spans())

    request = next(s for s in spans if s.kind is SpanKind.SERVER and s.name.startswith("POST "))
    assert request.name == "POST /v1/cities/{city_id}/snapshot"
    trace_id = request.context.trace_id
    ours = [s for s in spans if s.context.trace_id == trace_id]
    update = named(ours, "StartWorkflowUpdate:give")
    handled = named(ours, "HandleUpdate:give")
    activity = named(ours, "RunActivity:record_events")
    append = named(ours, "EventStore.append")
    # One trace, each step inside the one before: API -> client Update -> workflow -> activity -> append.
    assert update.parent is not None and handled.parent is not None and activity.parent is not None
    assert append.parent is not None and append.parent.span_id == activity.context.span_id
    assert (request.attributes or {})["citycert.city_id"] == "traceton"
    assert list((request.attributes or {})["citycert.event_ids"]) == recorded
    assert (request.attributes or {})["citycert.outcome"] == "recorded"
    assert (activity.attributes or {})["citycert.city_id"] == "traceton"
    assert (append.attributes or {})["citycert.stream_id"].endswith("traceton")  # type: ignore[union-attr]
    assert list((append.attributes or {})["citycert.event_ids"]) == recorded
