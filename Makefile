# qujat — the two commands of the README, and the rest.
#
# One cargo profile (dev, with optimised dependencies: see Cargo.toml) serves `run` and `test`,
# so a fresh machine compiles the Typst crates once. `build` includes the test targets: their
# dev-dependencies change the features of some shared crates, and building without them would
# make `make test` recompile Typst.

CARGO ?= cargo
QUJAT := target/debug/qujat

.PHONY: run test ci lint fmt build preview clean-run bench bench-registry bench-serve crash fuzz install deb deny

## Build, then run the nightly batch over cases/sample into output/ and registry/.
run: build
	$(QUJAT) batch

build:
	$(CARGO) build --all-targets

## Everything CI checks: formatting, then every test (unit, integration, 3,000-document stress).
## The third-party checkers the tests run (poppler, zbar, LibreOffice, Chromium, pyHanko,
## PostgreSQL) are installed first when missing (tests/deps.sh). The PostgreSQL registry tests run
## against a throwaway cluster that tests/pg.sh starts and stops around them (or the server
## QUJAT_TEST_PG=postgres://… names). cargo-deny (tests/deny.sh, installed if missing: about 4
## CPU-minutes) checks licences, bans and sources, and advisories when the RustSec database can
## be fetched from github.com (else it says loudly that they were not checked).
test:
	@tests/deps.sh
	@if $(CARGO) fmt --version >/dev/null 2>&1; then $(CARGO) fmt --check; \
	 else echo "rustfmt is not installed: skipping the format check"; fi
	@CARGO=$(CARGO) tests/deny.sh
	tests/pg.sh run $(CARGO) test

## Benchmarks (release build; figures in target/bench/results.md; see docs/performance.md).
## N= documents (default 5000), JOBS=, MEMORY=2000,20000 (empty skips the memory runs).
bench:
	$(CARGO) build --release --bins --examples
	python3 -B bench/bench.py

## Registries of SIZES= records (default 10,000, 100,000 and 1,000,000; about 7 GB at the end):
## batches, verify, regenerate, check and export at each (docs/performance.md); then the same
## with the registries in PostgreSQL (a throwaway cluster, or PG_URL=).
bench-registry:
	$(CARGO) build --release --bins --examples
	python3 -B bench/registry.py
	python3 -B bench/registry_pg.py

## `qujat serve` under load: QR verifications/s and p50/p99 latency on the RECORDS= registry
## (default 1,000,000; reused from target/bench-serve if it is there), driven by wrk
## (apt-get install wrk) on the same machine. Figures in target/bench-serve/results.md.
bench-serve:
	$(CARGO) build --release --bins --examples
	python3 -B bench/serve.py

## The crash-safety harness at length: 50 SIGKILL trials, 16 cases of each torn-write test
## (`make test` runs 10 and 3). A failure prints its seed and trial to reproduce it:
## QUJAT_CRASH_SEED=… QUJAT_CRASH_TRIAL=n make crash
CRASH_TRIALS ?= 50
crash:
	QUJAT_CRASH_TRIALS=$(CRASH_TRIALS) $(CARGO) test --test suite crash:: -- --nocapture --test-threads 1

## Fuzz the case readers and the registry readers (see fuzz/README.md): each of FUZZ_TARGETS for
## FUZZ_SECONDS (default 600), one after another, one job. Needs the nightly toolchain; installs
## cargo-fuzz if missing; seeds fuzz/corpus/ on the first run. Findings go to fuzz/artifacts/.
FUZZ_SECONDS ?= 600
FUZZ_TARGETS ?= case_xml case_csv journal
fuzz:
	@$(CARGO) fuzz --version >/dev/null 2>&1 || $(CARGO) install cargo-fuzz --locked
	@test -d fuzz/corpus || sed -n '/^```python seed-corpus$$/,/^```$$/{//!p}' fuzz/README.md | python3 - .
	@cd fuzz && for t in $(FUZZ_TARGETS); do \
		echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
		mkdir -p artifacts/$$t; \
		ASAN_OPTIONS=quarantine_size_mb=0:malloc_context_size=0 RAYON_NUM_THREADS=1 \
		$(CARGO) +nightly fuzz run $$t -- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 \
			-timeout=10 -jobs=1 -print_final_stats=1; rc=$$?; \
		mv -f fuzz-0.log artifacts/$$t/fuzz.log 2>/dev/null; \
		rm -rf $${TMPDIR:-/tmp}/qujat-fuzz-journal-*; \
		[ $$rc -eq 0 ] || { echo "fuzz: $$t found something: see fuzz/artifacts/$$t/"; exit $$rc; }; \
	done

## Lints as well (a second, check-only compile of the dependencies).
ci: test lint

lint:
	$(CARGO) clippy --all-targets -- -D warnings

fmt:
	$(CARGO) fmt

## Compile every template with the stock typst CLI and its sample data (needs `typst` on PATH).
preview:
	@for t in $$(cd templates && find . -name '*.typ' ! -path './lib/*' | sort); do \
		out=output/preview/$${t%.typ}.pdf; mkdir -p $$(dirname $$out); \
		echo "typst compile $$t $$out"; \
		typst compile --root templates --font-path fonts --ignore-system-fonts templates/$$t $$out || exit 1; \
	done

## Install qujat into PREFIX/bin (default ~/.cargo/bin): the catalogue, templates and fonts are
## built into the binary, so it works from any folder (docs/operations.md).
PREFIX ?=
install:
	$(CARGO) install --path . --locked $(if $(PREFIX),--root $(PREFIX))

## The Debian package (target/debian/qujat_VERSION-1_ARCH.deb): a release build, its manual pages
## and shell completions, then cargo-deb (installed if missing) packs them with deploy/.
deb:
	$(CARGO) build --release --locked --bin qujat
	rm -rf target/assets && mkdir -p target/assets/man target/assets/completions
	target/release/qujat man --out target/assets/man
	target/release/qujat completions bash > target/assets/completions/qujat.bash
	target/release/qujat completions zsh > target/assets/completions/_qujat
	target/release/qujat completions fish > target/assets/completions/qujat.fish
	@$(CARGO) deb --version >/dev/null 2>&1 || $(CARGO) install cargo-deb --locked
	$(CARGO) deb --no-build --locked

## Supply chain (deny.toml): security advisories, licences, bans, sources (tests/deny.sh;
## installs cargo-deny if missing). Fails if the RustSec advisory database (github.com) cannot be
## fetched; `make test` then checks the rest and says loudly that advisories were skipped.
deny:
	QUJAT_DENY_ADVISORIES=required tests/deny.sh

## Forget what `make run` issued (output/ and the registries; never do this to a real registry).
clean-run:
	rm -rf output registry/*/ registry/templates
