"""The explorer: server-rendered HTML pages for people, over the same queries as ``/v1``.

``routes`` holds the pages, ``forest`` draws the forest plots, ``render`` the Jinja2
environment; templates live in ``app/templates`` and the stylesheet in ``app/static``.
Which paths are pages and figures is said once, in the URL map (``app.urls.area``), which the
layers that give the pages their caching and their Content-Security-Policy read.
"""
