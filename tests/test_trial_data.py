"""The trial layer's data: the real files load with every code known, a changed, missing or
malformed file is refused with its name and place, the pinned signs agree with the raw arm
columns, and the modality rules (DIT, online, group) and the duplicate rule hold.

Pure tests: no database. Bad-data cases work on copies in ``tmp_path``.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import math
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.domain import (
    Delivery,
    LowRiskOfBias,
    OnlineVariant,
    OutcomeKind,
    TherapyFamily,
)
from app.errors import SeedInvalid
from app.seeding.trials import TrialData, measure_signs, read_trials
from app.seeding.trials.csvfile import CsvRow
from app.seeding.trials.duplicates import trial_key
from app.seeding.trials.profile import profile

SEED = Path(__file__).resolve().parent.parent / "seed"
METAPSY = SEED / "trials" / "metapsy"


@pytest.fixture(scope="module")
def data() -> TrialData:
    return read_trials(SEED)


@pytest.fixture(scope="module")
def mapping() -> dict[str, object]:
    loaded: dict[str, object] = yaml.safe_load((SEED / "trials" / "mapping.yaml").read_text())
    return loaded


def rows_of(dataset: str) -> list[CsvRow]:
    """A dataset's rows as the reader numbers them, read here with the csv module directly."""
    text = (METAPSY / dataset / "data.csv").read_bytes().decode("utf-8", errors="replace")
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=";")
    return [CsvRow(n, 0, dict(r)) for n, r in enumerate(reader, start=1)]


@pytest.fixture
def seed_copy(tmp_path: Path) -> Path:
    shutil.copy(SEED / "conditions.yaml", tmp_path / "conditions.yaml")
    shutil.copytree(SEED / "trials", tmp_path / "trials")
    return tmp_path


def rewrite(seed: Path, dataset: str, old: bytes, new: bytes, *, count: int = 1) -> None:
    """Change a data file and record its new checksum, as a reviewed update would."""
    path = seed / "trials" / "metapsy" / dataset / "data.csv"
    raw = path.read_bytes()
    assert old in raw
    before = hashlib.sha256(raw).hexdigest()
    changed = raw.replace(old, new, count)
    path.write_bytes(changed)
    manifest = seed / "trials" / "metapsy" / "datasets.yaml"
    after = hashlib.sha256(changed).hexdigest()
    manifest.write_text(manifest.read_text().replace(before, after))


def problems(seed: Path) -> str:
    with pytest.raises(SeedInvalid) as caught:
        read_trials(seed)
    return str(caught.value)


# The real files ---------------------------------------------------------------------------


def test_the_real_files_load_with_every_code_known(data: TrialData) -> None:
    assert len(data.datasets) == 13
    assert {d.licence for d in data.datasets} == {"ODC-By-1.0"}
    for dataset in data.datasets:
        raw = (METAPSY / dataset.name / "data.csv").read_bytes()
        assert hashlib.sha256(raw).hexdigest() == dataset.sha256
    # Every row of every file is either a comparison or an exclusion, once.
    seen = Counter((c.dataset, c.row) for c in data.comparisons)
    seen.update((e.dataset, e.row) for e in data.exclusions)
    expected = {(d.name, n) for d in data.datasets for n in range(1, d.rows + 1)}
    assert set(seen) == expected
    assert max(seen.values()) == 1
    assert data.comparisons, "no usable rows"


def test_records_are_frozen(data: TrialData) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.comparisons[0].g = 0.0  # type: ignore[misc]


def test_the_conditions_are_the_knowledge_bases(data: TrialData) -> None:
    conditions = yaml.safe_load((SEED / "conditions.yaml").read_text())["conditions"]
    slugs = {c["slug"] for c in conditions}
    assert {c.condition for c in data.comparisons} <= slugs


def test_oriented_g_is_the_source_g_times_the_pinned_sign(
    data: TrialData, mapping: dict[str, dict[str, dict[str, dict[str, int]]]]
) -> None:
    for c in data.comparisons:
        pinned = mapping["signs"][c.dataset][c.outcome_kind.value]["sign"]
        assert c.sign == pinned
        assert c.g == pinned * c.source_g
        assert c.se == c.source_se > 0


def test_a_missing_rating_never_counts_as_low(data: TrialData) -> None:
    for c in data.comparisons:
        if c.risk_of_bias is None:
            assert c.low_risk_of_bias is not LowRiskOfBias.yes, c
    suicide = [e for e in data.exclusions if e.dataset == "suicide-psyctr"]
    assert suicide  # (its rows are excluded, but the rule is the mapping's: NA → not-assessed)


# The signs ----------------------------------------------------------------------------------


