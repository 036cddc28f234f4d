"""The UI's FastAPI application: one route per page, each a thin call into a ``*_view`` module
and a template.

Pages: ``/datasets``, ``/tables/{dataset}/{table}``, ``/models``, ``/models/{dataset}/{name}``,
``/compare``, ``/runs``, ``/runs/{run_id}``, ``/sql``, ``/login``. Changes are POSTs of plain
HTML forms — ``/models/{dataset}/{name}/alias``, ``…/rollback``, ``/sql`` with a writing
statement — and need the token (:class:`~sqlml.ui.web.Access`). Reads run in FastAPI's thread
pool; the connection serves several threads at once.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

import sqlml
from sqlml.ui import compare_view, model_view, registry_view, runs_view, sql_view, warehouse_view
from sqlml.ui.web import COOKIE, Access, Refused, error_page, form, page

_CSS = files("sqlml.ui").joinpath("static", "ui.css")


def create_app(connection: sqlml.Connection, token: str | None = None, project_dir: str | Path | None = None) -> FastAPI:
    """The app over ``connection``; ``token`` allows changes (None: read-only); ``project_dir``
    is a project folder whose DAG the runs pages draw."""
    app = FastAPI(title="sqlml ui", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.access = Access(token)
    con = connection

    for kind in (Refused, sqlml.Error, HTTPException):
        app.add_exception_handler(kind, _error)

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/models", status_code=303)

    @app.get("/static/ui.css", include_in_schema=False)
    def stylesheet() -> Response:
        return Response(_CSS.read_text(encoding="utf-8"), media_type="text/css", headers={"Cache-Control": "max-age=3600"})

    @app.get("/datasets")
    def datasets(request: Request):
        grouped: dict[str, list] = {}
        for table in warehouse_view.tables(con):
            grouped.setdefault(table.dataset, []).append(table)
        return page(request, "datasets.html", title="Datasets", datasets=grouped)

    @app.get("/tables/{dataset}/{table}")
    def table(request: Request, dataset: str, table: str):
        detail = warehouse_view.table_detail(con, dataset, table)
        return page(request, "table.html", title=f"{dataset}.{table}", detail=detail)

    @app.get("/models")
    def models(request: Request):
        return page(request, "models.html", title="Models", models=registry_view.model_rows(con))

    def show_model(request: Request, dataset: str, name: str, version: int | None = None, data: str | None = None,
                   sensitive_feature: str | None = None, ran: str | None = None):  # fmt: skip
        model = model_view.model_page(con, dataset, name, version, data, sensitive_feature)
        return page(request, "model.html", title=f"{dataset}.{name}", m=model, ran=ran, data=data or "", sensitive_feature=sensitive_feature or "")

    @app.get("/models/{dataset}/{name}")
    def model(request: Request, dataset: str, name: str, version: int | None = None, data: str | None = None, sensitive_feature: str | None = None):
        return show_model(request, dataset, name, version, data, sensitive_feature)

    @app.post("/models/{dataset}/{name}/alias")
    async def move_alias(request: Request, dataset: str, name: str):
        request.app.state.access.require_write(request)
        fields = await form(request)
        alias, version = _field(fields, "alias"), _field(fields, "version")
        if not version.isdigit():
            raise Refused(400, f"Version {version!r} is not a version number.", hint="Pick one of the model's versions.")
        sql = await run_in_threadpool(registry_view.move_alias, con, dataset, name, int(version), alias)
        return await run_in_threadpool(show_model, request, dataset, name, ran=sql)

    @app.post("/models/{dataset}/{name}/rollback")
    async def rollback(request: Request, dataset: str, name: str):
        request.app.state.access.require_write(request)
        alias = _field(await form(request), "alias")
        target = await run_in_threadpool(registry_view.rollback_target, con, dataset, name, alias)
        if target is None:
            raise Refused(400, f"{dataset}.{name}@{alias} has no older version to roll back to.")
        sql = await run_in_threadpool(registry_view.move_alias, con, dataset, name, target, alias)
        return await run_in_threadpool(show_model, request, dataset, name, ran=sql)

    @app.get("/compare")
    def compare(request: Request, model: str, version: list[int] = Query(default=[]), trials_of: int | None = None,
                trial: list[int] = Query(default=[]), tuned: bool = False):  # fmt: skip
        dataset, _, name = model.partition(".")
        if tuned or trials_of is not None:
            comparison = compare_view.compare_trials(con, dataset, name, trials_of, trial)
        else:
            comparison = compare_view.compare_versions(con, dataset, name, version)
        return page(request, "compare.html", title=f"Compare {model}", c=comparison)

    @app.get("/runs")
    def runs(request: Request):
        return page(request, "runs.html", title="Runs", runs=runs_view.recent_runs(con))

    @app.get("/runs/{run_id}")
    def run(request: Request, run_id: str):
        nodes = runs_view.node_runs(con, run_id)
        if not nodes:
            raise Refused(404, f"No run {run_id} was recorded.", hint="See /runs for the recorded runs.")
        edges = runs_view.project_edges(con, project_dir) if project_dir else {n["node"]: set() for n in nodes}
        dag = runs_view.dag_svg(edges, {n["node"]: n["status"] for n in nodes})
        return page(request, "run.html", title=f"Run {run_id}", run_id=run_id, nodes=nodes, dag=dag, has_project=bool(project_dir))

    @app.get("/sql")
    def sql_form(request: Request):
        return page(request, "sql.html", title="SQL", sql="", outcome=None)

    @app.post("/sql")
    async def sql_run(request: Request):
        text = _field(await form(request), "sql")
        if not await run_in_threadpool(sql_view.only_reads, text, con.dialect):
            request.app.state.access.require_write(request)
        try:
            outcome = await run_in_threadpool(sql_view.run, con, text)
        except sqlml.Error as error:  # shown under the statement, which stays in the box to fix
            return page(request, "sql.html", status=400, title="SQL", sql=text, outcome=None, error=str(error))
        return page(request, "sql.html", title="SQL", sql=text, outcome=outcome)

    @app.get("/login")
    def login_form(request: Request):
        return page(request, "login.html", title="Log in", wrong=False)

    @app.post("/login")
    async def login(request: Request):
        access: Access = request.app.state.access
        given = _field(await form(request), "token")
        if not access.token or not access.matches(given):
            return page(request, "login.html", status=403, title="Log in", wrong=True)
        response = RedirectResponse("/models", status_code=303)
        response.set_cookie(COOKIE, given, httponly=True, samesite="strict")
        return response

    @app.post("/logout")
    def logout() -> RedirectResponse:
        response = RedirectResponse("/models", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    return app


def _error(request: Request, error: Exception):
    if isinstance(error, HTTPException):
        return error_page(request, Refused(error.status_code, "No such page." if error.status_code == 404 else str(error.detail)))
    return error_page(request, error)


def _field(fields: dict[str, list[str]], name: str) -> str:
    """One posted form field (the first, stripped); missing is an error page, not a crash."""
    values = fields.get(name)
    if not values or not values[0].strip():
        raise Refused(400, f"The form has no {name}.", hint=f"Fill in {name} and send it again.")
    return values[0].strip()
