"""`make bench`: how fast qujat issues documents, against the engine alone and against the peer.

    python3 bench/bench.py        # from anywhere; paths are relative to the repository root

Environment: N (documents, default 5000), JOBS (default: the CPUs), QUJAT
(target/release/qujat), BARE (target/release/examples/bench_render), MEMORY (case counts for
the memory runs, default "2000,20000"; empty skips them), OUT (target/bench).

Steps: synthetic cases → the whole nightly batch, every document signed with its official's test
key as `make run` signs (end-to-end) → the same batch without signing (end-to-end unsigned: the
repository's qujat.toml without its [signing] section) → the same documents rendered by the
engine alone from the registry (bare render) → signing alone, per document (bench_sign on the
unsigned batch's PDFs) → the same documents by the peer, typst-py in 1 and JOBS processes
(bench/peer.py) → batches of MEMORY sizes for peak memory. The report goes
to stdout, OUT/results.md and OUT/results.json; a missed target says FAIL there but the exit code
is 0; it is 1 only when a step breaks. See bench/README.md for what the figures mean.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from measure import (StepFailed, check, checks_table, env_int, env_path, facts_list,
                     fresh_dir, last_json_line, machine_facts, main_guard, markdown_table,
                     program_facts, progress, run, write_results)

ROOT = Path(__file__).resolve().parent.parent
# typst-py 0.15.2 bundles Typst 0.15.1, the engine version qujat embeds (Cargo.lock).
TYPST_PY = "0.15.2"
VENV = Path("target/bench-venv")
TODAY = "2026-11-25"


def settings():
    """The run's settings from the environment."""
    memory = os.environ.get("MEMORY", "2000,20000")
    try:
        sizes = [int(m) for m in memory.split(",") if m.strip()]
    except ValueError:
        raise StepFailed(f"MEMORY={memory!r} is not a comma-separated list of numbers") from None
    return {
        "n": env_int("N", 5000),
        "jobs": env_int("JOBS", os.cpu_count() or 1),
        "qujat": env_path("QUJAT", "target/release/qujat"),
        "bare": env_path("BARE", "target/release/examples/bench_render"),
        "sign": env_path("SIGN", "target/release/examples/bench_sign"),
        "memory": sizes,
        "out": env_path("OUT", "target/bench"),
    }


def venv_python():
    """The venv's python with typst-py TYPST_PY installed, creating either when missing.

    The venv persists (target/bench-venv) so later runs need no network.
    """
    python = VENV / "bin" / "python"
    if not python.exists():
        progress(f"creating the venv {VENV}")
        made = subprocess.run([sys.executable, "-m", "venv", str(VENV)],
                              capture_output=True, text=True)
        if made.returncode != 0:
            shutil.rmtree(VENV, ignore_errors=True)
            minor = f"{sys.version_info.major}.{sys.version_info.minor}"
            raise StepFailed(
                f"python3 -m venv failed:\n{made.stdout}{made.stderr}\n"
                f"Install Python's venv module (Debian/Ubuntu: apt-get install python3-venv "
                f"or python{minor}-venv) and run again.")
    if installed_typst_py(python) != TYPST_PY:
        progress(f"installing typst=={TYPST_PY} into {VENV}")
        pip = subprocess.run([python, "-m", "pip", "install", "--quiet", f"typst=={TYPST_PY}"],
                             capture_output=True, text=True)
        if pip.returncode != 0 or installed_typst_py(python) != TYPST_PY:
            raise StepFailed(f"pip install typst=={TYPST_PY} failed:\n{pip.stdout}{pip.stderr}")
    return python


def installed_typst_py(python):
    """The typst-py version importable by `python`, or None."""
    code = "import importlib.metadata, typst; print(importlib.metadata.version('typst'))"
    probe = subprocess.run([python, "-c", code], capture_output=True, text=True)
    return probe.stdout.strip() if probe.returncode == 0 else None


