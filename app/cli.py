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


# Where the current release's checksums are stated, each between markers `checksums` writes.
README = "README.md"
CITATION_CFF = "CITATION.cff"
README_START, README_END = "<!-- checksums: written by `make checksums` -->", "<!-- /checksums -->"
CFF_START = "# checksums: written by `make checksums`"
EXTENSIONS = {"json": "json", "ndjson": "ndjson", "csv": "zip"}


def release_checksums(seed_dir: Path) -> tuple[str, dict[str, str]]:
    """The version of the seed in ``seed_dir`` and the sha256 of its export in each format, as
    any install serves them: the seed loaded into a throwaway SQLite database."""
    import tempfile

    from sqlalchemy import select
    from sqlmodel import Session

    from app import models as m
    from app.config import Settings
    from app.migrate import upgrade
    from app.seeding import load_seed, read_seed_dir

    seed = read_seed_dir(seed_dir)
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_db_engine(Settings(database_url=f"sqlite:///{tmp}/checksums.sqlite3"))
        try:
            upgrade(engine)
            load_seed(engine, seed)
            with Session(engine) as session:
                rows = session.execute(select(m.ReleaseSnapshot)).scalars()
                sums = {r.format: r.sha256 for r in rows}
        finally:
            engine.dispose()
    return seed.release.version, {fmt: sums[fmt] for fmt in EXTENSIONS}


def checksums_markdown(version: str, sums: dict[str, str]) -> str:
    rows = "\n".join(
        f"| `/v1/releases/{version}/export.{EXTENSIONS[fmt]}` | `{sha}` |"
        for fmt, sha in sums.items()
    )
    return (
        f"{README_START}\n| release {version}, export | sha256 |\n|---|---|\n{rows}\n{README_END}"
    )


def checksums_cff(version: str, sums: dict[str, str]) -> str:
    entries = "".join(
        f"  - type: other\n"
        f'    value: "sha256:{sha}"\n'
        f"    description: \"sha256 of release {version}'s export as {fmt} "
        f'(GET /v1/releases/{version}/export.{EXTENSIONS[fmt]})"\n'
        for fmt, sha in sums.items()
    )
    return f"{CFF_START}\nidentifiers:\n{entries}"


def _replace_block(text: str, start: str, end: str | None, block: str, where: Path) -> str:
    if start not in text:
        raise _fail(f"{where}: no line {start!r} to write the checksums after")
    head, _, rest = text.partition(start)
    if end is None:  # to the end of the file
        return head + block
    if end not in rest:
        raise _fail(f"{where}: no {end!r} after {start!r}")
    return head + block + rest.partition(end)[2]


@cli.command()
def checksums(
    directory: DirOption = None,
    write: Annotated[
        bool, typer.Option("--write", help=f"Write them into {README} and {CITATION_CFF}.")
    ] = False,
) -> None:
    """The sha256 of the seed's export in each format, the same on every install; --write
    states them in the README and CITATION.cff (a test holds the two to the seed)."""
    try:
        version, sums = release_checksums(directory or get_settings().seed_dir)
    except AppError as exc:
        raise _fail(exc.detail) from exc
    for fmt, sha in sums.items():
        typer.echo(f"{sha}  {version}/export.{EXTENSIONS[fmt]}")
    if write:
        from app.config import PROJECT_ROOT

        readme, cff = PROJECT_ROOT / README, PROJECT_ROOT / CITATION_CFF
        text = readme.read_text(encoding="utf-8")
        block = checksums_markdown(version, sums)
        readme.write_text(_replace_block(text, README_START, README_END, block, readme), "utf-8")
        text = cff.read_text(encoding="utf-8")
        block = checksums_cff(version, sums)
        cff.write_text(_replace_block(text, CFF_START, None, block, cff), encoding="utf-8")
        typer.echo(f"wrote the checksums of release {version} into {README} and {CITATION_CFF}")


@cli.command("history-seed")
def history_seed(
    out: Annotated[Path, typer.Option("--out", help="Directory to write the seed into.")],
    version: Annotated[
        str | None,
        typer.Argument(help="A published version; default: the one before the current seed's."),
    ] = None,
) -> None:
    """Write the seed of a published release, from this repository's git history, into OUT
    (as OUT/seed): the last commit whose seed/release.yaml names that version."""
    import subprocess

    import yaml

    from app.config import PROJECT_ROOT

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise _fail(f"git {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    # Newest first: each commit that changed the release file, with the version it names.
    commits = git("log", "--format=%H", "--", "seed/release.yaml").split()
    versions = [
        (c, str(yaml.safe_load(git("show", f"{c}:seed/release.yaml"))["version"])) for c in commits
    ]
    if not versions:
        raise _fail("no release in this repository's history")
    wanted = version or next((v for _, v in versions if v != versions[0][1]), None)
    for n, (_, named) in enumerate(versions):
        if named == wanted:
            # The seed as it last was under that version: just before the next version's commit.
            revision = f"{versions[n - 1][0]}^" if n else "HEAD"
            break
    else:
        known = ", ".join(dict.fromkeys(v for _, v in versions))
        raise _fail(f"no release {wanted} in this repository's history; it has {known}")
    out.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "archive", revision, "seed"], cwd=PROJECT_ROOT, capture_output=True, check=True
    ).stdout
    import io
    import tarfile

    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(out, filter="data")
    typer.echo(
        f"wrote the seed of release {wanted} ({git('rev-parse', revision).strip()[:12]}) "
        f"into {out / 'seed'}"
    )


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
