"""Documents through the API, over a real PostgreSQL, the Temporal test server and a worker: a city
uploads a file, it is stored by its SHA-256 and recorded in the city's history, and served back to
the city, its assigned reviewers, the committee and operators, to nobody else. Executables and
unknown formats are refused (415), too large a body too (413, counted as it streams in), and an
upload cut off mid-body (a real server, a client that hangs up) leaves nothing behind."""

from __future__ import annotations

import asyncio
import hashlib
import socket
import stat
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from entrypoints.http import create_app
from tests.integration.entrypoints.http.conftest import CRITERIA, DOCS, Api, app_client

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(120)


def stored_files(api: Api) -> list[Path]:
    assert api.settings is not None and api.settings.documents_dir is not None
    root = api.settings.documents_dir
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


async def upload(
    api: Api,
    city: str,
    headers: dict[str, str],
    content: bytes,
    *,
    title: str = "Open data policy",
    **kw: Any,
) -> Any:
    files = {"file": (kw.pop("filename", "policy.pdf"), content, kw.pop("content_type", "application/pdf"))}
    return await api.http.post(
        f"/v1/cities/{city}/documents", headers=headers, files=files, data={"title": title}
    )


async def documents_recorded(api: Api, city: str) -> list[dict[str, Any]]:
    events = await api.get(f"/v1/cities/{city}/events", await api.operator())
    return [e for e in events if e["type"] == "DocumentUploaded"]


async def test_a_city_uploads_a_document_which_is_stored_by_its_hash_and_recorded_in_its_history(
    api: Api,
) -> None:
    await api.register("lakeside")
    staff = await api.city("lakeside")

    response = await upload(api, "lakeside", staff, PDF)

    assert response.status_code == 201, response.text
    answer = response.json()
    digest = hashlib.sha256(PDF).hexdigest()
    assert answer == {
        "document_id": answer["document_id"],
        "sha256": digest,
        "size": len(PDF),
        "media_type": "application/pdf",
    }
    (path,) = stored_files(api)
    assert path.relative_to(path.parents[3]).as_posix() == f"sha256/{digest[:2]}/{digest[2:4]}/{digest}"
    assert path.read_bytes() == PDF
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    (event,) = await documents_recorded(api, "lakeside")
    assert event["data"] == {**answer, "title": "Open data policy"}
    assert event["actor"] == {"role": "city", "id": "staff-lakeside"}

    served = await api.http.get(f"/v1/cities/lakeside/documents/{answer['document_id']}", headers=staff)
    assert served.status_code == 200
    assert served.content == PDF
    assert served.headers["content-type"] == "application/pdf"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-disposition"].startswith('attachment; filename="Open data policy.pdf"')
    listed = await api.get("/v1/cities/lakeside/documents", staff)
    assert [(d["document_id"], d["title"], d["sha256"], d["size"]) for d in listed] == [
        (answer["document_id"], "Open data policy", digest, len(PDF))
    ]


async def test_the_type_is_the_contents_not_the_name_or_the_claimed_content_type(api: Api) -> None:
    await api.register("lakeside")
    staff = await api.city("lakeside")
    text = "Ciudad: Lakeside\nPolítica de datos abiertos\n".encode()

    disguised = await upload(
        api, "lakeside", staff, ELF, filename="report.pdf", content_type="application/pdf"
    )
    as_text = await upload(
        api, "lakeside", staff, text, filename="policy.exe", content_type="application/x-msdownload"
    )

    assert disguised.status_code == 415, disguised.text
    assert disguised.json()["error"] == "unsupported_media_type"
    assert "ELF executable" in disguised.json()["detail"]
    assert as_text.status_code == 201, as_text.text
    assert as_text.json()["media_type"] == "text/plain"
    served = await api.http.get(
        f"/v1/cities/lakeside/documents/{as_text.json()['document_id']}", headers=staff
    )
    assert served.headers["content-type"] == "text/plain; charset=utf-8"
    assert served.headers["content-disposition"].startswith('attachment; filename="Open data policy.txt"')
    assert len(stored_files(api)) == 1  # the executable was never stored
    assert [e["data"]["media_type"] for e in await documents_recorded(api, "lakeside")] == ["text/plain"]