def generate_cases(cfg, logs, count, seed, csv):
    """Writes `count` synthetic media cases (the same seed, the same cases) to `csv`."""
    progress(f"generating {count} cases (seed {seed})")
    run([cfg["qujat"], "generate-cases", "--count", count, "--seed", seed, "--out", csv],
        logs, f"generate-{count}-seed-{seed}")


def batch(cfg, logs, name, cases, out, registry, config=None):
    """The nightly batch over `cases`, measured from process start to exit.

    Documents are every PDF it wrote: issued documents and reasoned refusals (about one synthetic
    case in seven is refused, and its letter is rendered and registered like any document).
    Exit 1 (some input rejected) is reported but not fatal; exit 2 is.
    """
    options = ["--config", config] if config else []
    result = run([cfg["qujat"], *options, "batch", "--cases", cases, "--out", out,
                  "--registry", registry, "--today", TODAY, "--jobs", cfg["jobs"], "--quiet"],
                 logs, name, ok=(0, 1))
    summary = read_summary(out / "run-report.json")
    if result.code == 1:
        progress(f"warning: {name}: {summary['rejected']} cases rejected "
                 f"(see {out / 'run-report.json'})")
    documents = summary["issued"] + summary["refused"]
    return row(documents, result.seconds, result.peak_rss_kib,
               issued=summary["issued"], refused=summary["refused"], exit_code=result.code)


def read_summary(report_path):
    """The `summary` of a batch's JSON run report."""
    try:
        return json.loads(report_path.read_text(encoding="utf-8"))["summary"]
    except (OSError, ValueError, KeyError) as error:
        raise StepFailed(f"cannot read the run report {report_path}: {error}") from error


def row(documents, seconds, rss_kib, **extra):
    """One measured row: documents, seconds, documents per second, peak RSS in MB."""
    return {"documents": documents, "seconds": round(seconds, 3),
            "docs_per_s": round(documents / seconds, 1) if seconds > 0 else None,
            "peak_rss_mb": round(rss_kib / 1024, 1), **extra}


def unsigned_config(work):
    """The repository's qujat.toml without its [signing] section, its relative paths made
    absolute (it is written to the work folder): the same batch, unsigned."""
    text = (ROOT / "qujat.toml").read_text(encoding="utf-8")
    lines, section = [], None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            section = stripped.strip("[]")
        if section is not None and section.split(".")[0] == "signing":
            continue
        key, eq, value = line.partition("=")
        value = value.split("#")[0].strip()
        if (eq and section in ("paths", "checkpoints") and value.startswith('"')
                and not value.startswith('"/')):
            line = f'{key.strip()} = "{ROOT / value.strip(chr(34))}"'
        lines.append(line)
    path = work / "unsigned.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def signing_cost(cfg, logs, pdfs):
    """Signing alone: bench_sign signs every PDF of `pdfs` with a test RSA 2048 and a test P-256
    key (3 rounds), then verifies the RSA-signed ones."""
    progress("signing alone (bench_sign)")
    result = run([cfg["sign"], "--pdfs", pdfs, "--rounds", 3], logs, "sign")
    return last_json_line(result, "bench_sign")


def bare_render(cfg, logs, registry):
    """The engine alone: BARE renders every document of the registry, timing only the rendering."""
    progress("bare render")
    result = run([cfg["bare"], "--registry", registry, "--jobs", cfg["jobs"]], logs, "bare")
    figures = last_json_line(result, "bench_render")
    return row(figures["documents"], figures["seconds"], result.peak_rss_kib,
               wall_seconds=round(result.seconds, 3))


def export_for_peer(cfg, logs, registry, peer_dir):
    """BARE --export: the registry's documents as template tree, data and QR files + manifest."""
    progress("exporting the documents for the peer")
    run([cfg["bare"], "--registry", registry, "--export", peer_dir, "--templates", "templates"],
        logs, "export")
    manifest = peer_dir / "manifest.json"
    if not manifest.is_file():
        raise StepFailed(f"bench_render --export wrote no {manifest}")
    return manifest


