"""Everything between the server and the routes, one small ASGI middleware per job.

Outermost first, as ``app.main.create_app`` stacks them:

1. request id (asgi-correlation-id) — ``X-Request-ID`` in and out, on every log line;
2. ``request_log`` — one access line per request;
3. ``security_headers`` — nosniff, referrer policy, CSP;
4. ``problems`` — any unhandled error becomes a logged 500 problem;
5. ``guards`` — 405, 414, 431 and 400 before any routing;
6. ``rate_limit`` — optional, per client (the ``limits`` library);
7. CORS (Starlette's);
8. ``conditional`` — ``If-None-Match`` → 304, ``HEAD`` → ``GET`` without the body;
9. ``negotiation`` — 406 when ``Accept`` allows none of what the operation sends;
   ``Vary: Accept`` on the operations with several representations;
10. ``release_cache`` — answers from memory for the loaded release; stamps ETag,
    Cache-Control and X-KB-Release on what the routes send;
11. ``admission`` — at most one request per pooled connection in the routes; a queue beyond
    its bound is shed with 503.

``openapi`` finishes the OpenAPI document; ``problems`` also holds the exception handlers.
"""
