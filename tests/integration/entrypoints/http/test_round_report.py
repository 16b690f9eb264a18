"""The internal round report over HTTP, as the programme's staff read it after a round: four cities
walked through the API (one certified, one not, one still submitting evidence, one withdrawn)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from domain import commands as cmd
from domain import events as ev
from tests.integration.entrypoints.http.conftest import Api
from tests.integration.entrypoints.http.scenario_runner import HttpRunner
from tests.polling import eventually
from tests.scenarios import (
    CRITERIA,
    OPERATOR,
    SILVER_SCORE,
    Step,
    apply,
    assigned_and_declared,
    close,
    evidence,
    review,
    to_committee,
    waive_visit,
)
from tests.scenarios import decide as decide_level

ROUND = "2027-spring"
FAR = CRITERIA[:3]
SPLIT = SILVER_SCORE[3]  # approved for alpha, rejected for bravo
REPORT = f"/v1/rounds/{ROUND}/report"


async def test_the_round_report_over_http(api: Api) -> None:
    assert api.env is not None
    runner = HttpRunner(api, per_city_staff=True)

    async def walk(city_id: str, steps: list[Step]) -> None:
        await api.register(city_id)
        assert await runner.walk(city_id, steps) == []

    committee = await api.committee()
    await walk("alpha", to_committee(apply(ROUND), SILVER_SCORE))
    recommended = (await api.get("/v1/cities/alpha", committee))["recommended_level"]
    await api.post("/v1/cities/alpha/decision", committee, {"level": recommended, "rationale": "r"})
    bravo = [
        apply(ROUND),
        evidence([*FAR, SPLIT]),
        *assigned_and_declared([*FAR, SPLIT]),
        review(approve=FAR, reject=[SPLIT]),
        close(),
        waive_visit(),
        decide_level(None, "far from the bar"),
    ]
    await walk("bravo", bravo)
    await walk("charlie", [apply(ROUND), evidence(CRITERIA[:2])])
    await walk("delta", [])  # registered, never applied: not in the round
    await walk("foxtrot", [apply("2027-fall")])  # another round's
    # echo withdrew mid-round: no projection names its round any more, its stream does.
    withdrawn = Step(cmd.Withdraw(reason="the data office closed"), OPERATOR, [ev.CityWithdrawn])
    await walk("echo", [apply(ROUND), withdrawn])

    await api.env.sleep(timedelta(days=31))  # the appeal windows close: alpha awarded, bravo closed
    operator = await api.operator()
    await eventually(
        lambda: api.get("/v1/cities", operator, phase="appeal_window"), lambda waiting: waiting == []
    )

    report = await api.get(REPORT, committee)
    rows = {row["city_id"]: row for row in report["cities"]}
    assert list(rows) == ["alpha", "bravo", "charlie", "echo"]
    assert rows["echo"]["outcome"] == "withdrawn"
    assert (rows["alpha"]["outcome"], rows["alpha"]["level"]) == ("new", recommended)
    assert (rows["bravo"]["outcome"], rows["bravo"]["honor_roll_suggested"]) == ("not_certified", False)
    assert (rows["charlie"]["outcome"], rows["charlie"]["phase"]) == ("in_progress", "evidence")
    assert report["outcomes"]["not_certified"] == 1 and report["outcomes"]["new"] == 1
    split = next(row for row in report["criteria"] if row["criterion_id"] == SPLIT)
    assert (split["approved"], split["rejected"], split["pass_rate"]) == (1, 1, 0.5)
    phases = {row["city_id"]: row for row in report["phases"]}
    assert phases["charlie"]["ongoing"] == "evidence" and phases["alpha"]["ongoing"] is None
    assert report["sla"]["total"] == sum(row["sla_breaches"] for row in report["cities"])
    (reviewer,) = [r for r in report["reviewers"] if r["decisions"]]
    assert reviewer["rejected"] == 1 and reviewer["decisions"] == len(SILVER_SCORE) + len(FAR) + 1

    exported = await api.http.get(REPORT, headers=operator, params={"format": "csv", "table": "criteria"})
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"].startswith("text/csv")
    assert f'filename="round-{ROUND}-criteria.csv"' in exported.headers["content-disposition"]
    criteria = list(csv.DictReader(io.StringIO(exported.text)))
    assert next(r for r in criteria if r["criterion_id"] == SPLIT)["pass_rate"] == "0.5"
    cities = await api.http.get(REPORT, headers=operator, params={"format": "csv", "table": "cities"})
    assert [r["outcome"] for r in csv.DictReader(io.StringIO(cities.text))] == [
        "new",
        "not_certified",
        "in_progress",
        "withdrawn",
    ]

    for who in (await api.city("alpha"), await api.reviewer()):
        refused = await api.get(REPORT, who, expect=403)
        assert refused["error"] == "forbidden" and "operator or committee" in refused["detail"]
    no_table = await api.get(REPORT, operator, expect=422, format="csv")
    assert "table is required with format=csv" in no_table["detail"][0]["msg"]
    assert (await api.get("/v1/rounds/nobody/report", operator))["cities"] == []


async def test_the_openapi_document_declares_the_csv_export(api: Api) -> None:
    operation = (await api.http.get("/openapi.json")).json()["paths"]["/v1/rounds/{round_id}/report"]["get"]
    assert sorted(int(code) for code in operation["responses"]) == [200, 401, 403, 422, 503]
    answered = operation["responses"]["200"]["content"]
    assert set(answered) == {"application/json", "text/csv"}
    assert answered["application/json"]["schema"] == {"$ref": "#/components/schemas/RoundReport"}
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert set(parameters) == {"round_id", "format", "table"}