def peer(python, logs, manifest, processes):
    """The peer (bench/peer.py in the venv) in `processes` processes.

    Its seconds are its own wall time, worker start included; its memory is the sum of its
    processes' peaks (P processes hold P engines), not the largest one wait4 sees.
    """
    progress(f"peer, {processes} process(es)")
    result = run([python, "bench/peer.py", "--manifest", manifest, "--fonts", "fonts",
                  "--processes", processes], logs, f"peer-{processes}")
    figures = last_json_line(result, "peer.py")
    return row(figures["documents"], figures["seconds"], figures["peak_rss_kib_sum"],
               processes=figures["processes"], wall_seconds=round(result.seconds, 3),
               bytes=figures["bytes"],
               largest_process_rss_mb=round(result.peak_rss_mb, 1),
               typst_py=figures["typst_py"])


def memory_run(cfg, logs, work, count):
    """A batch of `count` fresh cases (seed 2) into a fresh registry: its peak RSS and speed."""
    base = fresh_dir(work / f"memory-{count}")
    generate_cases(cfg, logs, count, 2, base / "cases" / "synthetic.csv")
    progress(f"memory run: batch of {count} cases")
    measured = batch(cfg, logs, f"memory-{count}", base / "cases", base / "out",
                     base / "registry")
    return {"cases": count, **measured}


def ratio(a, b):
    """a / b, rounded, or None when either is missing."""
    return round(a / b, 2) if a and b else None


def checks(runs, memory):
    """The targets: throughput against the bare engine and the peer, memory against volume.

    Signed end to end against bare render is issue 16's target (≥ 0.80); unsigned end to end
    keeps the target it had before signing (≥ 0.85), and is what the peer (which signs nothing)
    is compared with.
    """
    signed = runs["end_to_end"]["docs_per_s"]
    e2e = runs["end_to_end_unsigned"]["docs_per_s"]
    vs_bare_signed = ratio(signed, runs["bare"]["docs_per_s"])
    vs_bare = ratio(e2e, runs["bare"]["docs_per_s"])
    vs_peer = ratio(e2e, runs["peer_jobs"]["docs_per_s"])
    found = [
        check("end-to-end signed / bare render (docs/s)", vs_bare_signed, "≥ 0.80",
              vs_bare_signed is not None and vs_bare_signed >= 0.80),
        check("end-to-end signed / end-to-end unsigned (docs/s)", ratio(signed, e2e), "—",
              None),
        check("end-to-end unsigned / bare render (docs/s)", vs_bare, "≥ 0.85",
              vs_bare is not None and vs_bare >= 0.85),
        check(f"end-to-end unsigned / peer {runs['peer_jobs']['processes']} processes (docs/s)",
              vs_peer,
              "≥ 1.7", vs_peer is not None and vs_peer >= 1.7),
        check("end-to-end unsigned / peer 1 process (docs/s)",
              ratio(e2e, runs["peer_1"]["docs_per_s"]), "—", None),
    ]
    if memory:
        small = min(memory, key=lambda m: m["cases"])
        large = max(memory, key=lambda m: m["cases"])
        if large is not small:
            growth = ratio(large["peak_rss_mb"], small["peak_rss_mb"])
            found.append(check(f"RSS({large['cases']}) / RSS({small['cases']})", growth,
                               "≤ 1.2", growth is not None and growth <= 1.2))
        found.append(check(f"RSS({large['cases']}) MB", large["peak_rss_mb"], "< 500",
                           large["peak_rss_mb"] < 500))
    return found


