"""`make bench-registry`: qujat on registries of 10,000, 100,000 and 1,000,000 records.

    python3 bench/registry.py     # from anywhere; paths are relative to the repository root

Environment: SIZES (media records in the end, comma-separated, default 10000,100000,1000000),
QUJAT (target/release/qujat), FILL (target/release/examples/fill_registry),
OUT (target/bench-registry), COLD (1: also measure with the page cache dropped, which needs
root; default 1), STORE (a registry place other than a folder, e.g. postgres://…; default: a
folder in the work folder).

For each size it issues the sample cases into a fresh registry, grows the media registry to that
many records with synthetic copies of its last document (fill_registry, through the writer as a
batch appends), and measures, three times each, wall time, CPU time and peak RSS of:

- the sample batch again (108 cases, every one registered already): what a nightly batch costs
  when nothing is new, warm and cold page cache;
- a batch of 100 new cases (`qujat generate-cases`, a new set each time), warm and cold;
- `verify` of an issued PDF, `verify --payload` of its QR code, `regenerate` of a real record;
- `registry check` and `export` of the whole registry (warm).

The report goes to stdout, OUT/results.md and OUT/results.json, with the targets of issue 14
judged on the median at the largest size. Exit code 0 even when a target fails, 1 when a step
breaks.
"""

import json
import os
import subprocess
from pathlib import Path

from measure import (StepFailed, best_and_median, check, checks_table, env_path, facts_list,
                     fresh_dir, last_json_line, machine_facts, main_guard, markdown_table,
                     program_facts, progress, run, write_results)

ROOT = Path(__file__).resolve().parent.parent
TODAY = "2026-11-25"
# The first media certificate of the sample cases (superseded by a later re-registration, so
# `verify` says genuine but not in force: exit 3).
REAL_NUMBER = "00001-Г"
TIMES = 3


def settings():
    """The run's settings from the environment."""
    sizes = os.environ.get("SIZES") or "10000,100000,1000000"
    try:
        sizes = sorted(int(s) for s in sizes.split(",") if s.strip())
    except ValueError:
        raise StepFailed(f"SIZES={sizes!r} is not a list of numbers") from None
    return {
        "sizes": sizes,
        "qujat": env_path("QUJAT", "target/release/qujat"),
        "fill": env_path("FILL", "target/release/examples/fill_registry"),
        "out": env_path("OUT", "target/bench-registry"),
        "cold": os.environ.get("COLD", "1") == "1",
        "store": os.environ.get("STORE") or None,
    }


def drop_caches():
    """Empties the page cache (as root), so the next command reads from disk; False if it cannot."""
    try:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w", encoding="ascii") as f:
            f.write("3\n")
        return True
    except OSError:
        return False


def registry_place(cfg, work):
    return cfg["store"] or work / "registry"


def issue_samples(cfg, logs, work):
    """The sample cases into a fresh registry: real records, PDFs and template versions.

    Exit 1 is expected (the samples include rejected cases); 2 is fatal.
    """
    progress("issuing the sample cases")
    run([cfg["qujat"], "batch", "--cases", "cases/sample", "--out", work / "out",
         "--registry", registry_place(cfg, work), "--today", TODAY, "--quiet"], logs, "batch",
        ok=(0, 1))


def fill(cfg, logs, work, size):
    """Grows the media registry to `size` records; returns fill_registry's final JSON line."""
    progress(f"filling the media registry to {size} records")
    result = run([cfg["fill"], registry_place(cfg, work), "media", size], logs, "fill")
    figures = last_json_line(result, "fill_registry")
    return {**figures, "fill_seconds": round(result.seconds, 1)}


def new_cases(cfg, logs, work, i):
    """A folder of 100 new synthetic cases, set `i` (each set its own case ids)."""
    folder = work / f"new-{i}"
    folder.mkdir()
    run([cfg["qujat"], "generate-cases", "--count", 100, "--seed", 100 + i, "--prefix",
         f"NEW{i}", "--from", "2026-11-02", "--to", "2026-11-20", "--out",
         folder / "cases.csv"], logs, f"generate-{i}")
    return folder


def measured(runs):
    """Best and median seconds, median CPU seconds, peak RSS of several runs of one thing."""
    best, median = best_and_median([r.seconds for r in runs])
    _, cpu = best_and_median([r.cpu_seconds for r in runs])
    return {"best_s": round(best, 3), "median_s": round(median, 3), "median_cpu_s": round(cpu, 3),
            "peak_rss_mb": round(max(r.peak_rss_mb for r in runs), 1),
            "exit_code": runs[-1].code, "stdout": runs[-1].stdout.strip()[-2000:]}


def times(cfg, logs, name, commands, ok, cold):
    """Runs each of `commands` (one per repetition), the page cache dropped first when `cold`."""
    progress(f"{name} ×{len(commands)}{' (cold)' if cold else ''}")
    runs = []
    for i, command in enumerate(commands):
        if cold and not drop_caches():
            return None
        runs.append(run(command, logs, f"{name}-{i + 1}", ok))
    return measured(runs)