async def test_the_city_its_assigned_reviewers_the_committee_and_operators_read_a_document_nobody_else(
    api: Api,
) -> None:
    await api.register("lakeside")
    await api.register("riverton")
    staff, operator = await api.city("lakeside"), await api.operator()
    document_id = (await upload(api, "lakeside", staff, PDF)).json()["document_id"]
    path = f"/v1/cities/lakeside/documents/{document_id}"
    assigned, unassigned = await api.reviewer("riverton", "rev-ana"), await api.reviewer("riverton", "rev-bo")
    await api.post(
        "/v1/cities/lakeside/application", staff, {"round_id": "2026", "standard_version": "wwc-2022"}
    )
    await api.post(
        "/v1/cities/lakeside/evidence", staff, {"items": [{"criterion_id": CRITERIA[0], "documents": DOCS}]}
    )
    assert (await api.http.get(path, headers=assigned)).status_code == 403  # not yet assigned

    await api.post(
        "/v1/cities/lakeside/reviewer-assignments",
        operator,
        {"reviewer_id": "rev-ana", "reviewer_home_city": "riverton", "criterion_ids": [CRITERIA[0]]},
    )
    # Assigned, the reviewer still sees nothing before declaring no conflict with the city.
    undeclared = await api.http.get(path, headers=assigned)
    assert undeclared.status_code == 403 and "has not declared" in undeclared.json()["detail"]
    await api.post("/v1/cities/lakeside/review/no-conflict", assigned)

    for who in (staff, operator, await api.committee(), assigned):
        assert (await api.http.get(path, headers=who)).content == PDF
        assert (await api.http.get("/v1/cities/lakeside/documents", headers=who)).status_code == 200
    for who, status in (({}, 401), (await api.city("riverton"), 403), (unassigned, 403)):
        assert (await api.http.get(path, headers=who)).status_code == status
        assert (await api.http.get("/v1/cities/lakeside/documents", headers=who)).status_code == status
    assert (await api.http.get("/v1/cities/lakeside/documents/" + "0" * 32, headers=staff)).status_code == 404
    assert (await api.http.get("/v1/cities/nowhere/documents", headers=operator)).status_code == 404
    # Another city's document is not this city's, whoever asks.
    assert (
        await api.http.get(f"/v1/cities/riverton/documents/{document_id}", headers=operator)
    ).status_code == 404


async def test_only_the_citys_staff_and_operators_upload_and_only_while_it_takes_part(api: Api) -> None:
    await api.register("lakeside")
    operator = await api.operator()

    as_committee = await upload(api, "lakeside", await api.committee(), PDF)
    as_other_city = await upload(api, "lakeside", await api.city("riverton"), PDF)
    by_operator = await upload(api, "lakeside", operator, PDF)
    await api.post("/v1/cities/lakeside/withdrawal", operator, {"reason": "left the programme"})
    after_withdrawal = await upload(api, "lakeside", operator, b"another document\n")
    unknown_city = await upload(api, "nowhere", operator, b"another document\n")

    assert (as_committee.status_code, as_other_city.status_code, by_operator.status_code) == (403, 403, 201)
    assert after_withdrawal.status_code == 409, after_withdrawal.text
    assert "withdrew" in after_withdrawal.json()["detail"]
    assert unknown_city.status_code == 404
    assert len(stored_files(api)) == 1  # refused before anything was stored
    assert len(await documents_recorded(api, "lakeside")) == 1


async def test_a_malformed_upload_is_refused_saying_what_to_send(api: Api) -> None:
    await api.register("lakeside")
    staff = await api.city("lakeside")
    path = "/v1/cities/lakeside/documents"

    as_json = await api.http.post(path, headers=staff, json={"title": "x", "file": "JVBERi0="})
    no_title = await api.http.post(path, headers=staff, files={"file": ("a.pdf", PDF, "application/pdf")})
    bad_title = await upload(api, "lakeside", staff, PDF, title="two\nlines")
    # A trailing line break is refused as sent, as the OpenAPI document's pattern says, not trimmed.
    trailing_break = await upload(api, "lakeside", staff, PDF, title="Budget\r")
    empty = await upload(api, "lakeside", staff, b"")

    assert as_json.status_code == 415 and "multipart/form-data" in as_json.json()["detail"]
    assert no_title.status_code == 422 and no_title.json()["detail"][0]["loc"] == ["body", "title"]
    assert bad_title.status_code == 422, bad_title.text
    assert trailing_break.status_code == 422, trailing_break.text
    assert "one line" in trailing_break.json()["detail"][0]["msg"]
    assert empty.status_code == 415 and "empty" in empty.json()["detail"]
    assert stored_files(api) == []


