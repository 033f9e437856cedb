"""What bench.py and registry.py share: running a program while measuring it, and reporting.

Standard library only. A child's wall time is `time.perf_counter` around its whole life, and its
peak resident memory is the `ru_maxrss` that `os.wait4` returns for it (KiB on Linux; for a
program that starts children of its own, the largest of them all, not their sum), and its CPU time
the `ru_utime + ru_stime` it returns.
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


class StepFailed(Exception):
    """A step of the benchmark broke: the figures after it would mean nothing."""


@dataclass
class Run:
    """One finished child process: how it ended, how long it took, how much memory it held."""

    command: list
    code: int
    seconds: float
    # User plus system CPU time (os.wait4): against `seconds`, how many cores it kept busy.
    cpu_seconds: float
    peak_rss_kib: int
    stdout: str
    stderr: str

    @property
    def peak_rss_mb(self):
        return self.peak_rss_kib / 1024


def progress(message):
    """One progress line on stderr, so stdout carries only the report."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def fresh_dir(path):
    """`path`, emptied: what a previous run left there would change the figures."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def run(command, logs, name, ok=(0,)):
    """Runs `command`, measured, with its output kept in `logs/name.stdout` and `.stderr`.

    Files rather than pipes: the child can write any amount without our reading it, and the logs
    stay for a look afterwards. Raises StepFailed if the program is missing or its exit code is
    not in `ok`, with the end of its stderr in the message.
    """
    command = [str(part) for part in command]
    out_path, err_path = logs / f"{name}.stdout", logs / f"{name}.stderr"
    logs.mkdir(parents=True, exist_ok=True)
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.perf_counter()
        try:
            child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        except OSError as error:
            raise StepFailed(f"cannot start {command[0]}: {error}") from error
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
    child.returncode = code = os.waitstatus_to_exitcode(status)
    result = Run(command, code, seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss,
                 out_path.read_text(errors="replace"), err_path.read_text(errors="replace"))
    if code not in ok:
        raise StepFailed(f"{' '.join(command)}\nexited with {code}; stderr ({err_path}):\n"
                         + tail(result.stderr))
    return result


def tail(text, lines=30):
    """The last lines of a program's output, for error messages."""
    return "\n".join(text.rstrip().splitlines()[-lines:])


def last_json_line(run_result, what):
    """The JSON object a program printed as its last stdout line (the tools' machine output)."""
    lines = run_result.stdout.strip().splitlines()
    try:
        value = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError) as error:
        raise StepFailed(f"{what}: expected a JSON line last on stdout, got:\n"
                         + tail(run_result.stdout)) from error
    if not isinstance(value, dict):
        raise StepFailed(f"{what}: the last stdout line is not a JSON object")
    return value


def repeat(times, command, logs, name, ok=(0,)):
    """Runs `command` `times` times; returns the runs, for best and median."""
    return [run(command, logs, f"{name}-{i + 1}", ok) for i in range(times)]


def best_and_median(seconds):
    """The fastest and the median of several timings of one thing."""
    return min(seconds), statistics.median(seconds)


def check(name, value, target, passed):
    """One target of the report: what was measured, what it should be, PASS or FAIL."""
    return {"check": name, "value": value, "target": target,
            "result": None if passed is None else ("PASS" if passed else "FAIL")}


def markdown_table(headers, rows):
    """A markdown table; cells are printed as given."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def checks_table(checks):
    """The targets as a markdown table."""
    return markdown_table(
        ["check", "value", "target", "result"],
        [[c["check"], c["value"], c["target"], c["result"] or "—"] for c in checks])


def machine_facts():
    """What the figures depend on: CPUs available, CPU model, memory, and when it ran."""
    cpu = "unknown"
    memory_kib = 0
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                memory_kib = int(line.split()[1])
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "memory_gb": round(memory_kib / 1024 / 1024, 1),
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def program_facts(qujat):
    """The qujat version (`--version`) and the git commit, if `git rev-parse HEAD` works here."""
    version = subprocess.run([qujat, "--version"], capture_output=True, text=True)
    facts = {"qujat": version.stdout.strip() or f"unknown (exit {version.returncode})"}
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True)
        facts["commit"] = commit.stdout.strip() if commit.returncode == 0 else None
    except OSError:
        facts["commit"] = None
    return facts


def facts_list(facts):
    """Machine and program facts as a markdown list."""
    return "\n".join(f"- {key}: {value}" for key, value in facts.items() if value is not None)


def write_results(out_dir, markdown, data):
    """Prints the report and writes it as OUT/results.md and OUT/results.json."""
    print(markdown)
    (out_dir / "results.md").write_text(markdown + "\n", encoding="utf-8")
    (out_dir / "results.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n",
                                          encoding="utf-8")
    progress(f"wrote {out_dir / 'results.md'} and {out_dir / 'results.json'}")


def env_path(name, default):
    """A path from the environment, or the default (relative to the repository root)."""
    return Path(os.environ.get(name) or default)


def env_int(name, default):
    """A positive integer from the environment, or the default."""
    text = os.environ.get(name) or str(default)
    try:
        value = int(text)
    except ValueError:
        raise StepFailed(f"{name}={text!r} is not a number") from None
    if value < 1:
        raise StepFailed(f"{name} must be at least 1")
    return value


def main_guard(main):
    """Runs a benchmark's main; a broken step ends it with its message and exit code 1."""
    try:
        main()
    except StepFailed as error:
        progress(f"FAILED: {error}")
        sys.exit(1)
