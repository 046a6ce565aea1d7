"""The trial layer: randomised-trial datasets read into typed records (no database).

- ``format``: the models of ``seed/trials/metapsy/datasets.yaml`` and ``seed/trials/mapping.yaml``;
- ``csvfile``: one ``data.csv`` read after its checksum is checked;
- ``signs``: the direction of a dataset's effects, from its raw arm columns;
- ``reader``: ``read_trials`` (files → ``TrialData``) and ``measure_signs``;
- the frozen records it returns are in ``app.trial_records`` (domain: the seed set carries them).
"""

from app.seeding.trials.reader import measure_signs, read_trials
from app.trial_records import TrialComparison, TrialData, TrialDataset, TrialExclusion

__all__ = [
    "TrialComparison",
    "TrialData",
    "TrialDataset",
    "TrialExclusion",
    "measure_signs",
    "read_trials",
]