def report(cfg, facts, runs, memory, found, signing):
    """The report as markdown: facts, throughput table, memory table, targets, notes."""
    jobs = cfg["jobs"]
    labels = {"end_to_end": "end-to-end, signed (qujat batch)",
              "end_to_end_unsigned": "end-to-end, unsigned (no [signing])",
              "bare": "bare render (engine only)",
              "peer_1": "peer, 1 process", "peer_jobs": f"peer, {jobs} processes"}
    throughput = markdown_table(
        ["run", "documents", "seconds", "documents/s", "peak RSS MB"],
        [[labels[k], r["documents"], r["seconds"], r["docs_per_s"], r["peak_rss_mb"]]
         for k, r in runs.items()])
    parts = [f"# qujat benchmark ({cfg['n']} cases, JOBS={jobs})", "", facts_list(facts), "",
             throughput, ""]
    if memory:
        parts += ["Memory (a fresh batch of each size):", "", markdown_table(
            ["cases", "documents", "seconds", "documents/s", "peak RSS MB"],
            [[m["cases"], m["documents"], m["seconds"], m["docs_per_s"], m["peak_rss_mb"]]
             for m in memory]), ""]
    parts += ["Signing alone, per document (bench_sign: the unsigned batch's PDFs, 3 rounds):", "",
              markdown_table(
                  ["", "wall ms", "CPU ms"],
                  [["sign, RSA 2048", round(signing["rsa2048_ms_per_document"], 2),
                    round(signing["rsa2048_cpu_ms_per_document"], 2)],
                   ["sign, ECDSA P-256", round(signing["p256_ms_per_document"], 2),
                    round(signing["p256_cpu_ms_per_document"], 2)],
                   ["verify (RSA, chain of 3, CRL)", round(signing["verify_ms_per_document"], 2),
                    round(signing["verify_cpu_ms_per_document"], 2)]]),
              "", f"Kept signature: {signing['kept_signature_bytes_per_document']} bytes a "
              f"document (unsigned PDF: {signing['unsigned_bytes_per_document']} bytes).", ""]
    parts += [checks_table(found), ""]
    if runs["end_to_end"]["documents"] != runs["bare"]["documents"]:
        parts += ["**Warning:** end-to-end and bare render counted different documents.", ""]
    parts += [
        "Documents: every PDF rendered, refusal letters included. End-to-end seconds are the "
        "batch process's whole life (parse, validate, plan, render, write, fsync, report); bare "
        "render seconds are the rendering alone, measured inside bench_render; peer seconds "
        "include starting its worker processes. Peak RSS: the process's maximum resident set "
        "(os.wait4); for the peer, the sum over its processes. MB = 2^20 bytes."]
    return "\n".join(parts)


def main():
    os.chdir(ROOT)
    cfg = settings()
    work = fresh_dir(cfg["out"] / "work")
    logs = work / "logs"
    progress(f"work folder {work}")
    python = venv_python()
    cases, out, registry = work / "cases", work / "out", work / "registry"
    generate_cases(cfg, logs, cfg["n"], 1, cases / "synthetic.csv")
    progress(f"end-to-end: batch of {cfg['n']} cases, {cfg['jobs']} jobs")
    runs = {"end_to_end": batch(cfg, logs, "end-to-end", cases, out, registry)}
    progress(f"end-to-end unsigned: batch of {cfg['n']} cases, {cfg['jobs']} jobs")
    runs["end_to_end_unsigned"] = batch(cfg, logs, "end-to-end-unsigned", cases,
                                        work / "out-unsigned", work / "registry-unsigned",
                                        config=unsigned_config(work))
    runs["bare"] = bare_render(cfg, logs, registry)
    signing = signing_cost(cfg, logs, work / "out-unsigned")
    manifest = export_for_peer(cfg, logs, registry, work / "peer")
    runs["peer_1"] = peer(python, logs, manifest, 1)
    runs["peer_jobs"] = (runs["peer_1"] if cfg["jobs"] == 1
                         else peer(python, logs, manifest, cfg["jobs"]))
    memory = [memory_run(cfg, logs, work, count) for count in cfg["memory"]]
    found = checks(runs, memory)
    facts = {**machine_facts(), **program_facts(cfg["qujat"]),
             "typst_py": runs["peer_1"]["typst_py"]}
    markdown = report(cfg, facts, runs, memory, found, signing)
    write_results(cfg["out"], markdown, {
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in cfg.items()},
        "machine": facts, "runs": runs, "signing": signing, "memory": memory, "checks": found})


if __name__ == "__main__":
    main_guard(main)
