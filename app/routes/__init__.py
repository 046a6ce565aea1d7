"""One module per resource: parse and validate, call a named query (``app.queries``), return a
``schemas`` model. Each route takes the release it reads as ``app.release.ReleaseDep``.

A successful ``GET /v1/...`` is built here once per release and URL; repeats are answered from
memory before routing (``app.release.middleware``). A route marked ``@preloaded(...)`` is
answered from memory even the first time.
"""
