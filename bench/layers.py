"""The ASGI layers a cached answer crosses: from the server to the release layer, which answers
it from memory. Prints them outermost first, and their number.

    python -m bench.layers

Each layer is an ASGI app holding the next one as ``app``; every request enters each of them
in turn until the one that answers, so the chain down to the release layer is the path of a
cached answer.
"""

from __future__ import annotations

import sys
from typing import Any

from app.config import Settings
from app.main import create_app
from app.release.middleware import ReleaseMiddleware


def cached_path() -> list[str]:
    """The layers, outermost first, down to (and with) the release layer."""
    app = create_app(Settings())
    layer: Any = app.build_middleware_stack()
    names = []
    while layer is not None:
        names.append(type(layer).__name__)
        if isinstance(layer, ReleaseMiddleware):
            return names
        layer = getattr(layer, "app", None)
    raise RuntimeError("no release layer in the stack")


def main() -> None:
    names = cached_path()
    lines = [f"{n:2} {name}" for n, name in enumerate(names, 1)]
    sys.stdout.write("\n".join([*lines, f"{len(names)} layers for a cached answer", ""]))


if __name__ == "__main__":
    main()
