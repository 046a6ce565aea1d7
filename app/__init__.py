"""therapy-kb: a cited knowledge base of psychotherapy modalities, served over HTTP."""

from importlib.metadata import version

# The installed package's version (pyproject.toml), so OpenAPI's info.version cannot drift from it.
__version__ = version("therapy-kb")
