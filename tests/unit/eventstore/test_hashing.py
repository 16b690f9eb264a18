"""The hash chain's body is written out field by field; it must stay byte for byte the canonical
JSON of the envelope list it was first defined as, or every recorded chain would break."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID

import pytest

from eventstore.hashing import canonical_json, event_body, json_text, timestamp_text

EVENT_ID = UUID("0b6f1c9e-2f4d-4c1e-9a77-5b2d8e0f3a11")


def defined_body(**fields: object) -> bytes:
    """The body as the canonical form defines it: canonical_json of the envelope list, with the
    data's canonical text as its last element."""
    envelope = canonical_json(
        [
            "citycert-event-v1",
            str(fields["event_id"]),
            fields["stream_id"],
            fields["version"],
            fields["type"],
            fields["schema_version"],
            timestamp_text(fields["occurred_at"]),  # type: ignore[arg-type]
            fields["actor_role"],
            fields["actor_id"],
            fields["workflow_id"],
            fields["run_id"],
        ]
    )
    return f"{envelope[:-1]},{fields['data_json']}]".encode()


@pytest.mark.parametrize(
    ("actor_id", "workflow_id", "run_id"),
    [
        ("lakeside-staff", "city-lakeside", "run-1"),
        ('a "quoted" name\\ with a backslash', None, None),
        ("São Paulo — ação", "city-são-paulo", ""),
        ("tab\there, newline\nthere, bell\x07", "wf", None),
        ("v1.0 e+5 1e+16", "-0.0", "80.0"),  # the integral-float patterns, inside strings
        ("\u2028\u2029 emoji \U0001f600", "\x7f", "\x1f"),
    ],
)
def test_the_body_is_the_canonical_json_of_the_envelope_list(actor_id, workflow_id, run_id):
    fields = {
        "event_id": EVENT_ID,
        "stream_id": "city-lakeside",
        "version": 12,
        "type": "EvidenceSubmitted",
        "schema_version": 2,
        "occurred_at": datetime(2026, 3, 1, 9, 30, 0, 5, tzinfo=timezone(timedelta(hours=-3))),
        "actor_role": "city",
        "actor_id": actor_id,
        "workflow_id": workflow_id,
        "run_id": run_id,
        "data_json": canonical_json({"note": actor_id, "points": 80.0, "at": "2026-03-01"}),
    }
    assert event_body(**fields) == defined_body(**fields)  # type: ignore[arg-type]


def test_the_occurred_at_is_written_in_utc_to_the_microsecond():
    at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    body = event_body(
        event_id=EVENT_ID,
        stream_id="s",
        version=1,
        type="T",
        schema_version=1,
        occurred_at=at,
        actor_role="system",
        actor_id="x",
        workflow_id=None,
        run_id=None,
        data_json="{}",
    )
    assert (
        body
        == (
            f'["citycert-event-v1","{EVENT_ID}","s",1,"T",1,"2026-03-01T12:00:00.000000+00:00",'
            '"system","x",null,null,{}]'
        ).encode()
    )


@pytest.mark.parametrize(
    "value",
    [
        {"b": 1, "a": [1.5, 80.0, None, True], "é": 'naïve "quoted" \n'},
        {"nested": {"z": {}, "y": [], "x": {"w": -0.0, "v": 1e16}}},
        [],
        "text",
    ],
)
def test_the_store_writes_the_text_json_dumps_writes_with_its_options(value: object) -> None:
    """json_text keeps one encoder rather than building one per call: the same text either way."""
    options = {"sort_keys": True, "separators": (",", ":"), "ensure_ascii": False, "allow_nan": False}
    assert json_text(value) == json.dumps(value, **options)  # type: ignore[arg-type]


def test_the_store_refuses_to_write_not_a_number() -> None:
    with pytest.raises(ValueError):
        json_text({"score": float("nan")})


@pytest.mark.parametrize(
    "value",
    [
        {"a": 80.0},
        {"a": -0.0},
        {"a": 1e16, "b": "x"},
        {"a": [1.5, 2.0]},
        {"a": "80.0 e+5", "b": 0.05},  # the patterns inside strings, and a float that is not integral
        {"a": 1.05, "b": "v1.01"},  # ".0" followed by a digit: nothing to normalise
        {"a": 1, "b": "plain"},
    ],
)
def test_the_canonical_form_writes_integral_floats_as_integers_and_leaves_the_rest(value: object) -> None:
    # The text is normalised only when a substring search says the pattern may be there; the
    # result must be what normalising every value gives.
    def normalised(v: object) -> object:
        if isinstance(v, float):
            return int(v) if v.is_integer() else v
        if isinstance(v, dict):
            return {k: normalised(x) for k, x in v.items()}
        if isinstance(v, list):
            return [normalised(x) for x in v]
        return v

    assert canonical_json(value) == json_text(normalised(value))
    assert canonical_json(value, json_text(value)) == json_text(normalised(value))