async def test_too_large_a_document_is_refused_as_it_streams_in_whatever_its_length_claims(api: Api) -> None:
    assert api.settings is not None and api.env is not None
    capped = api.settings.model_copy(update={"documents_max_bytes": 10_000})
    await api.register("lakeside")
    staff = await api.city("lakeside")
    boundary = "citycert-test-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\nBig\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\n'
        "Content-Type: text/plain\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    kind = {"Content-Type": f"multipart/form-data; boundary={boundary}"}

    def chunked(size: int) -> Iterator[bytes]:
        yield head
        for _ in range(size // 1000):
            yield b"x" * 1000
        yield tail

    async def chunked_async(size: int) -> AsyncIterator[bytes]:
        for chunk in chunked(size):
            yield chunk

    async with app_client(create_app(capped, client=api.env.client, store=api.store)) as http:
        path = "/v1/cities/lakeside/documents"
        just_over = await http.post(path, headers={**staff, **kind}, content=b"".join(chunked(11_000)))
        far_over_unannounced = await http.post(
            path, headers={**staff, **kind}, content=chunked_async(5_000_000)
        )
        claimed = await http.post(path, headers={**staff, **kind, "Content-Length": "99999999"}, content=b"")
        fits = await http.post(path, headers={**staff, **kind}, content=b"".join(chunked(9_000)))

    assert just_over.status_code == 413, just_over.text
    assert far_over_unannounced.status_code == 413, far_over_unannounced.text
    assert "content-length" not in {k.lower() for k in far_over_unannounced.request.headers}
    assert claimed.status_code == 413
    assert {r.json()["error"] for r in (just_over, far_over_unannounced, claimed)} == {"too_large"}
    assert fits.status_code == 201, fits.text
    assert len(stored_files(api)) == 1
    assert len(await documents_recorded(api, "lakeside")) == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_an_upload_cut_off_mid_body_stores_nothing_and_records_nothing(api: Api) -> None:
    assert api.settings is not None and api.env is not None
    await api.register("lakeside")
    staff = await api.city("lakeside")
    app = create_app(api.settings, client=api.env.client, store=api.store)
    finished: asyncio.Queue[str] = asyncio.Queue()

    async def watched(scope: Any, receive: Any, send: Any) -> None:
        """The app, telling the test when it has finished with each request (however it ended)."""
        try:
            await app(scope, receive, send)
        finally:
            if scope["type"] == "http":
                await finished.put(scope["path"])

    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(watched, host="127.0.0.1", port=port, lifespan="off", log_config=None)
    )
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.05)
        boundary = "cut-off-boundary"
        body_start = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\nHalf\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="half.txt"\r\n'
            "Content-Type: text/plain\r\n\r\n"
        ).encode() + b"half of a document\n" * 5_000
        request = (
            "POST /v1/cities/lakeside/documents HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: {staff['Authorization']}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {len(body_start) * 2}\r\n\r\n"
        ).encode()
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request + body_start)
        await writer.drain()
        writer.close()  # the client hangs up halfway through the body
        await writer.wait_closed()

        assert await asyncio.wait_for(finished.get(), 60) == "/v1/cities/lakeside/documents"
        assert stored_files(api) == []
        assert await documents_recorded(api, "lakeside") == []

        # The same server stores a whole upload: the test above could have seen one.
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            whole = await http.post(
                "/v1/cities/lakeside/documents",
                headers=staff,
                files={"file": ("whole.txt", b"a whole document\n", "text/plain")},
                data={"title": "Whole"},
            )
        assert whole.status_code == 201, whole.text
        assert len(stored_files(api)) == 1
    finally:
        server.should_exit = True
        await serving


async def test_a_document_altered_in_the_store_is_never_served_whole(api: Api) -> None:
    assert api.settings is not None and api.env is not None
    await api.register("lakeside")
    staff = await api.city("lakeside")
    document_id = (await upload(api, "lakeside", staff, PDF)).json()["document_id"]
    (path,) = stored_files(api)
    path.write_bytes(PDF.replace(b"1.4", b"1.7"))  # the same size, other bytes
    app = create_app(api.settings, client=api.env.client, store=api.store)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_config=None))
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.05)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            # The response starts (200, its length), then breaks off before the last bytes.
            with pytest.raises(httpx.RemoteProtocolError):
                await http.get(f"/v1/cities/lakeside/documents/{document_id}", headers=staff)
    finally:
        server.should_exit = True
        await serving


async def test_evidence_cites_an_uploaded_document_by_id_and_its_hash_is_in_the_submission(api: Api) -> None:
    # Given Lakeside applied and uploaded its policy, and Riverton uploaded one of its own
    for city in ("lakeside", "riverton"):
        await api.register(city)
        await api.post(
            f"/v1/cities/{city}/application",
            await api.city(city),
            {"round_id": "2026-fall", "standard_version": "wwc-2022"},
        )
    staff = await api.city("lakeside")
    mine = (await upload(api, "lakeside", staff, PDF, title="Data inventory")).json()
    theirs = (await upload(api, "riverton", await api.city("riverton"), PDF + b"%")).json()
    # When Lakeside's evidence names its upload by id (and makes up a hash and title for it)
    item = {
        "criterion_id": "DM1",
        "documents": [{"document_id": mine["document_id"], "sha256": "0" * 64, "title": "x"}],
    }
    submitted = await api.post("/v1/cities/lakeside/evidence", staff, {"items": [item]})
    # Then the submission records the upload's own hash and title, which the chain then covers
    [event] = submitted["events"]
    assert event["data"]["documents"] == [
        {
            "title": "Data inventory",
            "url": "",
            "document_id": mine["document_id"],
            "sha256": mine["sha256"],
            "slot": None,
        }
    ]
    assert event["data"]["submission"] == 1
    # and evidence citing another city's upload, or an id nobody uploaded, is refused saying so
    for document_id in (theirs["document_id"], "5f0c6a528a434c369c7e1f2b7d0c9e11"):
        cited = {"criterion_id": "DM2", "documents": [{"document_id": document_id}]}
        refused = await api.post("/v1/cities/lakeside/evidence", staff, {"items": [cited]}, expect=422)
        assert f"document {document_id} (for DM2) is not one of lakeside's uploads" in refused["detail"]
