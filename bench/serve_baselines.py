"""The two servers ``bench_serve.py`` measures ``sqlml serve`` against, as uvicorn app factories:

* :func:`fastapi_app` — a minimal FastAPI app that scores the same JSON with LightGBM's
  ``Booster.predict`` (the booster file named by ``BENCH_BOOSTER``, its input columns in
  ``BENCH_FEATURES``), written the way such an app usually is: a pydantic body, an
  ``async def`` route, a dict returned;
* :func:`starlette_app` — a bare Starlette endpoint that reads the body and answers a constant:
  the HTTP stack's own limit.
"""


import os

ROUTE = "/v1/models/ds.bt:predict"


def fastapi_app():
    import lightgbm as lgb
    import numpy as np
    from fastapi import FastAPI
    from pydantic import BaseModel

    booster = lgb.Booster(model_file=os.environ["BENCH_BOOSTER"])
    names = os.environ["BENCH_FEATURES"].split(",")

    class Body(BaseModel):
        instances: list[dict[str, float | None]]

    app = FastAPI()

    @app.post(ROUTE)
    async def predict(body: Body) -> dict:
        X = np.array([[row.get(name) for name in names] for row in body.instances], dtype=np.float64)
        probs = booster.predict(X)
        return {"predictions": [{"predicted_label": int(p > 0.5), "prob": float(p)} for p in probs]}

    return app


def starlette_app():
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    answer = b'{"predictions":[{"predicted_label":1,"predicted_label_probs":[{"label":1,"prob":0.75},{"label":0,"prob":0.25}]}]}'

    async def predict(request):
        await request.body()
        return Response(answer, media_type="application/json")

    return Starlette(routes=[Route(ROUTE, predict, methods=["POST"])])