def test_the_pinned_sign_table_agrees_with_the_raw_arm_columns(
    mapping: dict[str, dict[str, dict[str, dict[str, object]]]],
) -> None:
    measured = measure_signs(SEED)
    pinned = {
        (dataset, OutcomeKind(kind)): entry
        for dataset, kinds in mapping["signs"].items()
        for kind, entry in kinds.items()
        if kind in {k.value for k in OutcomeKind} and "sign" in entry
    }
    assert set(measured) == set(pinned)
    for key, agreement in measured.items():
        entry = pinned[key]
        assert agreement.checked == entry["checked"], key
        assert agreement.agree == entry["agree"], key
        assert list(agreement.dissent) == entry["dissent"], key
        assert agreement.share >= 0.9, key


def _independent_agreement(
    dataset: str, kind: str, entry: dict[str, Any], signs: dict[str, Any], outcome: dict[str, Any]
) -> tuple[int, int, list[int]]:
    """The same count as ``measure_signs``, written again here from the csv module alone."""

    def num(text: str | None) -> float:
        """A number; NaN for a missing one (every comparison with NaN is false)."""
        return math.nan if text in (None, "", "NA") else float(str(text).replace(",", "."))

    checked = agree = 0
    dissent: list[int] = []
    higher = set(signs.get("higher_is_better", []))
    lost = bool(signs.get("means_lost_decimal_separator"))
    for row in rows_of(dataset):
        cells = row.values
        if outcome["codes"].get(row.code(outcome["column"])) != kind:
            continue
        g = num(cells.get(".g"))
        if math.isnan(g) or g == 0:
            continue
        if kind == "events":
            e1, e2 = num(cells.get("event_arm1")), num(cells.get("event_arm2"))
            n1, n2 = num(cells.get("totaln_arm1")), num(cells.get("totaln_arm2"))
            if math.isnan(e1 + e2 + n1 + n2) or not n1 or not n2 or e1 / n1 == e2 / n2:
                continue
            more = e1 / n1 > e2 / n2
            better = more if entry["events_mean"] == "benefit" else not more
        else:
            better = None
            for a, b in (("mean_arm1", "mean_arm2"), ("mean_change_arm1", "mean_change_arm2")):
                x, y = cells.get(a, "NA"), cells.get(b, "NA")
                if "NA" in (x, y) or "" in (x, y):
                    continue
                if lost and (len(x) != len(y) or not (x.isdigit() and y.isdigit())):
                    continue
                if num(x) != num(y):
                    lower = num(x) < num(y)
                    better = not lower if row.code("instrument") in higher else lower
                break
            if better is None:
                continue
        checked += 1
        if (entry["sign"] * g > 0) == better:
            agree += 1
        else:
            dissent.append(row.number)
    return checked, agree, dissent


def test_the_sign_table_recomputed_without_the_reader(
    mapping: dict[str, Any],
) -> None:
    for dataset, signs in mapping["signs"].items():
        outcome = mapping["datasets"][dataset]["outcome"]
        for kind in ("continuous", "events"):
            entry = signs.get(kind)
            if not isinstance(entry, dict) or "sign" not in entry:
                continue
            found = _independent_agreement(dataset, kind, entry, signs, outcome)
            assert found == (entry["checked"], entry["agree"], entry["dissent"]), (dataset, kind)
            assert found[1] >= 0.9 * found[0]


def test_datasets_differ_in_direction_so_the_sign_matters(data: TrialData) -> None:
    signs = {(c.dataset, c.outcome_kind): c.sign for c in data.comparisons}
    assert signs[("gad-psyctr", OutcomeKind.continuous)] == -1
    assert signs[("depression-psyctr", OutcomeKind.continuous)] == 1
    # In one dataset, event rows run the other way from score rows.
    assert signs[("borderline-psyctr", OutcomeKind.continuous)] == -1
    assert signs[("borderline-psyctr", OutcomeKind.events)] == 1


# Modalities ----------------------------------------------------------------------------------


def test_no_psychodynamic_row_is_ever_dit(data: TrialData) -> None:
    assert all(c.modality != "dit" for c in data.comparisons)
    psychodynamic = [c for c in data.comparisons if c.family is TherapyFamily.psychodynamic]
    assert psychodynamic
    assert {c.modality for c in psychodynamic} == {None}


def test_modality_cbt_ipt_dbt_follow_their_family(data: TrialData) -> None:
    for c in data.comparisons:
        if c.modality is not None:
            assert c.family.value == c.modality, c
    assert {"cbt", "ipt", "dbt"} <= {c.modality for c in data.comparisons}


def test_group_format_rows_also_count_for_group(data: TrialData) -> None:
    for c in data.comparisons:
        assert ("group" in c.also_counts_for) == (c.delivery is Delivery.group), c
    assert any("group" in c.also_counts_for for c in data.comparisons)