def at_size(cfg, out, size):
    """Every figure on a registry of `size` media records."""
    work = fresh_dir(out / f"work-{size}")
    logs = work / "logs"
    issue_samples(cfg, logs, work)
    numbers = fill(cfg, logs, work, size)
    qujat, place = cfg["qujat"], registry_place(cfg, work)
    at = ["--registry", "media", "--registry-dir", place]
    batch = [qujat, "batch", "--out", work / "out", "--registry", place, "--today", TODAY,
             "--quiet"]
    journal = Path(place) / "media" / "journal.jsonl"
    record = first_record(cfg, place)
    pdf = work / "out" / record["pdf"]["file"]
    figures = {"records": numbers["records"],
               "journal_bytes": journal.stat().st_size if journal.exists() else None,
               "fill_seconds": numbers["fill_seconds"]}
    rows = {}
    for cold in ([False, True] if cfg["cold"] else [False]):
        tag = " (cold)" if cold else ""
        rows[f"sample batch, all registered{tag}"] = times(
            cfg, logs, f"batch-samples{'-cold' if cold else ''}",
            [[*batch, "--cases", "cases/sample"]] * TIMES, (0, 1), cold)
        offset = 10 if cold else 0
        rows[f"100 new cases{tag}"] = times(
            cfg, logs, f"batch-new{'-cold' if cold else ''}",
            [[*batch, "--cases", new_cases(cfg, logs, work, offset + i)] for i in range(TIMES)],
            (0, 1), cold)
        rows[f"verify a PDF{tag}"] = times(
            cfg, logs, f"verify-pdf{'-cold' if cold else ''}",
            [[qujat, "verify", "--registry-dir", place, pdf]] * TIMES, (0, 3), cold)
        rows[f"verify a QR payload{tag}"] = times(
            cfg, logs, f"verify-qr{'-cold' if cold else ''}",
            [[qujat, "verify", "--registry-dir", place, "--payload", record["qr"]]] * TIMES,
            (0, 3), cold)
        rows[f"regenerate {REAL_NUMBER}{tag}"] = times(
            cfg, logs, f"regenerate{'-cold' if cold else ''}",
            [[qujat, "regenerate", *at, "--number", REAL_NUMBER, "--out",
              work / "copy.pdf"]] * TIMES, (0,), cold)
    rows["registry check"] = times(cfg, logs, "check", [[qujat, "registry", "check", *at]] * TIMES,
                                   (0,), False)
    rows["export"] = times(cfg, logs, "export",
                           [[qujat, "export", *at, "--out", work / "export.csv"]] * TIMES, (0,),
                           False)
    figures["commands"] = {name: row for name, row in rows.items() if row is not None}
    return figures


def first_record(cfg, place):
    """The record of the first sample certificate, read from a proof (any store)."""
    proof = subprocess.run(
        [cfg["qujat"], "registry", "proof", "--registry", "media", "--registry-dir", place,
         "--number", REAL_NUMBER], capture_output=True, text=True, check=True).stdout
    return json.loads(json.loads(proof)["record"])


# The targets of issue 14, on the largest registry: (row, seconds, MB of peak RSS or None).
TARGETS = [
    ("sample batch, all registered", 1.5, 150),
    ("sample batch, all registered (cold)", 1.5, 150),
    ("100 new cases", 1.5, 150),
    ("100 new cases (cold)", 1.5, 150),
    ("verify a PDF", 0.1, None),
    ("verify a QR payload", 0.1, None),
    (f"regenerate {REAL_NUMBER}", 0.1, None),
    ("registry check", 5.0, None),
    ("export", 5.0, None),
]


def report(facts, cfg, results):
    """The report: one table of median seconds (and peak RSS) by size, then the targets."""
    sizes = cfg["sizes"]
    names = list(dict.fromkeys(n for r in results.values() for n in r["commands"]))
    rows = []
    for name in names:
        cells = []
        for size in sizes:
            m = results[size]["commands"].get(name)
            cells.append("—" if m is None else f"{m['median_s']} s, {m['peak_rss_mb']} MB")
        rows.append([name, *cells])
    table = markdown_table(["median (peak RSS)", *[f"{s:,} records" for s in sizes]], rows)
    largest = results[sizes[-1]]["commands"]
    found = []
    for name, seconds, megabytes in TARGETS:
        m = largest.get(name)
        if m is None:
            found.append(check(f"{name} at {sizes[-1]:,}", "not measured", f"≤ {seconds} s",
                               None))
            continue
        ok = m["median_s"] <= seconds and (megabytes is None or m["peak_rss_mb"] <= megabytes)
        target = f"≤ {seconds} s" + (f", ≤ {megabytes} MB" if megabytes else "")
        found.append(check(f"{name} at {sizes[-1]:,}",
                           f"{m['median_s']} s, {m['peak_rss_mb']} MB", target, ok))
    sizes_facts = "\n".join(
        f"- {s:,} records: journal {r['journal_bytes'] / 1e9:.2f} GB, filled in "
        f"{r['fill_seconds']} s" if r["journal_bytes"] else f"- {s:,} records"
        for s, r in results.items())
    return "\n".join([
        "# qujat registry benchmark", "", facts_list(facts), sizes_facts, "", table, "",
        checks_table(found), "",
        f"Each figure is the median of {TIMES} runs: wall seconds, process start to exit, and "
        "the largest peak RSS (os.wait4). Cold: the page cache dropped "
        "(/proc/sys/vm/drop_caches) before each run. The 100 new cases are a new set each run "
        "(qujat generate-cases), so each run issues 100 documents or refusals."]), found


def main():
    os.chdir(ROOT)
    cfg = settings()
    out = cfg["out"]
    out.mkdir(parents=True, exist_ok=True)
    results = {}
    for size in cfg["sizes"]:
        progress(f"registry of {size} records")
        results[size] = at_size(cfg, out, size)
    facts = {**machine_facts(), **program_facts(cfg["qujat"])}
    markdown, found = report(facts, cfg, results)
    write_results(out, markdown, {"settings": {k: str(v) for k, v in cfg.items()},
                                  "machine": facts, "sizes": {str(k): v for k, v in
                                                              results.items()},
                                  "checks": found})


if __name__ == "__main__":
    main_guard(main)
