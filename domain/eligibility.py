"""Who may take part: cities of at least 30,000 residents in the United States, Canada and Latin America."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from domain.errors import Refusal

MIN_POPULATION = 30_000

# ISO 3166-1 alpha-2 codes of North, Central and South America, the Caribbean included.
AMERICAS: frozenset[str] = frozenset(
    """
    AG AI AR AW BB BL BM BO BQ BR BS BZ CA CL CO CR CU CW DM DO EC FK GD GF GL GP GT GY HN HT JM
    KN KY LC MF MQ MS MX NI PA PE PM PR PY SR SV SX TC TT US UY VC VE VG VI
    """.split()
)


class EligibilityPolicy(BaseModel):
    model_config = ConfigDict(frozen=True)

    min_population: int = MIN_POPULATION
    countries: frozenset[str] = AMERICAS


def ineligibility_reasons(
    country: str, population: int, policy: EligibilityPolicy | None = None
) -> list[str]:
    """Every reason a city may not take part; empty when it is eligible."""
    return [r.english() for r in ineligibility_refusals(country, population, policy)]


def ineligibility_refusals(
    country: str, population: int, policy: EligibilityPolicy | None = None
) -> list[Refusal]:
    """`ineligibility_reasons` as refusals (domain/errors.py), to be said in a person's language."""
    policy = policy or EligibilityPolicy()
    reasons: list[Refusal] = []
    if population < policy.min_population:
        reasons.append(
            Refusal(
                "population {population:,} is below the minimum of {minimum:,}",
                population=population,
                minimum=policy.min_population,
            )
        )
    if country.upper() not in policy.countries:
        reasons.append(
            Refusal(
                "country {country!r} is not in North, Central or South America "
                "(the programme serves the United States, Canada, Latin America and the Caribbean)",
                country=country,
            )
        )
    return reasons
