"""`make bench-registry`: the registry commands on a registry of a million records.

    python3 bench/registry.py     # from anywhere; paths are relative to the repository root

Environment: RECORDS (media records in the end, default 1000000), QUJAT (target/release/qujat),
FILL (target/release/examples/fill_registry), OUT (target/bench-registry).

It issues the sample cases into a fresh registry, grows the media registry to RECORDS records
with synthetic copies of its last document (fill_registry), reads the journal once to warm the
page cache (timed: the floor any full scan meets), then runs `registry check`, `export` and
`regenerate` (of a synthetic record in the middle, and of the first real one) three times each,
reporting the best and median wall time and the peak RSS. The report goes to stdout,
OUT/results.md and OUT/results.json; targets are judged on the median. Exit code 0 even when a
target fails, 1 when a step breaks.
"""

import os
import time
from pathlib import Path

from measure import (StepFailed, best_and_median, check, checks_table, env_int, env_path,
                     facts_list, fresh_dir, last_json_line, machine_facts, main_guard,
                     markdown_table, program_facts, progress, repeat, run, write_results)

ROOT = Path(__file__).resolve().parent.parent
TODAY = "2026-11-25"
REAL_NUMBER = "00001-Г"  # the first media certificate of the sample cases
TIMES = 3


def settings():
    """The run's settings from the environment."""
    return {
        "records": env_int("RECORDS", 1_000_000),
        "qujat": env_path("QUJAT", "target/release/qujat"),
        "fill": env_path("FILL", "target/release/examples/fill_registry"),
        "out": env_path("OUT", "target/bench-registry"),
    }


def count_lines(path):
    """Lines of a file, read in large blocks (a journal holds one record per line)."""
    lines = 0
    with open(path, "rb") as f:
        while block := f.read(16 << 20):
            lines += block.count(b"\n")
    return lines


def issue_samples(cfg, logs, work):
    """The sample cases into a fresh registry: real records, PDFs and template versions.

    Exit 1 is expected (the samples include rejected cases); 2 is fatal.
    """
    progress("issuing the sample cases")
    run([cfg["qujat"], "batch", "--cases", "cases/sample", "--out", work / "out",
         "--registry", work / "registry", "--today", TODAY, "--quiet"], logs, "batch", ok=(0, 1))


def fill(cfg, logs, registry, journal):
    """Grows the media registry to RECORDS records; returns fill_registry's final JSON line."""
    existing = count_lines(journal)
    if cfg["records"] <= existing:
        raise StepFailed(f"RECORDS={cfg['records']} is not more than the {existing} records "
                         "the samples registered")
    progress(f"filling the media registry: {existing} + {cfg['records'] - existing} records")
    result = run([cfg["fill"], registry, "media", cfg["records"] - existing], logs, "fill")
    figures = last_json_line(result, "fill_registry")
    for key in ("records", "middle_number", "last_number"):
        if key not in figures:
            raise StepFailed(f"fill_registry's JSON line has no {key!r}: {figures}")
    return {**figures, "existing": existing, "fill_seconds": round(result.seconds, 1)}


def read_once(path):
    """Reads a file end to end and returns the seconds it took."""
    started = time.perf_counter()
    with open(path, "rb") as f:
        while f.read(16 << 20):
            pass
    return time.perf_counter() - started


def cat(journal):
    """Reading the journal from the page cache: once to warm it, then TIMES times timed."""
    progress("warming the page cache, then reading the journal ×3")
    read_once(journal)
    best, median = best_and_median([read_once(journal) for _ in range(TIMES)])
    return {"best_s": round(best, 3), "median_s": round(median, 3)}


def timed(logs, log_name, command, ok):
    """Runs a command TIMES times: best and median seconds, peak RSS, last exit code and stdout."""
    progress(f"{log_name} ×{TIMES}")
    runs = repeat(TIMES, command, logs, log_name, ok)
    best, median = best_and_median([r.seconds for r in runs])
    _, cpu_median = best_and_median([r.cpu_seconds for r in runs])
    return {"best_s": round(best, 3), "median_s": round(median, 3),
            "median_cpu_s": round(cpu_median, 3),
            "peak_rss_mb": round(max(r.peak_rss_mb for r in runs), 1),
            "exit_code": runs[-1].code, "stdout": runs[-1].stdout.strip()}


