"""One module per resource: parse and validate, call a named query (``app.queries``), return a
``schemas`` model.

A successful ``GET /v1/...`` is built here once per release and URL; repeats are answered from
memory before routing (``app/web/release_cache.py``). A route marked ``@preloaded(...)`` is
answered from memory even the first time.
"""
