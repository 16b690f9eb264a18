"""Seeing citycert run: metrics in Prometheus' text format, and traces with OpenTelemetry.

Metrics are off until CITYCERT_METRICS_PORT is set (`citycert dev` turns them on by itself, on
DEV_METRICS_PORT). Then one endpoint, http://CITYCERT_METRICS_HOST:CITYCERT_METRICS_PORT/metrics,
answers with ours (the `citycert_*` families below, from prometheus_client's registry) followed by
the Temporal SDK's own (`temporal_*`: the worker's polls, task latencies, slots; the client's
requests). The SDK serves those from its Rust core on an endpoint of its own: we bind it to a free
loopback port that nobody needs to know, and our endpoint reads it on every scrape, so Prometheus
scrapes one target per process.

Traces are off unless OpenTelemetry's standard OTEL_EXPORTER_OTLP_ENDPOINT (or
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set: then spans go to that collector over OTLP/HTTP, and a
command's trace runs from the HTTP request (the FastAPI instrumentation) through the Temporal Update
and the activity (temporalio's TracingInterceptor, on every client `runtime.temporal.connect`
makes and so on the workers built on it) to the event store's append. The other OTEL_* variables
(OTEL_SERVICE_NAME, OTEL_EXPORTER_OTLP_HEADERS, ...) mean what OpenTelemetry says they mean.
"""

from __future__ import annotations

import errno
import functools
import inspect
import os
import socket
import threading
import urllib.request
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, TypeVar

import structlog
from opentelemetry import trace
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from runtime.process import StartupError
from runtime.settings import Settings, env_name

if TYPE_CHECKING:
    from fastapi import FastAPI
    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from temporalio.client import Interceptor

log = structlog.get_logger("citycert.telemetry")

DEV_METRICS_PORT = 9464  # `citycert dev` with CITYCERT_METRICS_PORT unset (OpenTelemetry's Prometheus port)

# --- our metrics ----------------------------------------------------------------------------------

HTTP_REQUEST_SECONDS = Histogram(
    "citycert_http_request_duration_seconds",
    "HTTP requests by method, route template and status, and how long they took (its _count counts them)",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
COMMANDS = Counter(
    "citycert_commands",
    "Commands given through the command service, by kind and outcome "
    "(recorded, refused, busy, invalid, forbidden, not_found, unavailable, error)",
    ["command", "outcome"],
)
MAIL_OUTBOX = Gauge(
    "citycert_mail_outbox",
    "Mail not yet out, as the relay last counted it: notifications not handed over (queued), "
    "deliveries waiting to be sent (pending), deliveries failed for good (failed)",
    ["state"],
)
MAIL_DELIVERY_FAILURES = Counter(
    "citycert_mail_delivery_failures",
    "Mail deliveries that failed: retrying (a temporary failure, tried again later) or failed (for good)",
    ["outcome"],
)
WORKFLOWS_NOT_RUNNING = Gauge(
    "citycert_workflows_not_running",
    "Cities whose workflow should run and does not (app/supervision.py), as last checked",
)
WORKFLOWS_CHECKED = Gauge(
    "citycert_workflows_checked_timestamp_seconds",
    "When citycert_workflows_not_running was last checked (Unix time)",
)
UNROUTED = "unrouted"  # the route label of a request no route took (a 404, or refused before routing)


def route_of(scope: Mapping[str, Any]) -> str:
    """The route template a request matched (/v1/cities/{city_id}), never its raw path: the label
    stays bounded however many cities there are."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNROUTED


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    HTTP_REQUEST_SECONDS.labels(method, route, str(status)).observe(seconds)


R = TypeVar("R")


def counted_command(
    outcome_of: Callable[[BaseException], str],
) -> Callable[[Callable[..., Awaitable[R]]], Callable[..., Awaitable[R]]]:
    """A decorator for a command service method taking `command` (and `city_id`, or the command's
    own): counts each call in citycert_commands by the command's kind and outcome (`recorded`, or
    outcome_of(the error)), and marks the current span with the city and the recorded event ids.
    The method's result has `events`, each with an `event_id`."""

    def decorate(method: Callable[..., Awaitable[R]]) -> Callable[..., Awaitable[R]]:
        signature = inspect.signature(method)

        @functools.wraps(method)
        async def counted(*args: Any, **kwargs: Any) -> R:
            given = signature.bind(*args, **kwargs).arguments
            command = given["command"]
            kind = getattr(command, "kind", type(command).__name__)
            city_id = given.get("city_id") or getattr(command, "city_id", None)
            span = trace.get_current_span()
            if city_id:
                span.set_attribute("citycert.city_id", str(city_id))
            span.set_attribute("citycert.command", kind)
            try:
                result = await method(*args, **kwargs)
            except Exception as e:  # a cancelled call (the caller went away) is no outcome
                outcome = outcome_of(e)
                COMMANDS.labels(kind, outcome).inc()
                span.set_attribute("citycert.outcome", outcome)
                raise
            COMMANDS.labels(kind, "recorded").inc()
            span.set_attribute("citycert.outcome", "recorded")
            span.set_attribute("citycert.event_ids", [str(e.event_id) for e in getattr(result, "events", ())])
            return result

        return counted

    return decorate