def test_a_book_only_row_never_counts_for_online(data: TrialData) -> None:
    selfguided = rows_of("depression-selfguided-psyctr")
    books = {r.number for r in selfguided if r.code("format_unguided") == "book"}
    assert books
    for c in data.comparisons:
        if c.dataset == "depression-selfguided-psyctr" and c.row in books:
            assert "online" not in c.also_counts_for, c
            assert c.online_variant is None


def test_only_rows_flagged_internet_or_mobile_count_for_online(data: TrialData) -> None:
    flags = {
        "depression-selfguided-psyctr": ("format_unguided", {"internet", "mobile"}),
        "gad-psyctr": (
            "format_details",
            {"internet guided self-help", "unguided smartphone application"},
        ),
        "ptsd-psyctr": ("delivery_method", {"Video"}),
        "depression-psyctr": (
            "format_details",
            {
                "grp/videoconference",
                "grp/zoom/ delivered by public health nurses",
                "zoom, peer support",
                "videoconferencing",
                "messaging",
                "chat with professional",
                "group chat room",
            },
        ),
    }
    codes = {
        name: {r.number: r.code(column) for r in rows_of(name)}
        for name, (column, _) in flags.items()
    }
    online = [c for c in data.comparisons if "online" in c.also_counts_for]
    assert online
    for c in online:
        assert c.dataset in flags, c
        assert codes[c.dataset][c.row] in flags[c.dataset][1], c
    # Guided self-help without a flag (book or internet, not told apart) is not online.
    gsh = [c for c in data.comparisons if c.delivery is Delivery.guided_self_help]
    assert any("online" not in c.also_counts_for for c in gsh)


def test_an_icbt_variant_goes_only_with_cbt(data: TrialData) -> None:
    icbt = {OnlineVariant.guided_icbt, OnlineVariant.unguided_icbt}
    for c in data.comparisons:
        if c.online_variant in icbt:
            assert c.family is TherapyFamily.cbt, c
            assert "online" in c.also_counts_for


# Duplicates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "key"),
    [
        ("Andrade et al. (2016)", "andrade-2016"),
        ("Andrade, 2016", "andrade-2016"),
        ("Bark 2003", "bark-2003"),
        ("Alsheikh Ali, 2020", "alsheikhali-2020"),
        ("Lichtenthal & Cruess (2010)", "lichtenthal-2010"),
        ("Rohde, 2014b", "rohde-2014b"),
        ("García et al. (2014)", "garcia-2014"),
    ],
)
def test_a_trial_is_known_by_first_author_and_year(label: str, key: str) -> None:
    assert trial_key(label) == key


def test_a_trial_in_two_datasets_is_counted_once(
    data: TrialData, mapping: dict[str, list[dict[str, list[str]]]]
) -> None:
    groups = [group["datasets"] for group in mapping["duplicates"]]
    for group in groups:
        holders: dict[str, set[str]] = {}
        for c in data.comparisons:
            if c.dataset in group:
                holders.setdefault(c.trial_key, set()).add(c.dataset)
        assert all(len(found) == 1 for found in holders.values())
    # A known case: Ebert (2018) is in the self-guided and the main depression datasets.
    kept = {c.dataset for c in data.comparisons if c.trial_key == "ebert-2018"}
    assert kept == {"depression-selfguided-psyctr"}
    left = [e for e in data.exclusions if e.dataset == "depression-psyctr"]
    ebert = [e for e in left if trial_key(e.study) == "ebert-2018"]
    assert ebert
    assert all("depression-selfguided-psyctr" in e.reason for e in ebert)


def test_the_dataset_listed_first_keeps_a_shared_trial(seed_copy: Path) -> None:
    mapping_path = seed_copy / "trials" / "mapping.yaml"
    text = mapping_path.read_text()
    swapped = text.replace(
        "[depression-selfguided-psyctr, depression-anxiety-transdiagnostic, depression-psyctr,",
        "[depression-psyctr, depression-anxiety-transdiagnostic, depression-selfguided-psyctr,",
    )
    assert swapped != text
    mapping_path.write_text(swapped)
    data = read_trials(seed_copy)
    kept = {c.dataset for c in data.comparisons if c.trial_key == "ebert-2018"}
    assert kept == {"depression-psyctr"}


# Bad data ------------------------------------------------------------------------------------


def test_a_changed_file_is_refused_naming_it(seed_copy: Path) -> None:
    path = seed_copy / "trials" / "metapsy" / "ocd-psyctr" / "data.csv"
    path.write_bytes(path.read_bytes().replace(b";0,9", b";0,8", 1))
    message = problems(seed_copy)
    assert "trials/metapsy/ocd-psyctr/data.csv" in message
    assert "sha256" in message


