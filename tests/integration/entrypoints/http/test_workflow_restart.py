"""An operator restarts a city workflow that stopped, over HTTP: the same app function as
`citycert workflow restart`, on the time-skipping server with a real worker and PostgreSQL."""

from __future__ import annotations

from temporalio.client import WorkflowExecutionStatus

from readmodel import load_city_state
from tests.integration.entrypoints.http.conftest import DOCS, Api

RESTART = "/v1/cities/{}/workflow/restart"


async def test_an_operator_restarts_a_terminated_city_workflow_from_its_events(api: Api) -> None:
    assert api.env is not None
    operator, staff = await api.operator(), await api.city("westmoor")
    await api.register("westmoor")
    await api.post(
        "/v1/cities/westmoor/application", staff, {"round_id": "2026-fall", "standard_version": "wwc-2022"}
    )
    handle = api.env.client.get_workflow_handle("city-westmoor")
    first = await handle.describe()

    while_running = await api.post(RESTART.format("westmoor"), operator, expect=409)
    by_staff = await api.post(RESTART.format("westmoor"), staff, expect=403)
    unknown = await api.post(RESTART.format("nowhere"), operator, expect=404)
    await handle.terminate(reason="an operator's mistake")
    stopped = await api.post(
        "/v1/cities/westmoor/evidence", staff, {"items": [{"criterion_id": "DM1", "documents": DOCS}]}, 503
    )
    restarted = await api.post(RESTART.format("westmoor"), operator)
    evidence = await api.post(
        "/v1/cities/westmoor/evidence", staff, {"items": [{"criterion_id": "DM1", "documents": DOCS}]}
    )

    assert while_running["error"] == "workflow_running" and first.run_id in while_running["detail"]
    assert by_staff["error"] == "forbidden" and unknown["error"] == "unknown_city"
    assert stopped["error"] == "workflow_not_running"
    assert restarted | {"city_id": "westmoor", "workflow_id": "city-westmoor", "previous": "terminated"} == (
        restarted
    )
    assert restarted["run_id"] != first.run_id
    # registered, applied, the submission's clock started
    assert restarted["status"]["phase"] == "evidence" and restarted["status"]["version"] == 3
    assert (await handle.describe()).status is WorkflowExecutionStatus.RUNNING
    assert [e["type"] for e in evidence["events"]] == ["EvidenceSubmitted"]
    assert evidence["status"]["version"] == 4
    assert (await load_city_state(api.store, "westmoor")).version == 4


async def test_a_withdrawn_city_s_workflow_is_not_restarted(api: Api) -> None:
    operator = await api.operator()
    await api.register("eastmoor")
    await api.post("/v1/cities/eastmoor/withdrawal", operator, {"reason": "left the programme"})

    refused = await api.post(RESTART.format("eastmoor"), operator, expect=409)

    assert (refused["error"], refused["detail"]) == (
        "command_rejected",
        "'eastmoor' has withdrawn: its workflow ended for good",
    )
    assert refused["refusal"]["template"] == "{city_id!r} has withdrawn: its workflow ended for good"