def mark_span(**attributes: Any) -> None:
    """Set `citycert.<name>` attributes on the current span (nothing when tracing is off)."""
    span = trace.get_current_span()
    for name, value in attributes.items():
        if value is not None:
            span.set_attribute(f"citycert.{name}", value)


# --- the Temporal SDK's metrics -------------------------------------------------------------------

_sdk: tuple[Runtime, str] | None = None  # the runtime and where its Prometheus endpoint listens
_sdk_lock = threading.Lock()


def temporal_runtime() -> Runtime | None:
    """The Temporal runtime every client of this process connects with once metrics are served
    (serving_metrics); None before, and when metrics are off (the SDK's default runtime then)."""
    return _sdk[0] if _sdk else None


def _start_sdk_metrics() -> str:
    """A Temporal runtime exporting the SDK's metrics on a free loopback port: made once per
    process (a runtime's endpoint lives as long as the process), its address."""
    global _sdk
    with _sdk_lock:
        if _sdk is None:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                address = f"127.0.0.1:{probe.getsockname()[1]}"
            config = PrometheusConfig(
                bind_address=address, counters_total_suffix=True, durations_as_seconds=True
            )
            _sdk = (Runtime(telemetry=TelemetryConfig(metrics=config)), address)
        return _sdk[1]


def _sdk_metrics(address: str) -> bytes:
    try:
        with urllib.request.urlopen(f"http://{address}/metrics", timeout=5) as answer:
            body: bytes = answer.read()
            return body
    except OSError as e:
        return f"# the Temporal SDK's metrics did not answer: {e}\n".encode()


# --- the endpoint ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricsEndpoint:
    host: str
    port: int

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{self.port}/metrics"


def _handler(sdk_address: str) -> type[BaseHTTPRequestHandler]:
    class Metrics(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] not in ("/metrics", "/"):
                self.send_error(404, "metrics are at /metrics")
                return
            body = generate_latest(REGISTRY) + _sdk_metrics(sdk_address)
            self.send_response(200)
            self.send_header("Content-Type", CONTENT_TYPE_LATEST)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # scrapes are not worth a log line
            pass

    return Metrics


@contextmanager
def serving_metrics(
    settings: Settings, *, default_port: int | None = None
) -> Iterator[MetricsEndpoint | None]:
    """Serve /metrics on CITYCERT_METRICS_HOST:CITYCERT_METRICS_PORT for the block (None: off).

    Enter it before connecting to Temporal: the clients made after it carry the SDK's metrics.
    With the setting unset, `default_port` is used when given (`citycert dev`), and a port taken
    there only turns metrics off with a warning; a port set and taken is a StartupError.
    """
    port = settings.metrics_port or default_port
    if port is None:
        yield None
        return
    sdk_address = _start_sdk_metrics()
    try:
        server = ThreadingHTTPServer((settings.metrics_host, port), _handler(sdk_address))
    except OSError as e:
        if settings.metrics_port is None:
            log.warning("metrics.off", port=port, reason=str(e), hint=f"set {env_name('metrics_port')}")
            yield None
            return
        taken = "is already in use" if e.errno == errno.EADDRINUSE else f"cannot be used ({e.strerror})"
        raise StartupError(
            f"metrics: port {port} on {settings.metrics_host} {taken}; set {env_name('metrics_port')} "
            f"(or {env_name('metrics_host')})"
        ) from e
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="metrics", daemon=True)
    thread.start()
    endpoint = MetricsEndpoint(settings.metrics_host, server.server_address[1])
    log.info("metrics.serving", url=endpoint.url)
    try:
        yield endpoint
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# --- traces ---------------------------------------------------------------------------------------

