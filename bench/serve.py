"""`make bench-serve`: QR verifications per second of `qujat serve` on a million-record registry.

    python3 bench/serve.py     # from anywhere; paths are relative to the repository root

Environment: RECORDS (media records, default 1000000), QUJAT (target/release/qujat), FILL
(target/release/examples/fill_registry), OUT (target/bench-serve), SECONDS (each measured run,
default 20), CONNECTIONS (open connections the load generator keeps, default 32), URLS (distinct
QR addresses, default 20000), REUSE (1: reuse OUT's registry if it has RECORDS records already).

It issues the sample cases and grows the media registry to RECORDS records as `make
bench-registry` does (fill_registry), picks URLS records at random (their QR payloads, read
through the registry's index), starts `qujat serve` on the loopback address with the rate limit
at a rate no test client reaches (so its cost is counted) and drives it with wrk (Debian's
`wrk`), one thread, CONNECTIONS connections, each request a random one of those QR addresses:
a warm-up run, then three measured runs. It reports requests per second, p50 and p99 latency
(wrk's), and checks from the service's own /metrics that every answer was a genuine verdict.
The load generator shares the machine's cores with the service, as the issue asks. Report:
stdout, OUT/results.md, OUT/results.json. Targets: >= 5000 verifications/s, p99 <= 20 ms.
"""

import json
import os
import random
import re
import socket
import sqlite3
import subprocess
import time
import urllib.request
from pathlib import Path

from measure import (StepFailed, check, checks_table, env_int, env_path, facts_list,
                     fresh_dir, machine_facts, main_guard, markdown_table, program_facts,
                     progress, write_results)
from registry import fill, issue_samples

ROOT = Path(__file__).resolve().parent.parent
RUNS = 3
TARGET_RPS = 5000
TARGET_P99_MS = 20.0

WRK_SCRIPT = """
-- Each request: a random one of the QR addresses in the file named by the first argument.
local paths = {}
function init(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end
function request()
  return wrk.format("GET", paths[math.random(#paths)])
end
"""


def settings():
    return {
        "records": env_int("RECORDS", 1_000_000),
        "qujat": env_path("QUJAT", "target/release/qujat"),
        "fill": env_path("FILL", "target/release/examples/fill_registry"),
        "out": env_path("OUT", "target/bench-serve"),
        "seconds": env_int("SECONDS", 20),
        "connections": env_int("CONNECTIONS", 32),
        "urls": env_int("URLS", 20_000),
        "reuse": os.environ.get("REUSE", "1") == "1",
    }


def count_lines(path):
    """The number of whole lines (records) of a journal."""
    lines = 0
    with open(path, "rb") as journal:
        while chunk := journal.read(1 << 24):
            lines += chunk.count(b"\n")
    return lines


def registry_ready(cfg, work):
    """The registry of RECORDS records: reused if OUT has it (REUSE=1), made otherwise."""
    journal = work / "registry" / "media" / "journal.jsonl"
    if cfg["reuse"] and journal.exists() and count_lines(journal) >= cfg["records"]:
        progress(f"reusing the registry in {work / 'registry'}")
        return journal
    fresh_dir(work)
    cfg = {**cfg, "store": None}  # the registry folder in OUT, as make bench-registry's
    issue_samples(cfg, work / "logs", work)
    fill(cfg, work / "logs", work, cfg["records"])
    return journal


def qr_paths(work, count):
    """The QR addresses (path and query) of `count` document records picked at random, read
    through the index (offset and length of each record), as a client would have scanned them."""
    registry = work / "registry" / "media"
    db = sqlite3.connect(f"file:{registry / 'index.sqlite'}?mode=ro", uri=True)
    (size,) = db.execute("SELECT max(seq) FROM records").fetchone()
    rng = random.Random(17)
    seqs = sorted(rng.sample(range(1, size + 1), min(count * 2, size)))
    paths = []
    with open(registry / "journal.jsonl", "rb") as journal:
        for seq in seqs:
            offset, length = db.execute(
                "SELECT offset, len FROM records WHERE seq = ?", (seq,)).fetchone()
            journal.seek(offset)
            record = json.loads(journal.read(length))["record"]
            if record.get("type") != "document":
                continue
            qr = record["qr"]
            paths.append(qr[qr.index("/", qr.index("://") + 3):])
            if len(paths) == count:
                break
    db.close()
    rng.shuffle(paths)
    return paths


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(cfg, work, port):
    log = open(work / "logs" / "serve.stderr", "w", encoding="utf-8")
    server = subprocess.Popen(
        [cfg["qujat"], "serve", "--listen", f"127.0.0.1:{port}",
         "--registry-dir", work / "registry", "--out", work / "out",
         "--rate-limit", "1000000", "--rate-burst", "1000000",
         "--max-connections-per-client", "0"],
        stdout=subprocess.DEVNULL, stderr=log, cwd=ROOT)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise StepFailed("qujat serve did not answer /healthz within 30 s (see logs/serve.stderr)")


