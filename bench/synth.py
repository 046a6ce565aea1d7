"""A synthetic seed directory N times the size of the real one, for the scale benchmark.

    python -m bench.synth --scale N --out DIR [--source seed]

Copy 0 is the real seed unchanged (so ``/v1/modalities/ipt`` and friends still exist); copies
1..N-1 clone every citation, condition and modality with a suffix: ``ipt-s0042``,
``cuijpers2011-s0042``, ``major-depression-s0042``. Inside copy *i* every reference (a claim's
citation keys, an indication's condition, a condition's parent) points at the clones of copy *i*,
so the result passes ``therapy-kb check``. Names get the suffix too (``Interpersonal
psychotherapy [s0042]``), so search can tell the copies apart.

ICD codes are unique per (system, code) across the knowledge base, so clones get made-up but
well-formed codes (``app.seeding.format.CODE_PATTERNS``) from ranges the real seed does not use:
ICD-10-CM ``U`` codes with a four-character extension (``U00.0001``), ICD-11 ``XA``.. codes
with an extension (``XA00.001``).
"""

from __future__ import annotations

import argparse
import copy
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bench.harness import REAL_SEED

B36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
try:
    _Dumper: Any = yaml.CSafeDumper
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # PyYAML without libyaml
    _Dumper, _Loader = yaml.SafeDumper, yaml.SafeLoader


def _b36(n: int, width: int) -> str:
    out = ""
    for _ in range(width):
        n, r = divmod(n, 36)
        out = B36[r] + out
    if n:
        raise ValueError("number too large for the code space")
    return out


def fake_code(system: str, n: int) -> str:
    """The n-th made-up code of ``system``; distinct n give distinct codes."""
    if system == "icd-10-cm":
        # U + digit + [0-9A-Z] + "." + 4 base-36 characters: 10 * 36 * 36**4 codes.
        head, tail = divmod(n, 36**4)
        digit, letter = divmod(head, 36)
        return f"U{B36[digit % 10]}{B36[letter]}.{_b36(tail, 4)}" if digit < 10 else _overflow()
    if system == "icd-11":
        # X + [A-Z] + 2 base-36 characters + "." + 3 base-36 characters.
        head, tail = divmod(n, 36**3)
        letter, rest = divmod(head, 36**2)
        if letter >= 26:
            return _overflow()
        return f"X{B36[10 + letter]}{_b36(rest, 2)}.{_b36(tail, 3)}"
    raise ValueError(f"unknown code system {system!r}")


def _overflow() -> str:
    raise ValueError("too many synthetic codes")


@dataclass
class Stats:
    scale: int
    modalities: int = 0
    conditions: int = 0
    citations: int = 0
    claims: int = 0
    citation_links: int = 0
    codes: int = 0
    bytes: int = 0

    def line(self) -> str:
        return (
            f"scale {self.scale}: {self.modalities} modalities, {self.conditions} conditions, "
            f"{self.citations} citations, {self.claims} claims, {self.citation_links} claim "
            f"citations, {self.codes} codes, {self.bytes / 1e6:.1f} MB of YAML"
        )


CLAIM_PARTS = ("indications", "pros", "cons", "formats", "components")


def _load(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 (safe loader)


def _dump(data: Any, path: Path) -> int:
    text = yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=False,
    )
    path.write_text(text, encoding="utf-8")
    return len(text.encode())