def test_a_missing_file_is_refused_naming_it(seed_copy: Path) -> None:
    (seed_copy / "trials" / "metapsy" / "sad-psyctr" / "data.csv").unlink()
    message = problems(seed_copy)
    assert "trials/metapsy/sad-psyctr/data.csv" in message
    assert "missing" in message


def test_an_unknown_code_is_refused_naming_dataset_column_code_and_row(seed_copy: Path) -> None:
    rows = rows_of("ocd-psyctr")
    target = next(r for r in rows if r.code("condition_arm2") == "no treatment")
    rewrite(seed_copy, "ocd-psyctr", b'"no treatment"', b'"nothing at all"')
    message = problems(seed_copy)
    assert "ocd-psyctr" in message
    assert "'condition_arm2'" in message
    assert "'nothing at all'" in message
    assert f"row {target.number} " in message


def test_a_missing_column_is_refused_naming_it(seed_copy: Path) -> None:
    rewrite(seed_copy, "panic-psyctr", b'"format"', b'"formats"')
    message = problems(seed_copy)
    assert "trials/metapsy/panic-psyctr/data.csv" in message
    assert "column 'format'" in message


def test_broken_characters_in_a_reference_do_not_stop_the_load(seed_copy: Path) -> None:
    # Bytes that are not UTF-8 inside a reference string (as some sources have).
    path = seed_copy / "trials" / "metapsy" / "ed-psyctr" / "data.csv"
    raw = path.read_bytes()
    first = raw.split(b"\n", 2)[1]
    broken = first[:-5] + b"\xe9\xff" + first[-5:]
    rewrite(seed_copy, "ed-psyctr", first, broken)
    data = read_trials(seed_copy)
    refs = [c.reference for c in data.comparisons if c.dataset == "ed-psyctr" and c.row == 1]
    assert refs
    assert refs[0] is not None
    assert "\ufffd" in refs[0]


def test_a_sign_without_enough_agreement_is_refused(seed_copy: Path) -> None:
    mapping_path = seed_copy / "trials" / "mapping.yaml"
    text = mapping_path.read_text()
    weak = text.replace(
        "continuous: {sign: 1, checked: 87, agree: 87, dissent: []}",
        "continuous: {sign: 1, checked: 87, agree: 70, dissent: []}",
    )
    assert weak != text
    mapping_path.write_text(weak)
    message = problems(seed_copy)
    assert "trials/mapping.yaml" in message
    assert "90%" in message


# What the files lack (the figures docs/meta-analysis.md gives) --------------------------------


def test_the_documented_gaps_are_measured_on_the_files() -> None:
    found = {p.dataset: p for p in profile(SEED)}
    assert not found["ed-psyctr"].time.present
    assert found["psychosis-psyctr"].time.missing == found["psychosis-psyctr"].rows == 206
    assert {n for n, p in found.items() if not p.format.present} == {
        "depression-selfguided-psyctr",
        "suicide-psyctr",
    }
    assert found["panic-psyctr"].format.missing == 3
    assert {n for n, p in found.items() if not p.year.present} == {"ptsd-psyctr", "suicide-psyctr"}
    assert found["suicide-psyctr"].risk_of_bias.missing == 190
    assert found["ocd-psyctr"].risk_of_bias.missing == 1
    assert {n for n, p in found.items() if not p.row_id.present} == {"ed-psyctr", "suicide-psyctr"}
    assert {n for n, p in found.items() if p.repeated_ids} == {"depression-selfguided-psyctr"}
    assert sum(p.without_g for p in found.values()) == 103


def test_every_dataset_is_attributed_in_the_licence_and_the_readme(data: TrialData) -> None:
    licence = (SEED / "LICENSE").read_text()
    readme = (SEED.parent / "README.md").read_text().split("## Trial data", 1)[1]
    for d in data.datasets:
        assert f"{d.name} {d.version}, doi:{d.doi}, ODC-By 1.0" in licence
        assert (
            f"| {d.name} | {d.version} | [{d.doi}](https://doi.org/{d.doi}) | ODC-By 1.0 |"
            in readme
        )


def test_one_load_reports_every_problem(seed_copy: Path) -> None:
    rewrite(seed_copy, "ocd-psyctr", b'"no treatment"', b'"nothing at all"')
    (seed_copy / "trials" / "metapsy" / "sad-psyctr" / "data.csv").write_bytes(b"changed")
    message = problems(seed_copy)
    assert "2 problem(s)" in message
    assert "'nothing at all'" in message
    assert "trials/metapsy/sad-psyctr/data.csv: the file has changed" in message