def parse_wrk(text):
    """Requests/s, p50 and p99 (ms), requests, non-2xx answers and socket errors from wrk's
    output (run with --latency)."""
    def millis(value, unit):
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    found = {}
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    requests = re.search(r"(\d+) requests in", text)
    if not rps or not requests:
        raise StepFailed(f"cannot read wrk's output:\n{text}")
    found["rps"] = float(rps.group(1))
    found["requests"] = int(requests.group(1))
    for pct in ("50", "99"):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
        found[f"p{pct}_ms"] = round(millis(*m.groups()), 3) if m else None
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    found["non_2xx"] = int(non2xx.group(1)) if non2xx else 0
    errors = re.search(r"Socket errors: (.*)", text)
    found["socket_errors"] = errors.group(1).strip() if errors else "none"
    return found


def wrk(cfg, port, script, urls, seconds):
    command = ["wrk", "-t1", f"-c{cfg['connections']}", f"-d{seconds}s", "--latency",
               "--timeout", "5s", "-s", str(script), f"http://127.0.0.1:{port}", "--", str(urls)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise StepFailed(f"wrk failed ({result.returncode}): {result.stderr}")
    return parse_wrk(result.stdout), result.stdout


def verdicts(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        text = r.read().decode()
    counts = {}
    for name, value in re.findall(r'qujat_serve_verdicts_total\{verdict="(\w+)"\} (\d+)', text):
        counts[name] = int(value)
    return counts


def main():
    os.chdir(ROOT)
    cfg = settings()
    if subprocess.run(["which", "wrk"], capture_output=True).returncode != 0:
        raise StepFailed("wrk is not installed (apt-get install wrk)")
    out = cfg["out"]
    work = out / "work"
    (work / "logs").mkdir(parents=True, exist_ok=True)
    journal = registry_ready(cfg, work)
    records = count_lines(journal)
    progress(f"picking {cfg['urls']} QR addresses at random among {records} records")
    paths = qr_paths(work, cfg["urls"])
    urls = out / "urls.txt"
    urls.write_text("\n".join(paths) + "\n", encoding="utf-8")
    script = out / "qr.lua"
    script.write_text(WRK_SCRIPT, encoding="utf-8")
    port = free_port()
    progress(f"starting qujat serve on 127.0.0.1:{port}")
    server = start_server(cfg, work, port)
    try:
        progress("warm-up run (5 s)")
        wrk(cfg, port, script, urls, 5)
        runs = []
        for i in range(RUNS):
            progress(f"measured run {i + 1} of {RUNS} ({cfg['seconds']} s)")
            before = verdicts(port)
            figures, raw = wrk(cfg, port, script, urls, cfg["seconds"])
            after = verdicts(port)
            figures["verdicts"] = {k: after.get(k, 0) - before.get(k, 0) for k in after}
            (work / "logs" / f"wrk-{i + 1}.txt").write_text(raw, encoding="utf-8")
            runs.append(figures)
    finally:
        server.terminate()
        server.wait(timeout=30)
    runs.sort(key=lambda r: r["rps"])
    median = runs[len(runs) // 2]
    genuine_only = all(r["non_2xx"] == 0 and set(k for k, v in r["verdicts"].items() if v) <= {"genuine"}
                       for r in runs)
    found = [
        check("QR verifications/s (median run)", median["rps"], f">= {TARGET_RPS}",
              median["rps"] >= TARGET_RPS),
        check("p99 latency ms (median run)", median["p99_ms"], f"<= {TARGET_P99_MS}",
              median["p99_ms"] is not None and median["p99_ms"] <= TARGET_P99_MS),
        check("every answer a genuine verdict", genuine_only, "true", genuine_only),
    ]
    facts = {**machine_facts(), **program_facts(cfg["qujat"])}
    table = markdown_table(
        ["run", "requests/s", "requests", "p50 ms", "p99 ms", "non-2xx", "socket errors",
         "verdicts"],
        [[i + 1, r["rps"], r["requests"], r["p50_ms"], r["p99_ms"], r["non_2xx"],
          r["socket_errors"], ", ".join(f"{k} {v}" for k, v in r["verdicts"].items() if v)]
         for i, r in enumerate(runs)])
    markdown = "\n".join([
        f"# qujat serve: QR verifications ({records} records in the media registry)", "",
        facts_list(facts),
        f"- load: wrk -t1 -c{cfg['connections']} -d{cfg['seconds']}s, each request one of "
        f"{len(paths)} QR addresses picked at random; service and load generator on the same "
        f"{facts['nproc']} cores", "",
        table, "", checks_table(found), "",
        "Runs sorted by requests/s; the median run is judged. Latency is wrk's (from sending a "
        "request to reading its answer, coordinated omission not corrected); verdicts are the "
        "service's own count from /metrics over each run."])
    write_results(out, markdown, {"settings": {k: str(v) for k, v in cfg.items()},
                                  "machine": facts, "records": records, "runs": runs,
                                  "checks": found})


if __name__ == "__main__":
    main_guard(main)
