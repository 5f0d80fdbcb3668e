# reports/: turns test results, coverage and timings into the incident-
# verification report, and holds the gate's limits. Targets: coverage (gcc
# --coverage rebuild in $(BUILD)/coverage, lcov line+branch, genhtml, gcovr
# Cobertura, thresholds), memcheck and sanitize (unit tests and small cases
# under Valgrind / ASan+UBSan), timings (cases and bench against
# reports/baseline.json), baseline (refresh it), verify (the main job) and the
# check-reports step of `make check`. All report logic lives in
# reports/scripts/gcreport.py and the modules beside it (python3, standard
# library only); this file only sequences the tools. See reports/README.md.

REPORTS_PY := python3 reports/scripts/gcreport.py
REPORTS_SRC := $(wildcard reports/scripts/*.py)
REPORTS_DEPS := lcov gcovr valgrind libxml2-utils python3
# The runner; its rule lives in harness/harness.mk. Recipes test whether it can
# be built, so that reports work (with cases marked "not run") before it exists.
GAPCHECK ?= $(BUILD)/gapcheck
REPEAT ?= 5
# Cases small enough for Valgrind (10-50x slower); selected by the runner.
MEMCHECK_CASE_ARGS ?= --filter 'engine.*' --filter 'INC-014.empty-zone*' \
                      --filter 'INC-014.readonly-refused*' --filter 'INC-014.heavy-visible*' \
                      --filter 'history.*'

COV_BUILD := $(BUILD)/coverage
COV_CFLAGS := -O0 -g --coverage -DGC_COVERAGE
# --wrap=_exit: every process that leaves through _exit (the runner's case
# children, the pool's workers) flushes its counters first; see gcov_exit.c.
COV_EXIT_OBJ := $(COV_BUILD)/reports/scripts/gcov_exit.o
# -lm: the runner links no libm and -O0 does not inline floor/ceil (reported).
COV_LDFLAGS := --coverage -Wl,--wrap=_exit $(abspath $(COV_EXIT_OBJ)) -Wl,--no-as-needed -lm
COV_SUB := $(MAKE) --no-print-directory BUILD=$(COV_BUILD) CFLAGS='$(COV_CFLAGS)' \
           LDFLAGS='$(COV_LDFLAGS)'
# Every test step (unit tests, cases through the runner, incident verification,
# fuzz replay) except those that build their own variants (mutate: its own
# fixture), read reports or install. The scratch engines that `gapcheck verify`
# builds inherit these flags, hence the hook's absolute path above; their
# counters live under $(COV_BUILD) too, so only this tree's sources are
# extracted (COV_PATTERNS is anchored at $(CURDIR)).
COV_STEPS = $(foreach s,$(CHECK_STEPS),$(if $(or $(findstring reports,$(s)),$(findstring zero-guard,$(s)),$(findstring install,$(s)),$(findstring mutate,$(s))),,$(s)))
LCOV := lcov --quiet --rc lcov_branch_coverage=1
COV_PATTERNS := '$(CURDIR)/engine/src/*' '$(CURDIR)/harness/case/*' '$(CURDIR)/harness/runner/*'

ASAN_BUILD := $(BUILD)/asan
ASAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
VALGRIND := valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite,indirect \
            --error-exitcode=99 --track-fds=yes
# How make memcheck runs a test binary, and the one scanner of its output (and
# of make sanitize's); make mutate's Valgrind judge uses both as they are.
MEMCHECK_TOOL := env CK_TIMEOUT_MULTIPLIER=10 $(VALGRIND) --log-fd=2
MEMCHECK_SCAN := mk/memcheck-scan.sh

REPORTS_STAMP := $(BUILD)/.deps-reports
$(REPORTS_STAMP): mk/ensure-deps.sh
	@mk/ensure-deps.sh $(REPORTS_DEPS)
	@mkdir -p $(@D) && touch $@

# ---- coverage ---------------------------------------------------------------
coverage: $(REPORTS_STAMP)
	@mkdir -p reports $(COV_BUILD)/check
	@find $(COV_BUILD) -name '*.gcda' -delete
	@rm -f $(COV_BUILD)/check/*.log
	@$(COV_SUB) $(COV_EXIT_OBJ)
	@# Build before the --initial capture, or stale .gcno of an older source
	@# would be merged with the new one's counters (phantom lines).
	@$(COV_SUB) -k all >/dev/null || true
	@$(LCOV) --capture --initial --directory $(COV_BUILD) -o $(COV_BUILD)/base.info 2>/dev/null
	@rc=0; $(COV_SUB) -k $(COV_STEPS) || rc=1; \
	 $(LCOV) --capture --directory $(COV_BUILD) -o $(COV_BUILD)/run.info 2>/dev/null || rc=1; \
	 $(LCOV) -a $(COV_BUILD)/base.info -a $(COV_BUILD)/run.info -o $(COV_BUILD)/all.info 2>/dev/null || rc=1; \
	 $(LCOV) --extract $(COV_BUILD)/all.info $(COV_PATTERNS) -o reports/coverage.info 2>/dev/null || rc=1; \
	 rm -rf reports/coverage; \
	 genhtml --quiet --branch-coverage --rc lcov_branch_coverage=1 --legend \
	   --title 'gapcheck coverage' reports/coverage.info -o reports/coverage 2>/dev/null || rc=1; \
	 gcovr --root . --filter 'engine/src/' --filter 'harness/case/' --filter 'harness/runner/' --exclude-directories '$(COV_BUILD)/(verify|check)/' --xml-pretty \
	   -o reports/coverage.xml $(COV_BUILD) >/dev/null || rc=1; \
	 $(REPORTS_PY) coverage --info reports/coverage.info --thresholds reports/thresholds.json \
	   --out reports/coverage.json || rc=1; \
	 [ "$$rc" = 0 ] || echo "coverage: FAILED (tests failed or below thresholds)" >&2; exit $$rc


# ---- memcheck / sanitize ------------------------------------------------------
# One recipe, two tool chains: Valgrind over the normal build, or the ASan build
# with the tool set to nothing. Both run every unit test binary in fork mode,
# then the small cases; any error fails.
# The anomaly loops run compact under Valgrind and full under ASan+LSan.
# Valgrind runs them 20-50x slower, so Check's timeouts are scaled for it
# (CK_TIMEOUT_MULTIPLIER; the loops forking pool workers need minutes there).
MEMCHECK_TESTS = $(ENGINE_TESTS) $(ANOMALY_TESTS) $(HARNESS_CASE_TESTS) $(HR_TESTS)
define run-memory-tests
	@mkdir -p $(2)/memcheck && rm -f $(2)/memcheck/*.out
	@rc=0; for t in $(subst $(BUILD),$(2),$(MEMCHECK_TESTS)); do \
	  name=$$(basename $$t); echo "$(1): $$t"; \
	  CK_FORK=yes CK_DEFAULT_TIMEOUT=120 HC_CASES_DIR=cases $(3) $$t \
	    > $(2)/memcheck/$$name.out 2>&1 || rc=1; \
	  grep -hE '^[0-9]+%: Checks|^[0-9]+ passed, ' $(2)/memcheck/$$name.out | tail -n 1; \
	  $(MEMCHECK_SCAN) $(2)/memcheck/$$name.out || rc=1; \
	done; \
	if $(4) $(2)/gapcheck >/dev/null 2>&1; then \
	  echo "$(1): small cases through the runner"; \
	  $(3) $(2)/gapcheck run --jobs 1 --timeout 20 --format json --output $(2)/run \
	    $(MEMCHECK_CASE_ARGS) cases > $(2)/memcheck/cases.out 2>&1 || rc=1; \
	  grep -hE '^[0-9]+ passed, ' $(2)/memcheck/cases.out | tail -n 1; $(MEMCHECK_SCAN) $(2)/memcheck/cases.out || rc=1; \
	else echo "$(1): gapcheck runner not buildable yet; cases not run"; fi; \
	[ "$$rc" = 0 ] && echo "$(1): clean" || { echo "$(1): FAILED (see $(2)/memcheck/*.out)" >&2; exit 1; }
endef

memcheck: $(REPORTS_STAMP) $(MEMCHECK_TESTS)
	$(call run-memory-tests,memcheck,$(BUILD),$(MEMCHECK_TOOL),$(MAKE) --no-print-directory)

ASAN_SUB := $(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) CFLAGS='$(ASAN_FLAGS)' \
            LDFLAGS='-fsanitize=address,undefined'
sanitize: $(REPORTS_STAMP)
	@$(ASAN_SUB) $(subst $(BUILD),$(ASAN_BUILD),$(MEMCHECK_TESTS))
	@rm -f $(ASAN_BUILD)/anomaly/record.txt && mkdir -p $(ASAN_BUILD)/anomaly
	$(call run-memory-tests,sanitize,$(ASAN_BUILD),env ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:handle_segv=0 UBSAN_OPTIONS=print_stacktrace=1 GC_ANOMALY=full GC_ANOMALY_RECORD=$(ASAN_BUILD)/anomaly/record.txt,$(ASAN_SUB))
	@$(ANOMALY_RECORD) --record $(ASAN_BUILD)/anomaly/record.txt --mode full \
	  --binary $(subst $(BUILD),$(ASAN_BUILD),$(ANOMALY_TESTS)) \
	  --out $(ASAN_BUILD)/anomaly/anomaly.json

# ---- timings ------------------------------------------------------------------
# Cases repeated for timing, the quick bench, and the comparison with the
# committed baseline. `make baseline` refreshes the baseline from a new run.
timing-inputs: $(BENCH)
	@mkdir -p reports
	@echo "bench: GC_BENCH_QUICK=1 $(BENCH) reports/bench.json"
	@GC_BENCH_QUICK=1 $(BENCH) reports/bench.json > $(BUILD)/bench.out 2>&1 \
	  || { cat $(BUILD)/bench.out; exit 1; }
	@if $(MAKE) --no-print-directory $(GAPCHECK) >/dev/null 2>&1; then \
	   echo "timings: $(GAPCHECK) run --repeat $(REPEAT) --calibrate --output reports/run cases"; \
	   $(GAPCHECK) run --repeat $(REPEAT) --calibrate --format json,junit --output reports/run cases \
	     | tail -n 1 || true; \
	 else echo "timings: gapcheck runner not buildable yet; bench only"; \
	      rm -f reports/run/results.json; fi

timings: $(REPORTS_STAMP) timing-inputs
	$(REPORTS_PY) compare --baseline reports/baseline.json --thresholds reports/thresholds.json \
	  --bench reports/bench.json --results reports/run/results.json --out reports/timing.json

baseline: $(REPORTS_STAMP) timing-inputs
	$(REPORTS_PY) baseline --bench reports/bench.json --results reports/run/results.json \
	  --out reports/baseline.json

# ---- verify: the main job -----------------------------------------------------
# Each stage runs even when an earlier one failed, so that the report shows
# everything; the job fails at the end if any stage or verdict did.
verify: $(REPORTS_STAMP)
	@mkdir -p reports/stages && rm -f reports/stages/*
	@rc=0; \
	 for s in check coverage timings; do \
	   echo "== verify: make $$s"; \
	   if $(MAKE) --no-print-directory $$s > reports/stages/$$s.log 2>&1; \
	   then echo 0 > reports/stages/$$s.rc; else echo 1 > reports/stages/$$s.rc; rc=1; fi; \
	   tail -n 2 reports/stages/$$s.log; \
	 done; \
	 $(REPORTS_PY) verify --root . --build $(BUILD) --stages reports/stages \
	   --results reports/run/results.json --bench reports/bench.json \
	   --coverage reports/coverage.json --timing reports/timing.json \
	   --incidents reports/incidents.json --out reports || rc=1; \
	 exit $$rc

# ---- check-reports: a step of `make check` --------------------------------------
# Renders the report from fixtures (no verify run needed) and checks that the
# page is well-formed, self-contained and that its links resolve.
# Only what the fixture test needs, so make check stays light on a fresh machine.
$(BUILD)/.deps-reports-check: mk/ensure-deps.sh
	@mk/ensure-deps.sh python3 libxml2-utils
	@mkdir -p $(@D) && touch $@

check-reports: $(REPORTS_SRC) $(BUILD)/.deps-reports-check
	@mkdir -p $(BUILD)/check
	@set -o pipefail; python3 reports/tests/test_reports.py --tmp $(BUILD)/reports-test 2>&1 \
	  | tee $(BUILD)/check/reports.log

CHECK_STEPS += check-reports
.PHONY: coverage memcheck sanitize timing-inputs timings baseline verify check-reports

# The page as a browser renders it (headless Chromium, Debian's package):
# verdicts, plots and coverage must be on the rendered DOM. After make verify.
verify-browser:
	@mk/ensure-deps.sh chromium
	reports/scripts/browser-check.sh reports/index.html reports/verify.json
.PHONY: verify-browser
