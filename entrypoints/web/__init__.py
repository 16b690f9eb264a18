"""The portal: server-rendered pages for people (Jinja2, htmx, plain CSS; no build step), in the
API's own process. `mount(app)` adds its pages, its static files and the handler of its errors.

The pages call the same application layer as the JSON API (app/commands.py's command service for
every action), so a refusal reads the same in both.
"""

from __future__ import annotations

from importlib import resources

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from entrypoints.web.i18n import DEFAULT, Speaker
from entrypoints.web.pages import render
from entrypoints.web.routes import router
from entrypoints.web.routes_city import router as city_router
from entrypoints.web.routes_city_pages import router as city_pages_router
from entrypoints.web.routes_committee import router as committee_router
from entrypoints.web.routes_operator import router as operator_router
from entrypoints.web.routes_public import router as public_router
from entrypoints.web.routes_reviewer import router as reviewer_router
from entrypoints.web.routes_site_visit import router as site_visit_router
from entrypoints.web.session import NotStarted, PageError

STATIC = "/static"


def mount(app: FastAPI) -> None:
    app.include_router(router)
    app.include_router(city_router)
    app.include_router(reviewer_router)
    app.include_router(committee_router)
    app.include_router(city_pages_router)
    app.include_router(public_router)
    app.include_router(operator_router)
    app.include_router(site_visit_router)
    folder = resources.files("entrypoints.web") / "static"
    app.mount(STATIC, StaticFiles(directory=str(folder)), name="static")

    @app.exception_handler(PageError)
    async def page_error(request: Request, error: PageError) -> Response:
        return render(request, "error.html", status=error.status, title=error.title, message=error.message)

    @app.exception_handler(NotStarted)
    async def not_started(request: Request, error: NotStarted) -> Response:
        _ = Speaker(DEFAULT).gettext
        return HTMLResponse(
            _("The service is starting. Try again in a moment."),
            status_code=503,
            headers={"Retry-After": "5"},
        )
