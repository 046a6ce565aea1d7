"""The trial layer's API over the real seed, on both engines: datasets, trials (filters, paging,
CSV, NDJSON, one comparison), pooled effects (against R's metafor on the rows the API hands out)
and the pooled figures on indications.

Expected rows are worked out here from the trial reader's records and the condition tree in
seed/conditions.yaml, not from the API's own filter.
"""

from __future__ import annotations

import csv
import io
import json
import math
import subprocess
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import yaml
from fastapi.testclient import TestClient

from app.config import Settings
from app.domain import CONTROL_COMPARATORS, Comparator
from app.main import create_app
from app.meta_analysis import EffectRow, meta_analysis
from app.seeding import read_seed_dir
from app.trial_records import TrialComparison
from tests.conftest import REAL_SEED
from tests.helpers import ORIGIN, require_metafor

SEED = read_seed_dir(REAL_SEED)
assert SEED.trials is not None
TRIALS = SEED.trials
POST = [c for c in TRIALS.comparisons if c.time == "post"]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "metafor" / "api"
TOLERANCE = 1e-6

_PARENTS = {
    c["slug"]: c.get("parent")
    for c in yaml.safe_load((REAL_SEED / "conditions.yaml").read_text())["conditions"]
}


def under(slug: str, root: str) -> bool:
    """Whether condition ``slug`` is ``root`` or below it in the seed's tree."""
    current: str | None = slug
    while current is not None:
        if current == root:
            return True
        current = _PARENTS[current]
    return False


def tid(c: TrialComparison) -> str:
    return f"{c.dataset}-{c.row}"


@pytest.fixture(scope="module")
def client(real_db_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=real_db_url))) as client:
        yield client


def every_item(client: TestClient, query: str) -> list[dict[str, Any]]:
    """Every item of /v1/trials?query, following the Link header's next pages."""
    items: list[dict[str, Any]] = []
    url: str | None = f"/v1/trials?{query}&limit=100" if query else "/v1/trials?limit=100"
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.text
        items += response.json()["items"]
        link = response.headers.get("link", "")
        nxt = [p for p in link.split(", ") if p.endswith('rel="next"')]
        url = nxt[0].split(">")[0].lstrip("<").removeprefix(ORIGIN) if nxt else None
    return items


