"""HTTP machinery the faces share: small ASGI middlewares, one per job, and the rules the
routes use (problem+json, representations and ``Accept``, strict query parameters, shared
parameters). It knows no face: what is particular to the explorer or FHIR is handed in by
``app.main``, which declares the stack, outermost first:

1. (``app.fhir.outcome``: under ``/fhir``, every problem becomes an OperationOutcome);
2. request id (asgi-correlation-id) — ``X-Request-ID`` in and out, on every log line;
3. ``request_log`` — one access line per request;
4. ``security_headers`` — nosniff, referrer policy, CSP;
5. ``problems`` — any unhandled error becomes a logged 500 problem;
6. ``guards`` — 405, 414, 431 and 400 before any routing;
7. ``rate_limit`` — optional, per client (the ``limits`` library);
8. CORS (Starlette's);
9. ``head`` — ``HEAD`` as ``GET`` without the body;
10. ``absolute_urls`` — the client's origin in front of links;
11. ``negotiation`` — 406 when ``Accept`` allows none of what the operation sends;
    ``Vary: Accept`` on the operations with several representations;
12. (``app.release.middleware``: answers from memory for the loaded release; ETag, 304,
    Cache-Control, X-KB-Release);
13. ``admission`` — at most one request per pooled connection in the routes; a queue beyond
    its bound is shed with 503.

``openapi`` finishes the OpenAPI document; ``problems`` also holds the exception handlers;
``params`` the parameters the API and the explorer share.
"""
