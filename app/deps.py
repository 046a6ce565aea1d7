"""Request dependencies, as ``Annotated`` aliases the routes declare.

A request's database work runs in one worker thread: the route's own. Opening the session does
no I/O (so it happens in the event loop), and the release is read by the session itself as the
first statement of its transaction (``app.db.record_release``), not by a dependency of its own:
every dependency that does I/O would cost another hop between threads. A route that shows the
release takes it from the session, ``app.db.loaded_release``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session


async def get_session(request: Request) -> AsyncIterator[Session]:
    session: Session = request.app.state.sessions(info={"request_state": request.state})
    try:
        yield session
    finally:
        # Ends the read-only transaction and returns the connection: a rollback, no waiting.
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]
