"""The peer: what a team would build instead of qujat, with the Python binding of the same engine.

    python3 bench/peer.py --manifest DIR/manifest.json --fonts FONTS_DIR --processes P

It renders the documents a manifest lists (written by `bench_render --export`) with typst-py
(`pip install typst==0.15.2`, which bundles Typst 0.15.1, the engine qujat embeds) and prints one
JSON line:

    {"documents": N, "seconds": S, "processes": P, "bytes": B, "typst_py": "0.15.2",
     "peak_rss_kib_sum": K}

`seconds` is the wall time from the start of `main` to the last worker's end, so it includes
starting the worker processes, importing the binding there and loading the fonts.
`peak_rss_kib_sum` adds the peak resident memory of this process and of every worker: P
processes need P copies of the engine, the fonts and the caches, which one figure of the
largest process would hide.

How it renders, as a team following typst-py's documentation would:
- document i goes to worker process i % P (multiprocessing, "spawn": fresh interpreters, so no
  engine state is inherited across a fork);
- each worker creates one `typst.Compiler` per template main file, rooted at the manifest's root,
  with the fonts folder only, and reuses it for all its documents of that template;
- each document is one `Compiler.compile` call with that document's `sys_inputs` (the binding
  takes them per call, replacing the ones of the previous call), PDF/A-2b as qujat writes, and a
  fixed creation timestamp so that, like qujat's, the output does not depend on the clock;
- the PDF bytes are only counted, never written.
Any failed compile stops the run: the message names the document, and the exit code is 1.
"""

import argparse
import datetime
import importlib.metadata
import json
import multiprocessing
import os
import resource
import sys
import time

import typst

PDF_STANDARD = "a-2b"
# The run date `bench.py` gives qujat (--today), at midnight UTC, as qujat stamps its PDFs.
TIMESTAMP = datetime.datetime(2026, 11, 25, tzinfo=datetime.timezone.utc)


def parse_args():
    """The command line: the manifest, the fonts folder and the number of worker processes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", required=True,
                        help="manifest.json from bench_render --export")
    parser.add_argument("--fonts", required=True,
                        help="the fonts folder (no system fonts are used)")
    parser.add_argument("--processes", type=int, default=1, help="worker processes (default 1)")
    args = parser.parse_args()
    if args.processes < 1:
        parser.error("--processes must be at least 1")
    return args


def load_manifest(path):
    """The manifest's root folder and its documents, each {template, data, qr} (root-absolute)."""
    with open(path, encoding="utf-8") as f:
        manifest = json.load(f)
    return manifest["root"], manifest["documents"]


def render_share(root, fonts, share, conn):
    """Worker: renders its (index, document) pairs and sends back what it made, or the failure.

    Sends ("ok", documents, bytes, peak RSS KiB) or ("error", message).
    """
    compilers = {}
    total = 0
    for index, doc in share:
        try:
            compiler = compilers.get(doc["template"])
            if compiler is None:
                compiler = typst.Compiler(
                    input=os.path.join(root, doc["template"].lstrip("/")),
                    root=root,
                    font_paths=[fonts],
                    ignore_system_fonts=True,
                )
                compilers[doc["template"]] = compiler
            pdf = compiler.compile(
                format="pdf",
                sys_inputs={"data": doc["data"], "qr": doc["qr"]},
                pdf_standards=PDF_STANDARD,
                timestamp=TIMESTAMP,
            )
        except Exception as error:  # the binding raises TypstError, and others for I/O
            where = f"document {index} ({doc['template']}, data {doc['data']})"
            conn.send(("error", f"{where}: {error}"))
            return
        total += len(pdf)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    conn.send(("ok", len(share), total, peak))


def render_all(root, fonts, documents, processes):
    """Starts the workers, document i to worker i % P, and sums their (documents, bytes, KiB).

    Exits with a message if a worker reports a failure or dies without reporting.
    """
    context = multiprocessing.get_context("spawn")
    workers = []
    for p in range(processes):
        share = [(i, documents[i]) for i in range(p, len(documents), processes)]
        receiver, sender = context.Pipe(duplex=False)
        worker = context.Process(target=render_share, args=(root, fonts, share, sender))
        worker.start()
        sender.close()
        workers.append((worker, receiver))
    done, size, rss = 0, 0, 0
    failures = []
    for p, (worker, receiver) in enumerate(workers):
        try:
            reply = receiver.recv()
        except EOFError:
            reply = ("error", f"worker {p} died without reporting")
        worker.join()
        if reply[0] == "error":
            failures.append(reply[1])
        else:
            done, size, rss = done + reply[1], size + reply[2], rss + reply[3]
    if failures:
        sys.exit("peer: " + "\npeer: ".join(failures))
    return done, size, rss


def main():
    started = time.perf_counter()
    args = parse_args()
    root, documents = load_manifest(args.manifest)
    fonts = os.path.abspath(args.fonts)
    done, size, rss = render_all(root, fonts, documents, args.processes)
    seconds = time.perf_counter() - started
    rss += resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "documents": done,
        "seconds": round(seconds, 3),
        "processes": args.processes,
        "bytes": size,
        "typst_py": importlib.metadata.version("typst"),
        "peak_rss_kib_sum": rss,
    }))


if __name__ == "__main__":
    main()