def export_figures(csv_path):
    """Rows (lines less the header) and size of the exported CSV."""
    return {"rows": count_lines(csv_path) - 1, "bytes": csv_path.stat().st_size}


def commands(cfg, work, numbers):
    """The measured commands: (label, log name, command line, accepted exit codes, target s).

    Regenerating a synthetic record ends in 1 (its PDF hash is made up, so the copy is 'not
    identical'); the time still counts, since the work is the same.
    """
    qujat = cfg["qujat"]
    at = ["--registry", "media", "--registry-dir", work / "registry"]
    return [
        ("check", "check", [qujat, "registry", "check", *at], (0,), 5.0),
        ("export", "export", [qujat, "export", *at, "--out", work / "export.csv"], (0,), 5.0),
        ("regenerate (synthetic, middle)", "regenerate-synthetic",
         [qujat, "regenerate", *at, "--number", numbers["middle_number"],
          "--out", work / "copy.pdf"], (0, 1), 0.2),
        (f"regenerate (real, {REAL_NUMBER})", "regenerate-real",
         [qujat, "regenerate", *at, "--number", REAL_NUMBER, "--out", work / "copy-real.pdf"],
         (0, 1), 0.2),
    ]


def measure_commands(logs, planned):
    """Runs every planned command; returns the figures by label and the targets' verdicts."""
    measured, found = {}, []
    for label, log_name, command, ok, target in planned:
        figures = timed(logs, log_name, command, ok)
        measured[label] = figures
        found.append(check(f"{label} (median s)", figures["median_s"], f"≤ {target}",
                           figures["median_s"] <= target))
    return measured, found


def one_line(text):
    """A program's output on one line, for a markdown list item."""
    return " / ".join(line.strip() for line in text.splitlines() if line.strip())


def report(facts, numbers, journal_bytes, measured, exported, found):
    """The report as markdown: facts, the table of commands, targets, the regenerate answers."""
    table = markdown_table(
        ["command", "best s", "median s", "median CPU s", "peak RSS MB", "exit code"],
        [[name, m["best_s"], m["median_s"], m.get("median_cpu_s", "—"), m.get("peak_rss_mb", "—"),
          m.get("exit_code", "—")]
         for name, m in measured.items()])
    answers = "\n".join(
        f"- {name} (exit {m['exit_code']}): {one_line(m['stdout']) or '(no output)'}"
        for name, m in measured.items() if name.startswith("regenerate"))
    return "\n".join([
        f"# qujat registry benchmark ({numbers['records']} media records)", "",
        facts_list(facts), f"- journal: {journal_bytes / 1e9:.2f} GB", "",
        table, "",
        f"export: {exported['rows']} rows, {exported['bytes'] / 1e6:.1f} MB", "",
        checks_table(found), "",
        "Regenerate answers (synthetic records have made-up PDF hashes, so exit 1 is expected "
        "for them):", "", answers, "",
        f"cat: reading the journal from the page cache ({TIMES} times, after one read to warm "
        "it), the floor for any full scan. "
        "Seconds are wall time, process start to exit; CPU seconds are user plus system time, "
        "from os.wait4 (CPU s / median s is how many cores a command kept busy); peak RSS from "
        f"os.wait4, the largest of the {TIMES} runs. MB = 2^20 bytes in RSS, 10^6 in sizes."])


def main():
    os.chdir(ROOT)
    cfg = settings()
    work = fresh_dir(cfg["out"] / "work")
    logs = work / "logs"
    progress(f"work folder {work}")
    journal = work / "registry" / "media" / "journal.jsonl"
    issue_samples(cfg, logs, work)
    numbers = fill(cfg, logs, work / "registry", journal)
    journal_bytes = journal.stat().st_size
    floor = cat(journal)
    measured, found = measure_commands(logs, commands(cfg, work, numbers))
    measured = {"cat (read the journal)": floor, **measured}
    exported = export_figures(work / "export.csv")
    facts = {**machine_facts(), **program_facts(cfg["qujat"])}
    markdown = report(facts, numbers, journal_bytes, measured, exported, found)
    write_results(cfg["out"], markdown, {
        "settings": {k: str(v) for k, v in cfg.items()}, "machine": facts,
        "registry": {**numbers, "journal_bytes": journal_bytes}, "export": exported,
        "commands": measured, "checks": found})


if __name__ == "__main__":
    main_guard(main)
