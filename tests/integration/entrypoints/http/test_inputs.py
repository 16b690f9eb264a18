"""What people type reaches the store as the programme records it: a country by its name becomes
its ISO code, an import's days become the moments that bound them; the OpenAPI document says so."""

from __future__ import annotations

import pytest

from readmodel import city_stream
from tests.integration.entrypoints.http.conftest import Api


@pytest.mark.parametrize(
    ("city_id", "country", "code"),
    [("sao-vicente", "Brasil", "BR"), ("laredo", "Estados Unidos", "US"), ("tijuana", " méxico ", "MX")],
)
async def test_a_city_registered_with_its_countrys_name_is_recorded_with_its_code(
    api: Api, city_id: str, country: str, code: str
) -> None:
    operator = await api.operator()
    body = {"id": city_id, "name": city_id.title(), "country": country, "population": 90_000}
    registered = await api.post("/v1/cities", operator, body, expect=201)
    assert registered["events"][0]["data"]["country"] == code
    assert registered["status"]["country"] == code
    assert (await api.get(f"/v1/cities/{city_id}", operator))["country"] == code
    [stored] = await api.store.read_stream(city_stream(city_id))
    assert stored.data["country"] == code


async def test_a_name_outside_the_americas_resolves_and_is_then_ineligible(api: Api) -> None:
    """Resolving a name is not eligibility: Portugal is a country, not one the programme serves."""
    body = {"id": "braga", "name": "Braga", "country": "Portugal", "population": 190_000}
    refused = await api.post("/v1/cities", await api.operator(), body, expect=422)
    assert refused["error"] == "ineligible_city"
    assert "country 'PT' is not in North, Central or South America" in refused["detail"]


async def test_the_openapi_document_says_a_country_is_a_code_or_a_name_and_days_are_dates(api: Api) -> None:
    schemas = (await api.http.get("/openapi.json")).json()["components"]["schemas"]
    country = schemas["RegisterCityBody"]["properties"]["country"]
    assert country["type"] == "string" and "pattern" not in country
    assert "English, Spanish or Portuguese" in country["description"]
    assert {"CA", "Canada", "Brasil", "Estados Unidos"} <= set(country["examples"])
    body = schemas["ImportCertificationBody"]["properties"]
    assert (body["valid_from"]["format"], body["valid_until"]["format"]) == ("date", "date")
    assert "inclusive" in body["valid_until"]["description"]
    answer = schemas["ImportOut"]["properties"]
    assert (answer["valid_from"]["format"], answer["valid_until"]["format"]) == ("date", "date")
