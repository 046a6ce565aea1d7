"""therapy-kb: a cited knowledge base of psychotherapy modalities, served over HTTP."""

__version__ = "0.1.0"
