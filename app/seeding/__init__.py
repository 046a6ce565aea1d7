"""Seed files → validated models → the database, in one transaction.

- ``format``: the models each seed file is validated against;
- ``yaml_files``: one YAML file read safely and validated, every problem with its place;
- ``reader``: reading a seed directory (``read_seed_dir``), every problem reported;
- ``checks``: the checks across files, one function per rule (``CHECKS``);
- ``load``: loading a validated seed in one transaction (``load_seed``);
- ``derived``: what a load derives from the content (the search documents);
- ``trials``: the trial data under ``seed/trials/``, read into records (loaded by ``load``).
"""

from app.seeding.load import LoadReport, load_seed
from app.seeding.reader import read_seed_dir

__all__ = ["LoadReport", "load_seed", "read_seed_dir"]
