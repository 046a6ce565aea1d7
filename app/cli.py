"""The ``therapy-kb`` command: migrate, check, seed, export, releases, diff, openapi, serve."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.exc import SQLAlchemyError

from app.config import Settings, get_settings
from app.db import create_db_engine
from app.errors import AppError

cli = typer.Typer(
    help="therapy-kb: a cited knowledge base of psychotherapy modalities.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# The app, named as uvicorn imports it: only app.main imports app.main (tests/test_layers.py).
APP_FACTORY = "app.main:create_app"

DirOption = Annotated[
    Path | None,
    typer.Option("--dir", help="Seed directory (default: THERAPY_KB_SEED_DIR or ./seed)."),
]


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=1)


def _writable_settings(command: str) -> Settings:
    """The settings, unless this node is read-only: writes go to the primary alone."""
    settings = get_settings()
    if settings.read_only:
        raise _fail(
            f"'therapy-kb {command}' writes, and this node is read-only (THERAPY_KB_READ_ONLY"
            " is set): run it where THERAPY_KB_DATABASE_URL names the primary, without"
            " THERAPY_KB_READ_ONLY (docs/deployment.md)"
        )
    return settings


@cli.command()
def migrate() -> None:
    """Bring the database schema up to date (alembic upgrade head)."""
    from app.migrate import upgrade

    engine = create_db_engine(_writable_settings("migrate"))
    try:
        upgrade(engine)
    except SQLAlchemyError as exc:
        # Driver errors carry the driver's own message in .orig; others do not.
        cause = getattr(exc, "orig", None) or exc
        raise _fail(f"migration failed: {exc.__class__.__name__}: {cause}") from exc
    finally:
        engine.dispose()
    typer.echo("database is at the latest schema")


@cli.command()
def check(directory: DirOption = None) -> None:
    """Validate the seed files without touching a database."""
    from app.seeding import read_seed_dir

    seed_dir = directory or get_settings().seed_dir
    try:
        seed = read_seed_dir(seed_dir)
    except AppError as exc:
        raise _fail(exc.detail) from exc
    trials = seed.trials
    trial_counts = (
        f", {len(trials.datasets)} trial datasets ({len(trials.comparisons)} comparisons kept,"
        f" {len(trials.exclusions)} rows left out)"
        if trials is not None
        else ""
    )
    typer.echo(
        f"ok: {seed_dir}: {len(seed.modalities)} modalities, {len(seed.conditions)} conditions, "
        f"{len(seed.citations)} citations{trial_counts}; content hash {seed.content_hash()}"
    )


@cli.command()
def seed(directory: DirOption = None) -> None:
    """Validate the seed files and load them in one transaction; report what changed."""
    from app.seeding import load_seed, read_seed_dir

    settings = _writable_settings("seed")
    engine = create_db_engine(settings)
    try:
        report = load_seed(engine, read_seed_dir(directory or settings.seed_dir))
    except AppError as exc:
        raise _fail(exc.detail) from exc
    except SQLAlchemyError as exc:
        # The driver's own message says why (e.g. a read-only transaction on a replica).
        cause = getattr(exc, "orig", None) or exc.__class__.__name__
        raise _fail(f"database error, nothing was loaded: {cause}") from exc
    finally:
        engine.dispose()
    for line in report.lines():
        typer.echo(line)


@cli.command("export")
def export_(
    format: Annotated[  # noqa: A002  (the option's public name)
        str, typer.Option("--format", help="json, ndjson or csv (a zip of CSV tables).")
    ] = "json",
    out: Annotated[Path, typer.Option("--out", help="File to write.")] = Path("export.json"),
) -> None:
    """Write the whole loaded knowledge base to a file, as GET /v1/export serves it."""
    from sqlmodel import Session

    from app import queries
    from app.domain import ExportFormat
    from app.export import export

    try:
        fmt = ExportFormat(format)
    except ValueError:
        raise _fail(f"--format must be one of {', '.join(f.value for f in ExportFormat)}") from None
    engine = create_db_engine(get_settings())
    try:
        with Session(engine) as session:
            release = queries.current_release(session)
            if release is None:
                raise _fail("no release is loaded; run 'therapy-kb seed' first")
            partial = out.with_name(out.name + ".partial")
            with partial.open("wb") as handle:
                for chunk in export(session, release, fmt):
                    handle.write(chunk)
            partial.replace(out)  # a reader never sees half a file
    except SQLAlchemyError as exc:
        raise _fail(f"database error: {exc.__class__.__name__}") from exc
    finally:
        engine.dispose()
    typer.echo(f"wrote {out} ({fmt.value}, release {release.content_hash[:12]})")


@cli.command()
def releases() -> None:
    """List every release kept in the database, newest first; * marks the one served now."""
    from sqlmodel import Session

    from app import queries
    from app.queries.releases import history_length, list_releases
    from app.urls import PATHS

    engine = create_db_engine(get_settings())
    try:
        with Session(engine) as session:
            current = queries.current_release(session)
            page = list_releases(
                session,
                PATHS,  # no request, no origin: the addresses as paths
                current.content_hash if current else "",
                limit=max(history_length(session), 1),
                offset=0,
            )
    except SQLAlchemyError as exc:
        raise _fail(f"database error: {exc.__class__.__name__}") from exc
    finally:
        engine.dispose()
    if not page.items:
        raise _fail("no release is kept yet; run 'therapy-kb seed' first")
    for r in page.items:
        mark = "*" if r.current else " "
        counts = ", ".join(f"{r.counts.get(k, 0)} {k}" for k in ("modalities", "conditions"))
        typer.echo(
            f"{mark} {r.version:<10} {r.release_date.isoformat()}  {r.content_hash[:12]}  "
            f"{r.license}  {counts}"
        )


@cli.command("diff")
def diff_(
    old: Annotated[str, typer.Argument(help="The version to compare from, e.g. 1.0.0.")],
    new: Annotated[str, typer.Argument(help="The version to compare to, e.g. 2.0.0.")],
    format: Annotated[  # noqa: A002  (the option's public name)
        str, typer.Option("--format", help="json (as the API answers) or markdown (a changelog).")
    ] = "json",
) -> None:
    """What changed between two kept releases, as GET /v1/releases/{old}/diff/{new} says."""
    from sqlmodel import Session

    from app.queries.common import no_memo
    from app.queries.releases import snapshot
    from app.release.history import diff, markdown

    if format not in ("json", "markdown"):
        raise _fail("--format must be one of json, markdown")
    engine = create_db_engine(get_settings())
    try:
        with Session(engine) as session:
            _, before = snapshot(session, no_memo, old, "json")
            _, after = snapshot(session, no_memo, new, "json")
    except AppError as exc:
        raise _fail(exc.detail) from exc
    except SQLAlchemyError as exc:
        raise _fail(f"database error: {exc.__class__.__name__}") from exc
    finally:
        engine.dispose()
    result = diff(before.body, after.body)
    if format == "markdown":
        typer.echo(markdown(result), nl=False)
    else:
        typer.echo(result.model_dump_json(indent=2))


@cli.command()
def openapi(
    out: Annotated[
        Path | None, typer.Option("--out", help="File to write (default: standard output).")
    ] = None,
) -> None:
    """Write the OpenAPI document the app serves at /openapi.json (no database needed)."""
    import json

    from uvicorn.importer import import_from_string

    app = import_from_string(APP_FACTORY)(get_settings())
    document = json.dumps(app.openapi(), indent=2, ensure_ascii=False)
    if out is None:
        typer.echo(document)
        return
    out.write_text(document + "\n", encoding="utf-8")
    typer.echo(f"wrote {out}", err=True)


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind.", min=1, max=65535)] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes.", min=1, max=64)] = None,
) -> None:
    """Serve the API with uvicorn (SIGTERM lets in-flight requests finish, then exits 0)."""
    import signal

    import uvicorn

    settings = get_settings()
    # uvicorn handles SIGTERM (stop accepting, finish in-flight requests), then re-raises it
    # under the handler that was there before; a no-op one lets the process exit with 0.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: None)
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers,
        proxy_headers=False,
        # The app logs one line per request itself (app.web.request_log), in JSON or text.
        access_log=False,
        timeout_graceful_shutdown=settings.graceful_shutdown_seconds,
    )


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
