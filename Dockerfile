# therapy-kb: the API in a container. Build: `docker build -t therapy-kb .`
#
# Layout of the final image:
#   /opt/venv     the dependencies and the `therapy-kb` command (built in the first stage)
#   /app/app      the service's source        /app/migrations  Alembic scripts
#   /app/seed     the knowledge base (YAML)   /app/var         the SQLite database (a volume)
#   /app/LICENSE  the code's licence (the content's is seed/LICENSE)
#
# Why the source lives in /app rather than in site-packages: app/config.py takes PROJECT_ROOT to
# be the directory above the `app` package, and finds migrations/, seed/ and var/ there. Installed
# from a regular wheel, PROJECT_ROOT would be site-packages. So the first stage installs the
# project in editable mode from /app (pip builds an editable wheel): the venv gets the
# dependencies, the `therapy-kb` entry point and a path hook pointing the `app` package at
# /app/app, and the final stage puts the source back at that same path. No pip run, compiler or
# build tool is needed in the final image, and the defaults in config.py apply unchanged.

# ---- stage 1: dependencies and the entry point, in a venv ----------------------------------
FROM python:3.11-slim-bookworm AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PATH="/opt/venv/bin:$PATH"

RUN python -m venv /opt/venv
WORKDIR /app

# Dependencies first, in their own layer, so that editing app/ does not reinstall them all.
# (Every dependency ships a manylinux wheel, psycopg[binary] included: no apt, no compiler.)
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install --no-cache-dir --requirement /tmp/requirements.txt

COPY app/ ./app/
RUN pip install --no-cache-dir --no-deps --editable . \
    && therapy-kb --help > /dev/null

# ---- stage 2: the runtime image ------------------------------------------------------------
# Same base as stage 1: the venv's python is a link to this image's /usr/local/bin/python3.11.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH="/opt/venv/bin:$PATH" \
    THERAPY_KB_HOST=0.0.0.0 \
    THERAPY_KB_PORT=8000 \
    THERAPY_KB_WORKERS=2

# A fixed, unprivileged UID; it owns only /app/var, where the default SQLite database goes
# (THERAPY_KB_DATABASE_URL is left unset so that the DATABASE_URL fallback keeps working).
RUN groupadd --gid 10001 therapy-kb \
    && useradd --uid 10001 --gid 10001 --no-log-init --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin therapy-kb \
    && mkdir -p /app/var \
    && chown 10001:10001 /app/var

WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY app/ ./app/
COPY migrations/ ./migrations/
COPY seed/ ./seed/
COPY LICENSE ./

USER 10001:10001
VOLUME ["/app/var"]
EXPOSE 8000

# /readyz answers 200 only when the database answers and a release is loaded; urlopen raises
# (exit status 1) on a 503, a refused connection or a timeout. There is no curl in the slim image.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/readyz' % os.environ.get('THERAPY_KB_PORT', '8000'), timeout=4)"]

# Migrate and load seed/ (both idempotent), then `exec` the command so that it replaces the shell
# as PID 1 and receives SIGTERM itself: uvicorn then finishes in-flight requests and exits.
# `serve` reads THERAPY_KB_HOST, THERAPY_KB_PORT and THERAPY_KB_WORKERS.
# Another command runs after the same two steps (`docker run IMAGE therapy-kb export ...`); to
# skip them: `docker run --entrypoint therapy-kb IMAGE check`.
ENTRYPOINT ["/bin/sh", "-c", "therapy-kb migrate && therapy-kb seed && exec \"$@\"", "docker-entrypoint"]
CMD ["therapy-kb", "serve"]