def csv_rows(client: TestClient, query: str) -> list[dict[str, str]]:
    response = client.get(f"/v1/trials.csv?{query}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


# --- datasets --------------------------------------------------------------------------------


def test_datasets_are_attributed_and_counted(client: TestClient) -> None:
    body = client.get("/v1/datasets").json()
    assert [d["name"] for d in body] == [d.name for d in TRIALS.datasets]
    for d, record in zip(body, TRIALS.datasets, strict=True):
        assert (d["version"], d["doi"], d["licence"]) == (
            record.version,
            record.doi,
            record.licence,
        )
        assert d["last_search"] == record.last_search.isoformat()
        mine = [c for c in TRIALS.comparisons if c.dataset == record.name]
        assert d["comparisons"] == len(mine)
        assert d["studies"] == len({c.trial_key for c in mine})
        assert d["rows"] == record.rows


def test_meta_attributes_every_dataset(client: TestClient) -> None:
    meta = client.get("/v1/meta").json()
    assert [(d["name"], d["version"], d["doi"], d["licence"]) for d in meta["datasets"]] == [
        (d.name, d.version, d.doi, d.licence) for d in TRIALS.datasets
    ]
    assert meta["counts"]["trial_comparisons"] == len(TRIALS.comparisons)


# --- trials: filters, paging, representations --------------------------------------------------

FILTERS: list[tuple[str, Callable[[TrialComparison], bool]]] = [
    ("", lambda c: True),
    ("time=follow-up", lambda c: c.time == "follow-up"),
    ("modality=cbt", lambda c: c.modality == "cbt"),
    (
        "modality=ipt&condition=major-depression",
        lambda c: c.modality == "ipt" and under(c.condition, "major-depression"),
    ),
    ("modality=group", lambda c: "group" in c.also_counts_for),
    (
        "modality=online&comparator=waitlist",
        lambda c: "online" in c.also_counts_for and c.comparator == "waitlist",
    ),
    ("modality=dit", lambda c: False),
    ("family=psychodynamic", lambda c: c.family == "psychodynamic"),
    ("variant=prolonged-exposure", lambda c: c.variant == "prolonged-exposure"),
    ("variant=guided-icbt", lambda c: c.online_variant == "guided-icbt"),
    ("condition=eating-disorders", lambda c: under(c.condition, "eating-disorders")),
    ("condition=anorexia-nervosa", lambda c: c.condition == "anorexia-nervosa"),
    ("comparator=control", lambda c: c.comparator in CONTROL_COMPARATORS),
    ("comparator=usual-care", lambda c: c.comparator == "usual-care"),
    ("format=group", lambda c: c.delivery == "group"),
    ("population=older-adults", lambda c: c.population == "older-adults"),
    ("risk_of_bias=low", lambda c: c.low_risk_of_bias == "yes"),
    ("min_year=2015&max_year=2018", lambda c: c.year is not None and 2015 <= c.year <= 2018),
    ("dataset=ptsd-psyctr", lambda c: c.dataset == "ptsd-psyctr"),
]


@pytest.mark.parametrize(("query", "keep"), FILTERS, ids=[q or "none" for q, _ in FILTERS])
def test_each_filter_selects_its_rows(
    client: TestClient, query: str, keep: Callable[[TrialComparison], bool]
) -> None:
    time_given = "time=" in query
    expected = [tid(c) for c in TRIALS.comparisons if keep(c) and (time_given or c.time == "post")]
    assert [item["id"] for item in every_item(client, query)] == expected
    assert [r["id"] for r in csv_rows(client, query)] == expected
    ndjson = client.get(f"/v1/trials.ndjson?{query}")
    assert ndjson.headers["content-type"].startswith("application/x-ndjson")
    assert [json.loads(line)["id"] for line in ndjson.text.splitlines()] == expected


def test_the_filters_are_meant_to_select_something() -> None:
    """Every filter above but the DIT one selects rows: none of them passes by being empty."""
    for query, keep in FILTERS:
        if query != "modality=dit":
            assert any(keep(c) for c in TRIALS.comparisons), query


def test_paging_is_the_list_s(client: TestClient) -> None:
    body = client.get("/v1/trials?modality=cbt&limit=7&offset=14")
    page = body.json()
    expected = [tid(c) for c in POST if c.modality == "cbt"]
    assert page["total"] == len(expected)
    assert (page["limit"], page["offset"]) == (7, 14)
    assert [i["id"] for i in page["items"]] == expected[14:21]
    assert 'rel="next"' in body.headers["link"]
    assert 'rel="prev"' in body.headers["link"]


def test_a_row_keeps_the_source_beside_the_oriented_effect(client: TestClient) -> None:
    flipped = next(c for c in POST if c.sign == -1)
    item = client.get(f"/v1/trials/{tid(flipped)}").json()
    assert item["source_g"] == flipped.source_g
    assert item["g"] == -flipped.source_g
    assert item["sign"] == -1
    assert (item["therapy_code"], item["comparator_code"]) == (
        flipped.therapy_code,
        flipped.comparator_code,
    )
    assert item["risk_of_bias"] == flipped.risk_of_bias
    assert item["url"] == f"{ORIGIN}/v1/trials/{tid(flipped)}"


def test_a_trial_has_its_study_and_reference(client: TestClient) -> None:
    first = next(c for c in POST if c.reference)
    body = client.get(f"/v1/trials/{tid(first)}").json()
    study = body["study_detail"]
    assert study["id"] == f"{first.dataset}/{first.trial_key}"
    assert study["reference"] == first.reference
    assert study["dataset"]["name"] == first.dataset
    same = [
        tid(c)
        for c in TRIALS.comparisons
        if (c.dataset, c.trial_key) == (first.dataset, first.trial_key)
    ]
    assert study["comparisons"] == same


@pytest.mark.parametrize(
    ("url", "status", "parameter", "suggestion"),
    [
        ("/v1/trials?modality=cbtt", 404, None, "cbt"),
        ("/v1/pooled?dataset=ptsd-psyctrr", 404, None, "ptsd-psyctr"),
        ("/v1/trials?comparator=waitlst", 422, "comparator", "waitlist"),
        ("/v1/trials.csv?variant=prolonged-exposur", 422, "variant", "prolonged-exposure"),
        ("/v1/trials/depression-psyctr-99999", 404, None, None),
        ("/v1/pooled?condition=major-depresion", 404, None, "major-depression"),
        ("/v1/pooled?method=fe", 422, "method", None),
        ("/v1/trials?min_year=2020&max_year=2010", 422, "min_year", None),
        ("/v1/trials?family=cbtt", 422, "family", None),
        ("/v1/trials?modalty=cbt", 422, "modalty", None),
    ],
)
def test_bad_filters_are_problems_naming_what_to_fix(
    client: TestClient, url: str, status: int, parameter: str | None, suggestion: str | None
) -> None:
    response = client.get(url)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    if parameter is not None:
        assert parameter in body["detail"]
    if suggestion is not None:
        assert suggestion in body["detail"]


# --- pooled ----------------------------------------------------------------------------------


def test_nothing_selected_is_a_figure_of_nulls(client: TestClient) -> None:
    body = client.get("/v1/pooled?modality=dit").json()
    assert body["k_studies"] == 0
    assert body["k_comparisons"] == 0
    assert body["estimate"] is None
    assert body["ci_low"] is None
    assert body["tau2"] is None
    assert body["pooled"] is False
    assert body["studies"] == []


def test_one_study_is_its_own_figure(client: TestClient) -> None:
    # A dataset and year with one study, whose rows share one comparator class.
    groups: dict[tuple[str, int], list[TrialComparison]] = {}
    for c in POST:
        if c.year is not None:
            groups.setdefault((c.dataset, c.year), []).append(c)
    (dataset, year), rows = next(
        (key, rows)
        for key, rows in sorted(groups.items())
        if len({c.trial_key for c in rows}) == 1 and len({c.comparator for c in rows}) == 1
    )
    body = client.get(f"/v1/pooled?dataset={dataset}&min_year={year}&max_year={year}").json()
    solo = meta_analysis([EffectRow("one", c.g, c.se, c.comparator) for c in rows])
    assert solo is not None
    assert body["k_studies"] == 1
    assert body["pooled"] is False
    assert body["tau2"] is None
    assert body["pi_low"] is None
    assert "nothing is pooled" in body["note"]
    assert math.isclose(body["estimate"], solo.estimate, abs_tol=1e-12)
    assert math.isclose(body["ci_low"], solo.ci.lower, abs_tol=1e-12)


def test_pooled_is_the_analysis_of_its_own_csv(client: TestClient) -> None:
    query = "family=cbt&condition=social-anxiety-disorder&comparator=control"
    body = client.get(f"/v1/pooled?{query}&method=pm").json()
    rows = csv_rows(client, query)
    expected = meta_analysis(
        [EffectRow(r["study"], float(r["g"]), float(r["se"]), r["comparator"]) for r in rows],
        "PM",
    )
    assert expected is not None
    assert body["k_comparisons"] == len(rows)
    assert math.isclose(body["estimate"], expected.estimate, abs_tol=1e-12)
    assert math.isclose(body["tau2"], expected.tau2 or 0.0, abs_tol=1e-12)
    assert sum(s["weight"] for s in body["studies"]) == pytest.approx(100)
    assert sorted(t for s in body["studies"] for t in s["trials"]) == sorted(r["id"] for r in rows)
    assert body["direction"] == "positive favours the therapy"
    link = urlsplit(body["trials_csv"]["url"])
    assert link.path == "/v1/trials.csv"
    assert dict(parse_qsl(link.query)) == dict(parse_qsl(query))
    named = {d["name"] for d in body["datasets"]}
    assert named == {r["dataset"] for r in rows}


def test_different_comparator_classes_in_one_study_stay_apart(client: TestClient) -> None:
    by_study: dict[tuple[str, str], set[str]] = {}
    for c in POST:
        if Comparator(c.comparator) in CONTROL_COMPARATORS and c.modality == "cbt":
            by_study.setdefault((c.dataset, c.trial_key), set()).add(c.comparator)
    dataset, trial = next(k for k, v in by_study.items() if len(v) > 1)
    body = client.get(f"/v1/pooled?modality=cbt&comparator=control&dataset={dataset}").json()
    mine = [s for s in body["studies"] if s["study"] == f"{dataset}/{trial}"]
    assert len(mine) == len(by_study[(dataset, trial)]) > 1
    assert body["k_effects"] > body["k_studies"]


# --- against R's metafor -----------------------------------------------------------------------


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


FIXTURE_ROWS = _read(FIXTURES / "rows.csv")
EXPECTED = _read(FIXTURES / "expected.csv")
SUBSETS = dict(
    line.split(": ", 1)
    for line in (FIXTURES / "filter_sets.txt").read_text().splitlines()
    if line and not line.startswith("#")
)


def test_the_fixtures_hold_the_largest_cell_and_three_sets() -> None:
    assert len(SUBSETS) >= 3
    assert SUBSETS["cbt_major_depression_control"] == (
        "modality=cbt&condition=major-depression&comparator=control"
    )
    assert {e["subset"] for e in EXPECTED} == set(SUBSETS)


@pytest.mark.parametrize("subset", sorted(SUBSETS))
def test_pooled_matches_metafor_on_the_csv_rows(client: TestClient, subset: str) -> None:
    query = SUBSETS[subset]
    committed = [r for r in FIXTURE_ROWS if r["subset"] == subset]
    served = csv_rows(client, query)
    # The rows R pooled are the rows the API hands out, to the last digit.
    assert [(r["study"], r["comparator"], float(r["g"]), float(r["se"])) for r in served] == [
        (r["study"], r["comparator"], float(r["g"]), float(r["se"])) for r in committed
    ]
    for method in ("REML", "PM"):
        reference = next(e for e in EXPECTED if e["subset"] == subset and e["method"] == method)
        body = client.get(f"/v1/pooled?{query}&method={method.lower()}").json()
        assert body["k_effects"] == int(reference["k"])
        assert body["k_comparisons"] == int(reference["comparisons"])
        pairs = {
            "estimate": "estimate",
            "ci_low": "ci_lb",
            "ci_high": "ci_ub",
            "tau2": "tau2",
            "i2": "i2",
            "q": "q",
            "pi_low": "pi_lb",
            "pi_high": "pi_ub",
            "egger_p": "egger_p",
        }
        for ours, theirs in pairs.items():
            expected = None if reference[theirs] == "NA" else float(reference[theirs])
            actual = body[ours]
            if expected is None:
                assert actual is None, (subset, method, ours)
            else:
                assert math.isclose(actual, expected, rel_tol=0, abs_tol=TOLERANCE), (
                    subset,
                    method,
                    ours,
                    actual,
                    expected,
                )


def test_metafor_writes_the_committed_figures_from_the_api_rows(
    client: TestClient, tmp_path: Path
) -> None:
    """Where R and metafor are installed (CI installs them): pool.R on the rows the API serves
    now writes the committed figures."""
    require_metafor()
    rows = tmp_path / "rows.csv"
    with rows.open("w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["subset", "dataset", "study", "comparator", "cluster", "g", "se", "n"])
        for subset, query in SUBSETS.items():
            for r in csv_rows(client, query):
                cluster = f"{r['study']}|{r['comparator']}"
                writer.writerow(
                    [
                        subset,
                        r["dataset"],
                        r["study"],
                        r["comparator"],
                        cluster,
                        r["g"],
                        r["se"],
                        "NA",
                    ]
                )
    run = subprocess.run(
        ["Rscript", str(FIXTURES.parent / "pool.R"), str(rows), str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    fresh = _read(tmp_path / "expected.csv")
    assert len(fresh) == len(EXPECTED)
    for old, new in zip(EXPECTED, fresh, strict=True):
        for column, value in old.items():
            if value in ("NA", "REML", "PM") or column == "subset":
                assert new[column] == value
            else:
                assert math.isclose(float(new[column]), float(value), abs_tol=1e-9), column


# --- indications ---------------------------------------------------------------------------


def test_indications_carry_pooled_figures_that_their_url_reproduces(client: TestClient) -> None:
    detail = client.get("/v1/modalities/ipt").json()
    depression = next(
        i
        for i in detail["indications"]
        if (i["condition"], i["population"])
        == (
            "major-depression",
            "adults",
        )
    )
    figures = depression["pooled"]
    assert figures
    assert figures[0]["comparator"] == "control"
    for figure in figures:
        url = figure["url"].removeprefix(ORIGIN)
        params = dict(parse_qsl(urlsplit(url).query))
        assert params["modality"] == "ipt"
        assert params["population"] == "adults"
        body = client.get(url).json()
        assert body["k_studies"] == figure["k_studies"]
        assert body["estimate"] == figure["estimate"]
        assert body["ci_low"] == figure["ci_low"]
        assert [d["name"] for d in body["datasets"]] == figure["datasets"]
    listed = client.get("/v1/indications?modality=ipt&condition=major-depression&population=adults")
    assert listed.json()["items"][0]["pooled"] == figures
    condition = client.get("/v1/conditions/major-depression").json()
    mine = [
        x
        for x in condition["modalities"]
        if (x["modality"], x["condition"], x["population"]) == ("ipt", "major-depression", "adults")
    ]
    assert mine
    assert mine[0]["pooled"] == figures


def test_a_comparator_class_figure_is_given_only_where_the_data_has_it(
    client: TestClient,
) -> None:
    for item in every_page(client, "/v1/indications?limit=100"):
        classes = [f["comparator"] for f in item["pooled"]]
        assert classes == sorted(set(classes), key=lambda c: (c != "control", c))
        for figure in item["pooled"]:
            assert figure["k_studies"] >= 1


def every_page(client: TestClient, url: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    offset = 0
    while True:
        body = client.get(f"{url}&offset={offset}").json()
        items += body["items"]
        offset += body["limit"]
        if offset >= body["total"]:
            return items


# --- exports ---------------------------------------------------------------------------------


def test_the_exports_hold_the_trial_tables(client: TestClient) -> None:
    archive = zipfile.ZipFile(io.BytesIO(client.get("/v1/export.zip").content))
    with archive.open("trial_comparisons.csv") as f:
        rows = list(csv.DictReader(io.TextIOWrapper(f, encoding="utf-8")))
    assert [r["id"] for r in rows] == [tid(c) for c in TRIALS.comparisons]
    with archive.open("trial_studies.csv") as f:
        studies = {r["id"] for r in csv.DictReader(io.TextIOWrapper(f, encoding="utf-8"))}
    assert {r["study"] for r in rows} == studies
    with archive.open("trial_datasets.csv") as f:
        names = [r["name"] for r in csv.DictReader(io.TextIOWrapper(f, encoding="utf-8"))]
    assert names == [d.name for d in TRIALS.datasets]
    whole = client.get("/v1/export.json").json()
    assert len(whole["trial_comparisons"]) == len(TRIALS.comparisons)
    assert [d["name"] for d in whole["release"]["datasets"]] == names
    lines = client.get("/v1/export.ndjson").text.splitlines()
    kinds = [json.loads(line)["type"] for line in lines]
    assert kinds.count("trial_comparison") == len(TRIALS.comparisons)
    assert kinds.count("trial_dataset") == len(TRIALS.datasets)


@pytest.mark.parametrize(
    ("url", "media_type"),
    [
        ("/v1/trials/depression-psyctr-1", "application/json"),
        ("/v1/trials.csv?modality=ipt", "text/csv"),
        ("/v1/pooled?modality=ipt", "application/json"),
    ],
)
def test_the_accept_rule_holds_for_trial_operations(
    client: TestClient, url: str, media_type: str
) -> None:
    """What tests/test_media_types.py asks of every operation, here where there are trials."""
    assert client.get(url, headers={"Accept": media_type}).status_code == 200
    refused = client.get(url, headers={"Accept": "application/x-unknown"})
    assert refused.status_code == 406
    assert refused.json()["available"] == [media_type]
    assert "accept" not in client.get(url).headers.get("vary", "").lower()


def test_every_indication_s_trial_basis_is_the_content_test_s_and_its_urls_give_it(
    client: TestClient,
) -> None:
    """The API's ``trial_basis`` is what the content tests grade by (computed there from the
    seed's own records), and its two ``/v1/pooled`` URLs give the figure and the
    low-risk-of-bias figure in full."""
    from tests.test_content_grades import grade_every

    expected = {g.id: g for g in grade_every(SEED)}
    versions = {d.name: d.version for d in TRIALS.datasets}
    seen = 0
    for item in every_page(client, "/v1/indications?limit=100"):
        mine = expected[item["id"]]
        basis = item["trial_basis"]
        if mine.basis is None:
            assert basis is None, item["id"]
            continue
        seen += 1
        b = mine.basis
        assert basis["comparator_set"] == b.comparator_set.value
        assert basis["comparators"] == list(b.comparators)
        assert basis["decides"] is b.decides
        assert basis["population_stated"] is b.population_stated
        assert basis["k_studies"] == b.figure.k_studies
        assert math.isclose(basis["estimate"], b.figure.estimate, abs_tol=1e-12)
        assert basis["low_risk_of_bias"]["check"] == b.low_rob_check.value
        assert [(d["name"], d["version"]) for d in basis["datasets"]] == [
            (n, versions[n]) for n in b.datasets
        ]
        url = basis["url"].removeprefix(ORIGIN)
        assert url == mine.query
        pooled = client.get(url).json()
        assert pooled["k_studies"] == basis["k_studies"]
        assert pooled["estimate"] == basis["estimate"]
        assert (pooled["ci_low"], pooled["ci_high"]) == (basis["ci_low"], basis["ci_high"])
        assert pooled["egger_p"] == basis["egger_p"]
        low = client.get(basis["low_risk_of_bias"]["url"].removeprefix(ORIGIN)).json()
        assert low["k_studies"] == basis["low_risk_of_bias"]["k_studies"]
        assert low["estimate"] == basis["low_risk_of_bias"]["estimate"]
    assert seen >= 20
