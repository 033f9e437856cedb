"""The registry commands with the registries in PostgreSQL, at RECORDS records.

    python3 bench/registry_pg.py [URL]     # from anywhere; paths are relative to the repository root

URL (or PG_URL) names a database to use, which is emptied of qujat's schema first; without one,
a throwaway cluster is started with tests/pg.sh (its data on disk synced as any server's:
QUJAT_PG_BENCH=1 turns the test cluster's fsync back on) and stopped at the end.

`measure(url, cfg)` is what `make bench-registry` calls (bench/registry.py), with the settings of
`settings()`: it issues the sample cases into the database, grows the media registry to RECORDS
records with fill_registry (through the same Writer API a batch uses), then times, TIMES times
each: the sample batch again (108 cases, all registered), a batch of 100 new cases (a fresh set
each time), `verify` of a PDF and of a QR payload, `regenerate` of a synthetic record in the
middle and of the first real one, `registry check` and `export`. Warm caches only (the server's
and the kernel's): dropping them would disturb everything else on a shared machine. The server's
own memory is not in qujat's peak RSS. Figures go to stdout, OUT/results-pg.md and
OUT/results-pg.json.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from measure import (StepFailed, best_and_median, check, checks_table, env_int, env_path,
                     facts_list, fresh_dir, last_json_line, machine_facts, main_guard,
                     markdown_table, program_facts, progress, repeat, run, write_results)

ROOT = Path(__file__).resolve().parent.parent
TODAY = "2026-11-25"
REAL_NUMBER = "00001-Г"
TIMES = 3


def settings():
    """The run's settings from the environment."""
    return {
        "records": env_int("RECORDS", 1_000_000),
        "qujat": env_path("QUJAT", "target/release/qujat"),
        "fill": env_path("FILL", "target/release/examples/fill_registry"),
        "out": env_path("OUT", "target/bench-registry"),
    }


def psql(url, sql):
    """One value from the database (psql, as an operator would ask)."""
    result = subprocess.run(["psql", url, "-X", "-A", "-t", "-c", sql], capture_output=True,
                            text=True)
    if result.returncode != 0:
        raise StepFailed(f"psql: {result.stderr.strip()}")
    return result.stdout.strip()


def timed(logs, name, command, ok=(0,)):
    """TIMES runs of one command: best and median wall time, median CPU, peak RSS."""
    progress(f"{name} ×{TIMES}")
    runs = repeat(TIMES, command, logs, name, ok)
    return figures(runs)


def figures(runs):
    best, median = best_and_median([r.seconds for r in runs])
    _, cpu = best_and_median([r.cpu_seconds for r in runs])
    return {"best_s": round(best, 3), "median_s": round(median, 3), "median_cpu_s": round(cpu, 3),
            "peak_rss_mb": round(max(r.peak_rss_mb for r in runs), 1),
            "exit_code": runs[-1].code, "stdout": runs[-1].stdout.strip()}


def measure(url, cfg, work=None):
    """Every figure for registries in the database `url`; returns (figures, checks)."""
    qujat = cfg["qujat"]
    work = fresh_dir(work or cfg["out"] / "work-pg")
    logs = work / "logs"
    at = ["--registry-dir", url]
    progress("emptying the database of qujat's schema, then `registry init`")
    psql(url, "DROP SCHEMA IF EXISTS qujat CASCADE")
    run([qujat, "registry", "init", *at], logs, "init")
    progress("issuing the sample cases")
    batch = [qujat, "batch", "--out", work / "out", "--registry", url, "--today", TODAY, "--quiet"]
    first = run([*batch, "--cases", "cases/sample"], logs, "batch-first", ok=(0, 1))
    existing = int(psql(url, "SELECT count(*) FROM qujat.records WHERE registry = 'media'"))
    progress(f"filling the media registry: {existing} + {cfg['records'] - existing} records")
    filled = run([cfg["fill"], url, "media", cfg["records"]], logs, "fill")
    numbers = last_json_line(filled, "fill_registry")
    progress("vacuum analyze (as autovacuum would, sooner)")
    psql(url, "VACUUM ANALYZE")
    sizes = {
        "database_bytes": int(psql(url, "SELECT pg_database_size(current_database())")),
        "records_bytes": int(psql(url, "SELECT pg_total_relation_size('qujat.records')")),
        "index_bytes": int(psql(url, "SELECT pg_total_relation_size('qujat.facts') "
                                     "+ pg_total_relation_size('qujat.nodes')")),
    }
    first_pdf = psql(url, "SELECT line::jsonb->'record'->'pdf'->>'file' FROM qujat.records "
                          "WHERE registry = 'media' AND seq = 1")
    payload = psql(url, "SELECT line::jsonb->'record'->>'qr' FROM qujat.records "
                        "WHERE registry = 'media' AND seq = 1")
    measured = {}
    measured["sample batch, all registered"] = timed(
        logs, "batch-registered", [*batch, "--cases", "cases/sample"], ok=(0, 1))
    progress(f"batch of 100 new cases ×{TIMES}")
    runs = []
    for i in range(TIMES):
        cases = work / f"new-{i}"
        cases.mkdir()
        run([qujat, "generate-cases", "--count", "100", "--seed", 100 + i, "--prefix",
             f"NEW{i}", "--from", "2026-11-02", "--to", "2026-11-20",
             "--out", cases / "new.csv"], logs, f"generate-{i}")
        runs.append(run([*batch, "--cases", cases], logs, f"batch-new-{i + 1}", ok=(0, 1)))
    measured["batch of 100 new cases"] = figures(runs)
    measured["verify (PDF)"] = timed(logs, "verify-pdf",
                                     [qujat, "verify", work / "out" / first_pdf, *at], ok=(0, 3))
    measured["verify (QR payload)"] = timed(logs, "verify-payload",
                                            [qujat, "verify", "--payload", payload, *at], ok=(0, 3))
    measured["regenerate (synthetic, middle)"] = timed(
        logs, "regenerate-synthetic",
        [qujat, "regenerate", "--registry", "media", "--number", numbers["middle_number"],
         "--out", work / "copy.pdf", *at], ok=(0, 1))
    measured[f"regenerate (real, {REAL_NUMBER})"] = timed(
        logs, "regenerate-real",
        [qujat, "regenerate", "--registry", "media", "--number", REAL_NUMBER,
         "--out", work / "copy-real.pdf", *at], ok=(0, 1))
    measured["registry check (media)"] = timed(
        logs, "check", [qujat, "registry", "check", "--registry", "media", *at])
    measured["export (media)"] = timed(
        logs, "export", [qujat, "export", "--registry", "media", "--out", work / "export.csv",
                         *at])
    targets = {"sample batch, all registered": 1.5, "batch of 100 new cases": 1.5,
               "verify (PDF)": 0.1, "verify (QR payload)": 0.1,
               "regenerate (synthetic, middle)": 0.1, f"regenerate (real, {REAL_NUMBER})": 0.1,
               "registry check (media)": 5.0, "export (media)": 5.0}
    found = [check(f"{name} (median s)", measured[name]["median_s"], f"≤ {target}",
                   measured[name]["median_s"] <= target) for name, target in targets.items()]
    found += [check(f"{name} (peak RSS MB)", measured[name]["peak_rss_mb"], "≤ 150",
                    measured[name]["peak_rss_mb"] <= 150)
              for name in ("sample batch, all registered", "batch of 100 new cases")]
    registry = {**numbers, "existing": existing, "first_batch_s": round(first.seconds, 1),
                "fill_s": round(filled.seconds, 1), **sizes}
    return {"registry": registry, "commands": measured}, found