_tracing: TracerProvider | None = None
_exporting = False  # configure_tracing has added the OTLP exporter (once per process)
_OTLP_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def tracing_on() -> bool:
    return _tracing is not None


def configure_tracing(service: str) -> bool:
    """Send spans to the OTLP collector of OTEL_EXPORTER_OTLP_ENDPOINT, if set; whether it is.
    Call it once, early, in a process's start (before connecting to Temporal or building the API)."""
    if not any(os.environ.get(name) for name in _OTLP_VARIABLES):
        return False
    if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    global _exporting
    if _exporting:
        return True
    _exporting = True
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    _install(BatchSpanProcessor(OTLPSpanExporter()), service)
    log.info("tracing.on", service=os.environ.get("OTEL_SERVICE_NAME", service))
    return True


@contextmanager
def tracing_to(exporter: SpanExporter, service: str = "citycert") -> Iterator[None]:
    """Tracing on for the block, every span going to `exporter` as it ends (tests: an in-memory
    exporter); the clients and apps made inside the block are traced."""
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    processor = SimpleSpanProcessor(exporter)
    _install(processor, service)
    try:
        yield
    finally:
        global _tracing
        _tracing = None
        processor.shutdown()


def _install(processor: SpanProcessor, service: str) -> None:
    """Our tracer provider, made global the first time (OpenTelemetry's global is set once per
    process), with `processor` added."""
    global _tracing
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider

    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider(
            resource=Resource.create({SERVICE_NAME: os.environ.get("OTEL_SERVICE_NAME", service)})
        )
        trace.set_tracer_provider(provider)
    provider.add_span_processor(processor)
    _tracing = provider


def temporal_interceptors() -> Sequence[Interceptor]:
    """The client interceptors that carry a trace into Temporal and on through the workers built
    on that client (none while tracing is off)."""
    if _tracing is None:
        return ()
    return (_command_tracing()(_tracing.get_tracer("temporalio")),)


@functools.cache
def _command_tracing() -> type[Any]:
    """temporalio's TracingInterceptor, with each Update traced as part of its command's trace.

    Out of the box an Update's handler runs in the context of its workflow run, so everything it
    does (the activity, the append) joins the trace of whatever started the run, and only links to
    the Update: a city's run lives for a certification cycle, years, so every command of those
    years would land in its registration's trace. Here the Update's validator and handler run in
    the context the client sent with the Update: one trace per command, request to append. Spans
    are still made only when the workflow is not replaying (the SDK's rule), so replays add none.
    """
    import opentelemetry.context
    import temporalio.worker
    from temporalio.contrib.opentelemetry import TracingInterceptor, TracingWorkflowInboundInterceptor

    class CommandTracingWorkflowInterceptor(TracingWorkflowInboundInterceptor):
        def _update_context(self, input: Any) -> Any:
            header = input.headers.get(self.header_key)
            if not header:
                return None
            carrier = self.payload_converter.from_payloads([header])[0]
            return self._set_on_context(self.text_map_propagator.extract(carrier))

        def handle_update_validator(self, input: temporalio.worker.HandleUpdateInput) -> None:
            context = self._update_context(input)
            if context is None:
                return super().handle_update_validator(input)
            token = opentelemetry.context.attach(context)
            try:
                self._completed_span(f"ValidateUpdate:{input.update}", kind=trace.SpanKind.SERVER)
                self.next.handle_update_validator(input)
            finally:
                opentelemetry.context.detach(token)

        async def handle_update_handler(self, input: temporalio.worker.HandleUpdateInput) -> Any:
            context = self._update_context(input)
            if context is None:
                return await super().handle_update_handler(input)
            token = opentelemetry.context.attach(context)
            try:
                self._completed_span(f"HandleUpdate:{input.update}", kind=trace.SpanKind.SERVER)
                return await self.next.handle_update_handler(input)
            finally:
                opentelemetry.context.detach(token)

    class CommandTracingInterceptor(TracingInterceptor):
        def workflow_interceptor_class(
            self, input: temporalio.worker.WorkflowInterceptorClassInput
        ) -> type[TracingWorkflowInboundInterceptor]:
            super().workflow_interceptor_class(input)  # the externs the workflow side calls
            return CommandTracingWorkflowInterceptor

    return CommandTracingInterceptor


def instrument_api(app: FastAPI) -> None:
    """A server span for every request to `app` while tracing is on (the health check left out)."""
    if _tracing is None:
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app, tracer_provider=_tracing, excluded_urls="/v1/health")