def synthesize(out: Path, scale: int, source: Path = REAL_SEED, force: bool = False) -> Stats:
    """Write a seed directory ``scale`` times the size of ``source`` to ``out``."""
    if scale < 1:
        raise ValueError("--scale must be at least 1")
    if scale > 10_000:
        raise ValueError("--scale is at most 10000 (suffixes have four digits)")
    if out.exists():
        if not force and any(out.iterdir()) and not (out / "release.yaml").is_file():
            raise FileExistsError(f"{out} exists and is not a seed directory; refusing to replace")
        shutil.rmtree(out)
    (out / "modalities").mkdir(parents=True)

    release = _load(source / "release.yaml")
    citations = _load(source / "citations.yaml")["citations"]
    conditions = _load(source / "conditions.yaml")["conditions"]
    modality_paths = sorted(
        [*(source / "modalities").glob("*.yaml"), *(source / "modalities").glob("*.yml")]
    )
    modalities = [_load(p) for p in modality_paths]

    stats = Stats(scale)
    counters = {"icd-10-cm": 0, "icd-11": 0}

    def sfx(i: int) -> str:
        return "" if i == 0 else f"-s{i:04d}"

    def tag(i: int) -> str:
        return "" if i == 0 else f" [s{i:04d}]"

    all_citations: list[dict[str, Any]] = []
    all_conditions: list[dict[str, Any]] = []
    for i in range(scale):
        for c in citations:
            clone = copy.deepcopy(c)
            clone["key"] = c["key"] + sfx(i)
            clone["title"] = c["title"] + tag(i)
            all_citations.append(clone)
        for c in conditions:
            clone = copy.deepcopy(c)
            clone["slug"] = c["slug"] + sfx(i)
            clone["name"] = c["name"] + tag(i)
            if c.get("parent"):
                clone["parent"] = c["parent"] + sfx(i)
            if i > 0 and c.get("codes"):
                codes = []
                for code in c["codes"]:
                    system = code["system"]
                    codes.append({**code, "code": fake_code(system, counters[system])})
                    counters[system] += 1
                clone["codes"] = codes
            if i > 0:
                # A branch of a classification leads to one condition, and a lay term names
                # one: the clones keep neither's original.
                clone.pop("code_branches", None)
                if c.get("lay_terms"):
                    clone["lay_terms"] = [term + tag(i) for term in c["lay_terms"]]
            stats.codes += len(clone.get("codes") or [])
            all_conditions.append(clone)
    stats.citations, stats.conditions = len(all_citations), len(all_conditions)

    release = dict(release)
    if scale > 1:
        release["description"] = (
            f"SYNTHETIC: the real seed cloned {scale} times by bench/synth.py, for benchmarks. "
            + str(release.get("description", "")).strip()
        )
    stats.bytes += _dump(release, out / "release.yaml")
    stats.bytes += _dump({"citations": all_citations}, out / "citations.yaml")
    stats.bytes += _dump({"conditions": all_conditions}, out / "conditions.yaml")

    for i in range(scale):
        for x in modalities:
            clone = copy.deepcopy(x)
            clone["slug"] = x["slug"] + sfx(i)
            clone["name"] = x["name"] + tag(i)
            clone["citations"] = [k + sfx(i) for k in x.get("citations", [])]
            for part in CLAIM_PARTS:
                for claim in clone.get(part) or []:
                    claim["citations"] = [k + sfx(i) for k in claim.get("citations", [])]
                    stats.citation_links += len(claim["citations"])
                    stats.claims += 1
                    if part == "indications":
                        claim["condition"] = claim["condition"] + sfx(i)
                        for item in [
                            *claim.get("guidelines", []),
                            *claim.get("effects", []),
                            *claim.get("acceptability", []),
                            *claim.get("harms", []),
                            *claim.get("certainty", []),
                        ]:
                            item["citation"] = item["citation"] + sfx(i)
            if i > 0:
                _drop_variants(clone)
            stats.citation_links += len(clone["citations"])
            stats.bytes += _dump(clone, out / "modalities" / f"{clone['slug']}.yaml")
            stats.modalities += 1
    return stats


def _drop_variants(modality: dict[str, Any]) -> None:
    """A clone is a modality of its own, with no variant vocabulary: its indications and formats
    lose their variant, and where that makes two alike, the first is kept and cites the works
    the others cited (so that every work stays cited)."""
    keys = {"indications": ("condition", "population"), "formats": ("delivery",)}
    for part, key in keys.items():
        kept: dict[tuple[Any, ...], dict[str, Any]] = {}
        for claim in modality.get(part) or []:
            claim.pop("variant", None)
            k = tuple(claim.get(f) for f in key)
            if k in kept:
                first = kept[k]
                first["citations"] += [c for c in claim["citations"] if c not in first["citations"]]
            else:
                kept[k] = claim
        if part in modality:
            modality[part] = list(kept.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.synth", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--scale", type=int, required=True, help="N: how many copies of the seed.")
    parser.add_argument("--out", type=Path, required=True, help="Directory to write (replaced).")
    parser.add_argument("--source", type=Path, default=REAL_SEED, help="Seed to clone (./seed).")
    parser.add_argument(
        "--force", action="store_true", help="Replace --out even if it is not a seed directory."
    )
    args = parser.parse_args(argv)
    try:
        stats = synthesize(args.out, args.scale, args.source, args.force)
    except (ValueError, FileExistsError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    sys.stdout.write(f"wrote {args.out}: {stats.line()}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
