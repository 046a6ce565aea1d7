"""The web edge: the middleware around the faces and the app-level wiring. It stands above the
faces (it may know them); what the faces share of a request is in ``app.http``, below them.
``app.main`` declares the stack, outermost first:

1. request id (asgi-correlation-id) — ``X-Request-ID`` in and out, on every log line;
2. ``request_log`` — one access line per request;
3. ``security_headers`` — nosniff, referrer policy, CSP by the path's area (``app.urls``);
4. ``problems`` — any unhandled error becomes a logged 500, written by the one error writer;
5. ``guards`` — 405, 414, 431 and 400 before any routing;
6. ``rate_limit`` — optional, per client (the ``limits`` library);
7. ``cors`` — only for a request with an ``Origin``;
8. ``head`` — ``HEAD`` as ``GET`` without the body;
9. ``accept`` — 406 when ``Accept`` allows none of what an API operation sends; the one place
   that sets ``Vary`` (``Origin``, and ``Accept`` where it chooses the representation);
10. (``app.release.middleware``: answers from memory for the loaded release and the client's
    origin; ETag, 304, Cache-Control, X-KB-Release);
11. ``admission`` — at most one request per pooled connection in the routes; a queue beyond
    its bound is shed with 503.

``openapi`` finishes the OpenAPI document (each operation's errors by one rule);
``problems`` also holds the exception handlers.
"""
