"""Generate the API's clients from its own OpenAPI document (``make sdk`` runs this).

    python clients/generate.py [--out DIR]

DIR defaults to this directory (``clients/``). Under it, this writes:

- ``openapi.json``: the document, as ``therapy-kb openapi`` writes it;
- ``python/``: a Python client, ``therapy_kb_client`` (openapi-python-client with its default
  settings: every operation is readable by them; its ``Client`` follows redirects unless told
  not to, so a condition asked for by its ICD code, a 308 to its slug, reads as the condition);
- ``typescript/src/schema.d.ts``: the TypeScript types of every path (openapi-typescript).

then type-checks ``typescript/example.ts`` against those types with ``tsc``, which compiles it to
``typescript/dist/example.js`` in the same pass (the tests run that file). Into any
other DIR, the committed TypeScript files (``package.json``, ``tsconfig.json``, ``example.ts``)
are copied and ``node_modules`` is linked, so DIR holds the same clients ``make sdk`` leaves
here; the tests generate into a temporary directory this way. The Node tools come from
``typescript/node_modules`` (``npm ci`` there installs the versions in its lock file).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TYPESCRIPT = HERE / "typescript"
NODE_BIN = TYPESCRIPT / "node_modules" / ".bin"
PACKAGE = "therapy_kb_client"  # the generator's name for it, from the document's title
# What the TypeScript client is besides the generated types.
TYPESCRIPT_FILES = ["package.json", "tsconfig.json", "example.ts"]


def _run(command: list[str], env: dict[str, str] | None = None) -> None:
    sys.stderr.write(f"+ {' '.join(command)}\n")
    subprocess.run(command, check=True, cwd=ROOT, env=env)


def openapi_document(out: Path) -> Path:
    document = out / "openapi.json"
    _run([sys.executable, "-m", "app.cli", "openapi", "--out", str(document)])
    return document


def python_client(document: Path, out: Path) -> Path:
    target = out / "python"
    # The generator formats its output with ruff (a dev dependency, beside this interpreter).
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    _run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(document),
            "--meta",
            "pdm",
            "--output-path",
            str(target),
            "--overwrite",
            "--fail-on-warning",
        ],
        env=env,
    )
    follow_redirects_by_default(target / PACKAGE / "client.py")
    return target


# The one setting of the generated client the generator has no option for: its clients'
# follow_redirects (httpx's, default False), which a code lookup's 308 needs.
FOLLOW_REDIRECTS = 'field(default={}, kw_only=True, alias="follow_redirects")'
FOLLOW_REDIRECTS_DOC = (
    "``follow_redirects``: Whether or not to follow redirects. Default value is {}."
)


def follow_redirects_by_default(client_py: Path) -> None:
    """Make ``follow_redirects=True`` the default of the generated ``Client`` and
    ``AuthenticatedClient`` (a caller can still pass False); fail loudly if the generator's
    output no longer has the line this edits."""
    source = client_py.read_text(encoding="utf-8")
    for template in (FOLLOW_REDIRECTS, FOLLOW_REDIRECTS_DOC):
        old, new = template.format(False), template.format(True)
        if source.count(old) != 2:
            changed = f"{client_py}: expected {old!r} in both clients; the generator changed"
            raise SystemExit(changed)
        source = source.replace(old, new)
    client_py.write_text(source, encoding="utf-8")


def typescript_client(document: Path, out: Path) -> Path:
    if not NODE_BIN.is_dir():
        raise SystemExit(f"{NODE_BIN.parent} is missing: run `npm ci` in {TYPESCRIPT}")
    target = out / "typescript"
    if target != TYPESCRIPT:
        target.mkdir(parents=True, exist_ok=True)
        for name in TYPESCRIPT_FILES:
            shutil.copyfile(TYPESCRIPT / name, target / name)
        link = target / "node_modules"
        if not link.exists():
            link.symlink_to(NODE_BIN.parent, target_is_directory=True)
    _run(
        [
            str(NODE_BIN / "openapi-typescript"),
            str(document),
            "--output",
            str(target / "src" / "schema.d.ts"),
        ]
    )
    _run([str(NODE_BIN / "tsc"), "--project", str(target)])
    return target


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="directory to write the clients to")
    out = parser.parse_args(argv).out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    document = openapi_document(out)
    python_client(document, out)
    typescript_client(document, out)


if __name__ == "__main__":
    main()