def report(facts, server, result, found):
    """The figures as markdown."""
    registry, measured = result["registry"], result["commands"]
    table = markdown_table(
        ["command", "best s", "median s", "median CPU s", "peak RSS MB", "exit code"],
        [[name, m["best_s"], m["median_s"], m["median_cpu_s"], m["peak_rss_mb"], m["exit_code"]]
         for name, m in measured.items()])
    return "\n".join([
        f"# qujat registry benchmark, PostgreSQL ({registry['records']} media records)", "",
        facts_list(facts), f"- server: {server}",
        f"- database: {registry['database_bytes'] / 1e9:.2f} GB (records "
        f"{registry['records_bytes'] / 1e9:.2f} GB with TOAST and primary key; facts and nodes "
        f"{registry['index_bytes'] / 1e9:.2f} GB)",
        f"- filling {registry['records'] - registry['existing']} records through the Writer: "
        f"{registry['fill_s']} s; the first sample batch: {registry['first_batch_s']} s", "",
        table, "", checks_table(found), "",
        "Warm caches (the server's shared buffers and the kernel's page cache). Seconds are wall "
        "time, process start to exit, connecting included; CPU and peak RSS are qujat's alone, "
        "not the server's. Regenerating a synthetic record exits 1 (its PDF hash is made up)."])


def start_cluster():
    """A throwaway cluster (tests/pg.sh serve, fsync on): (URL of a database, the child)."""
    env = {**os.environ, "QUJAT_PG_BENCH": "1"}
    child = subprocess.Popen([ROOT / "tests/pg.sh", "serve"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, env=env)
    line = child.stdout.readline().split()
    if not line:
        raise StepFailed("tests/pg.sh could not start a cluster")
    admin = line[0]
    subprocess.run(["psql", admin, "-X", "-q", "-c", "CREATE DATABASE qujat_bench ENCODING 'UTF8' "
                    "TEMPLATE template0"], check=True)
    return admin.replace("/postgres?", "/qujat_bench?"), child


def main():
    os.chdir(ROOT)
    cfg = settings()
    url = (sys.argv[1] if len(sys.argv) > 1 else None) or os.environ.get("PG_URL")
    child = None
    if not url:
        url, child = start_cluster()
    try:
        server = psql(url, "SELECT version()").split(" on ")[0]
        result, found = measure(url, cfg)
    finally:
        if child:
            child.stdin.close()
            child.wait()
    facts = {**machine_facts(), **program_facts(cfg["qujat"])}
    markdown = report(facts, server, result, found)
    out = cfg["out"]
    print(markdown)
    (out / "results-pg.md").write_text(markdown + "\n", encoding="utf-8")
    (out / "results-pg.json").write_text(json.dumps(
        {"machine": facts, "server": server, **result, "checks": found}, indent=2,
        ensure_ascii=False) + "\n", encoding="utf-8")
    progress(f"wrote {out / 'results-pg.md'} and {out / 'results-pg.json'}")


if __name__ == "__main__":
    main_guard(main)
