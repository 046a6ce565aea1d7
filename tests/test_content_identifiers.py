"""Identifiers the published records show stay in the seed.

Each DOI, PMID and PMCID below was checked against the work's own record (publisher, doi.org,
PubMed or PMC) and is kept in ``seed/citations.yaml`` with that record's address. An identifier
that disappears or changes without this table changing too fails, so losing one, or replacing it
with a different one, is a reviewed decision rather than an accident of editing. Adding an
identifier to a citation is free; add it here as well once it is checked.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.seeding import read_seed_dir
from app.seeding.format import SeedSet

SEED_DIR = Path(__file__).resolve().parents[1] / "seed"

# key -> identifiers checked on the work's record (release 2.1.0, with the coverage additions).
CHECKED_IDENTIFIERS: dict[str, dict[str, str]] = {
    "aasm2021": {"doi": "10.5664/jcsm.8986", "pmid": "33164742", "pmcid": "PMC7853203"},
    "agras2000": {"doi": "10.1001/archpsyc.57.5.459", "pmid": "10807486"},
    "andersson2009": {"doi": "10.1080/16506070903318960"},
    "andersson2014a": {"doi": "10.1002/wps.20083", "pmid": "24497236", "pmcid": "PMC3918007"},
    "andersson2019": {"doi": "10.1177/0706743719839381", "pmid": "31096757", "pmcid": "PMC6610559"},
    "andrews2018": {"doi": "10.1016/j.janxdis.2018.01.001", "pmid": "29422409"},
    "barkowski2016": {"doi": "10.1016/j.janxdis.2016.02.005", "pmid": "26953823"},
    "bateman2009": {"doi": "10.1176/appi.ajp.2009.09040539"},
    "bighelli2018": {"doi": "10.1002/wps.20577"},
    "bohus2020": {
        "doi": "10.1001/jamapsychiatry.2020.2148",
        "pmid": "32697288",
        "pmcid": "PMC7376475",
    },
    "bolton2003": {"doi": "10.1001/jama.289.23.3117"},
    "bryant2014": {"doi": "10.1001/jamapsychiatry.2014.1600", "pmid": "25338187"},
    "carpenter2018": {"doi": "10.1002/da.22728", "pmid": "29451967", "pmcid": "PMC5992015"},
    "claridge2014": {"doi": "10.1007/s00737-013-0391-6"},
    "cooper2015": {"doi": "10.1016/j.cpr.2015.05.001"},
    "cuijpers2010": {"doi": "10.1016/j.cpr.2009.09.003", "pmid": "19781837"},
    "cuijpers2011": {
        "doi": "10.1176/appi.ajp.2010.10101411",
        "pmid": "21362740",
        "pmcid": "PMC3646065",
    },
    "cuijpers2013": {"doi": "10.1177/070674371305800702", "pmid": "23870719"},
    "cuijpers2014": {"doi": "10.1016/j.cpr.2014.01.002"},
    "cuijpers2014b": {
        "doi": "10.1016/j.maturitas.2014.05.027",
        "pmid": "24973043",
        "pmcid": "PMC4537161",
    },
    "cuijpers2016": {"doi": "10.1176/appi.ajp.2015.15091141", "pmid": "27032627"},
    "cuijpers2019": {
        "doi": "10.1001/jamapsychiatry.2019.0268",
        "pmid": "30994877",
        "pmcid": "PMC6583673",
    },
    "cuijpers2023": {"doi": "10.1002/wps.21069"},
    "cusack2016": {"doi": "10.1016/j.cpr.2015.10.003"},
    "davis2009": {"doi": "10.1016/j.cbpra.2008.12.008", "pmid": "20161063", "pmcid": "PMC2747757"},
    "dityoungadults2019": {"doi": "10.1080/02668734.2019.1641834"},
    "ebert2015": {
        "doi": "10.1371/journal.pone.0119895",
        "pmid": "25786025",
        "pmcid": "PMC4364968",
    },
    "enander2014": {"pmcid": "PMC4179584"},
    "ebert2016": {
        "doi": "10.1017/S0033291716001562",
        "pmid": "27649340",
        "pmcid": "PMC5560500",
    },
    "enander2016": {"doi": "10.1136/bmj.i241"},
    "fairburn2009": {"doi": "10.1176/appi.ajp.2008.08040608"},
    "fairburn1993": {"doi": "10.1001/archpsyc.1993.01820180009001", "pmid": "8498876"},
    "feldman2023": {"doi": "10.1176/appi.psychotherapy.20220007"},
    "fernandez2015": {"doi": "10.1037/ccp0000044", "pmid": "26302248"},
    "fonagy2020": {"doi": "10.1017/S0033291719000928"},
    "gersh2017": {"doi": "10.1016/j.janxdis.2017.10.001"},
    "ghaderi2018": {"doi": "10.7717/peerj.5113"},
    "gilmore2019": {"doi": "10.1177/1357633X17735559", "pmid": "28990454", "pmcid": "PMC5940577"},
    "gould2012": {"doi": "10.1111/j.1532-5415.2011.03824.x", "pmid": "22283717"},
    "grenon2017": {"doi": "10.1002/eat.22744", "pmid": "28771758"},
    "harrington1998": {"doi": "10.1136/bmj.316.7144.1559", "pmid": "9596592", "pmcid": "PMC28555"},
    "hay2009": {"doi": "10.1002/14651858.CD000562.pub3"},
    "hendriks2024": {"doi": "10.1002/14651858.CD007674.pub3"},
    "herbert2004": {"doi": "10.1017/S1352465804001171"},
    "hofmann2008": {"doi": "10.4088/jcp.v69n0415", "pmid": "18363421", "pmcid": "PMC2409267"},
    "hofmann2012": {"doi": "10.1007/s10608-012-9476-1", "pmid": "23459093", "pmcid": "PMC3584580"},
    "hollon2010": {"doi": "10.1002/da.20741", "pmcid": "PMC2948609"},
    "hoppen2021": {"doi": "10.1186/s12888-021-03272-5"},
    "huang2018": {"doi": "10.1371/journal.pone.0205243", "pmid": "30321198", "pmcid": "PMC6188757"},
    "huntley2012": {"doi": "10.1192/bjp.bp.111.092049"},
    "icbtpanic2021": {"doi": "10.1016/j.invent.2021.100364", "pmid": "33643852"},
    "james2020": {"doi": "10.1002/14651858.CD013162.pub2"},
    "jauhar2014": {"doi": "10.1192/bjp.bp.112.116285"},
    "kaczkurkin2015": {
        "doi": "10.31887/DCNS.2015.17.3/akaczkurkin",
        "pmid": "26487814",
        "pmcid": "PMC4610618",
    },
    "karyotaki2021": {"doi": "10.1001/jamapsychiatry.2020.4364", "pmcid": "PMC8027916"},
    "kienast2014": {"doi": "10.3238/arztebl.2014.0280", "pmid": "24791755", "pmcid": "PMC4010862"},
    "koffel2015": {"doi": "10.1016/j.smrv.2014.05.001", "pmid": "24931811"},
    "kothgassner2021": {
        "doi": "10.1017/S0033291721001355",
        "pmid": "33875025",
        "pmcid": "PMC8188531",
    },
    "lemma2010": {"doi": "10.1080/02668734.2010.513547"},
    "lemma2011": {"doi": "10.1093/acprof:oso/9780199602452.001.0001"},
    "lewis2018": {
        "doi": "10.1002/14651858.CD011710.pub2",
        "pmid": "30550643",
        "pmcid": "PMC6516951",
    },
    "lewis2020": {"doi": "10.1080/20008198.2020.1729633"},
    "lewis2020dropout": {"doi": "10.1080/20008198.2019.1709709"},
    "linardon2018": {"doi": "10.1002/eat.22850", "pmid": "29493805"},
    "linehan1991": {"doi": "10.1001/archpsyc.1991.01810360024003", "pmid": "1845222"},
    "linehan2006": {"doi": "10.1001/archpsyc.63.7.757", "pmid": "16818865"},
    "linehan2015trial": {"doi": "10.1001/jamapsychiatry.2014.3039"},
    "lipsitz2013": {"doi": "10.1016/j.cpr.2013.09.002", "pmid": "24100081", "pmcid": "PMC4109031"},
    "luo2020": {"doi": "10.1016/j.eclinm.2020.100442", "pmid": "32775969", "pmcid": "PMC7393662"},
    "magill2009": {"pmcid": "PMC2696292"},
    "markowitz2012": {"doi": "10.1002/cpp.1774", "pmid": "22331561", "pmcid": "PMC3427027"},
    "markowitz2015": {"doi": "10.1176/appi.ajp.2014.14070908"},
    "mavranezouli2020": {"doi": "10.1017/S0033291720000070"},
    "mayowilson2014": {"doi": "10.1016/S2215-0366(14)70329-3"},
    "mccauley2018": {
        "doi": "10.1001/jamapsychiatry.2018.1109",
        "pmid": "29926087",
        "pmcid": "PMC6584278",
    },
    "mcmain2009": {"doi": "10.1176/appi.ajp.2009.09010039"},
    "mehlum2014": {"doi": "10.1016/j.jaac.2014.07.003", "pmid": "25245352"},
    "moghimi2021": {"doi": "10.2196/17874", "pmid": "34283028", "pmcid": "PMC8335602"},
    "nielssen2015": {"doi": "10.1186/s12888-015-0676-6"},
    "ost2015": {"doi": "10.1016/j.cpr.2015.06.003"},
    "pescatello2020": {"doi": "10.1080/10503307.2020.1822559"},
    "meiserstedman2016": {
        "doi": "10.1111/jcpp.12673",
        "pmid": "27976374",
        "pmcid": "PMC5362068",
    },
    "phobiameta2008": {"doi": "10.1016/j.cpr.2008.02.007", "pmid": "18410984"},
    "phobiayouth2001": {"pmid": "11680558"},
    "pots2004": {"doi": "10.1001/jama.292.16.1969", "pmid": "15507582"},
    "ravitz2014": {"doi": "10.1176/appi.focus.12.3.275"},
    "reynolds1999": {"doi": "10.1001/jama.281.1.39"},
    "ruwaard": {"doi": "10.1371/journal.pone.0040089"},
    "safer2001": {"doi": "10.1176/appi.ajp.158.4.632", "pmid": "11282700"},
    "safer2010": {"pmcid": "PMC3170852"},
    "sanchezmeca2010": {"doi": "10.1016/j.cpr.2009.08.011", "pmid": "19775792"},
    "schwartze2019": {"doi": "10.1080/10503307.2017.1405168"},
    "seyffert2016": {"doi": "10.1371/journal.pone.0149139"},
    "shear2005": {"doi": "10.1001/jama.293.21.2601", "pmcid": "PMC5953417"},
    "shear2014": {
        "doi": "10.1001/jamapsychiatry.2014.1242",
        "pmid": "25250737",
        "pmcid": "PMC5705174",
    },
    "skapinakis2016": {"doi": "10.1016/S2215-0366(16)30069-4"},
    "storebo2020": {"doi": "10.1002/14651858.CD012955.pub2"},
    "titov2015": {"doi": "10.1016/j.beth.2014.09.008"},
    "trauer2015": {"doi": "10.7326/M14-2841", "pmid": "26054060"},
    "wang2023": {"doi": "10.1017/S0033291723000788", "pmid": "37016788"},
    "weersing2017": {"doi": "10.1080/15374416.2016.1220310"},
    "weissman2020": {"doi": "10.1176/appi.psychotherapy.20190032", "pmid": "31752510"},
    "wersebe2013": {
        "doi": "10.1371/journal.pone.0079034",
        "pmid": "24260148",
        "pmcid": "PMC3829844",
    },
    "wilberg2023": {"doi": "10.3389/fpsyt.2023.1181686"},
    "xiang2021": {"doi": "10.1136/ebmental-2021-300346"},
    "zhang2018": {"doi": "10.1186/s12888-018-1610-5", "pmid": "29475431"},
    "zheng2023": {"doi": "10.3389/fpsyt.2023.1147864"},
}


@pytest.fixture(scope="module")
def seed() -> SeedSet:
    return read_seed_dir(SEED_DIR)


def test_checked_identifiers_stay(seed: SeedSet) -> None:
    by_key = {c.key: c for c in seed.citations}
    missing = sorted(set(CHECKED_IDENTIFIERS) - set(by_key))
    assert not missing, f"citations with checked identifiers are gone: {missing}"
    for key, fields in CHECKED_IDENTIFIERS.items():
        for field, value in fields.items():
            found = getattr(by_key[key], field)
            assert found is not None, f"{key}: its checked {field} {value} was dropped"
            assert str(found).lower() == value.lower(), f"{key}: {field} {found}, checked {value}"


def test_every_identifier_in_the_seed_is_in_the_table(seed: SeedSet) -> None:
    """A new identifier is added to the table in the same change, so it is held from then on."""
    for c in seed.citations:
        for field in ("doi", "pmid", "pmcid"):
            value = getattr(c, field)
            if value is not None:
                assert CHECKED_IDENTIFIERS.get(c.key, {}).get(field) == str(value), (
                    f"{c.key}: {field} {value} is not in CHECKED_IDENTIFIERS"
                )
