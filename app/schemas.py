"""The public JSON shapes, separate from the tables."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Health(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok"}]})

    status: str = Field(description="'ok' when the process is alive.")


class Readiness(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"status": "ready", "release": "3f2a9c…", "database": "ok"}]}
    )

    status: str = Field(description="'ready', or 'unavailable' with a 503.")
    database: str = Field(description="'ok' when the database answered.")
    release: str | None = Field(description="Content hash of the loaded release, if any.")
