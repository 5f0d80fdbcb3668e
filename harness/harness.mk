# harness/: two modules, each a folder with its tests mirrored under
# harness/tests/: the case module (harness/case/, hc_*: parse a case file,
# run it once on the engine, judge it) and the runner (harness/runner/, hr_*:
# the gapcheck binary: discover, isolate, repeat, report). The runner sees a
# case only through harness/case/case.h. The Check runner both test binaries
# share is testkit/runner.c.

# --- case module (hc_*: harness/case/), owned by the case module -------------
# HC_OBJ and HC_LIBS are what any binary using the case module links (the
# gapcheck runner included): the objects, then inih. HC_PARSE_SRC is the
# parser alone (what the case_parse fuzz target links).
HC_PARSE_SRC := $(addprefix harness/case/,parse.c keys.c syntax.c probe.c metrics.c)
HC_SRC := $(HC_PARSE_SRC) harness/case/exec.c harness/case/histcheck.c
HC_OBJ := $(HC_SRC:%.c=$(BUILD)/%.o)
HC_LIBS := -linih
TESTKIT_OBJ := $(BUILD)/testkit/runner.o

# case_tests: every suite listed in harness/tests/case/suites.h.
HARNESS_CASE_TEST_SRC := $(sort $(wildcard harness/tests/case/*.c))
HARNESS_CASE_TEST_OBJ := $(HARNESS_CASE_TEST_SRC:%.c=$(BUILD)/%.o)
HARNESS_CASE_TESTS := $(BUILD)/harness/tests/case/case_tests

$(HARNESS_CASE_TEST_OBJ): ALL_CFLAGS += $(CHECK_CFLAGS) -Iharness/case -Itestkit
$(HARNESS_CASE_TESTS): $(HARNESS_CASE_TEST_OBJ) $(TESTKIT_OBJ) $(HC_OBJ) $(BUILD)/libgapcheck.a
	$(CC) $(ALL_LDFLAGS) -o $@ $(HARNESS_CASE_TEST_OBJ) $(TESTKIT_OBJ) \
	  $(HC_OBJ) $(BUILD)/libgapcheck.a $(HC_LIBS) $(CHECK_LIBS)

ALL_TARGETS += $(HARNESS_CASE_TESTS)

# Fork mode: a test that crashes is one error, not the end of the run. The
# shipped cases are parsed from the source tree (HC_CASES_DIR).
check-harness: $(HARNESS_CASE_TESTS)
	@mkdir -p $(BUILD)/check
	@set -o pipefail; CK_FORK=yes HC_CASES_DIR=cases $(HARNESS_CASE_TESTS) 2>&1 \
	  | tee $(BUILD)/check/harness.log

CHECK_STEPS += check-harness
.PHONY: check-harness

# After adding a row to a table (case key, requirement, metric, built-in):
# rewrite the generated blocks of cases/README.md from the tables.
readme-blocks: $(HARNESS_CASE_TESTS)
	CK_FORK=yes CK_RUN_SUITE=case_grammar HC_README_WRITE=1 HC_CASES_DIR=cases $(HARNESS_CASE_TESTS)
.PHONY: readme-blocks

# --- runner (the gapcheck binary, hr_*: harness/runner/), owned by the runner.
HR_SRC := $(sort $(wildcard harness/runner/*.c))
HR_OBJ := $(HR_SRC:%.c=$(BUILD)/%.o)
HR_LIB_OBJ := $(filter-out $(BUILD)/harness/runner/main.o,$(HR_OBJ))
HR_LIBS := -ljansson -lm
GAPCHECK := $(BUILD)/gapcheck

$(HR_OBJ): ALL_CFLAGS += -DHR_VERSION='"$(VERSION)"' -Iharness/case

$(GAPCHECK): $(HR_OBJ) $(HC_OBJ) $(BUILD)/libgapcheck.a
	$(CC) $(ALL_LDFLAGS) -o $@ $(HR_OBJ) $(HC_OBJ) $(BUILD)/libgapcheck.a $(HC_LIBS) $(HR_LIBS)

# runner_tests: the runner's own Check suites (harness/tests/runner/; a
# separate binary, so the case module's case_tests stays theirs).
HR_TEST_SRC := $(sort $(wildcard harness/tests/runner/*.c))
HR_TEST_OBJ := $(HR_TEST_SRC:%.c=$(BUILD)/%.o)
HR_TESTS := $(BUILD)/harness/tests/runner/runner_tests

$(HR_TEST_OBJ): ALL_CFLAGS += $(CHECK_CFLAGS) -Iharness/runner -Iharness/case -Itestkit
$(HR_TESTS): $(HR_TEST_OBJ) $(TESTKIT_OBJ) $(HR_LIB_OBJ) $(HC_OBJ) $(BUILD)/libgapcheck.a
	$(CC) $(ALL_LDFLAGS) -o $@ $(HR_TEST_OBJ) $(TESTKIT_OBJ) $(HR_LIB_OBJ) \
	  $(HC_OBJ) $(BUILD)/libgapcheck.a $(HC_LIBS) $(HR_LIBS) $(CHECK_LIBS)

ALL_TARGETS += $(GAPCHECK) $(HR_TESTS)

# What the runner's checks use besides the build: xmllint (JUnit XSD check)
# prove (TAP consumer) and python3 (reads results.json in the e2e test).
HR_DEPS := libinih-dev libjansson-dev libxml2-utils perl python3
$(BUILD)/.deps-runner: mk/ensure-deps.sh
	@mk/ensure-deps.sh $(HR_DEPS)
	@mkdir -p $(@D) && touch $@

# Unit suites (fork mode), then the end-to-end script on fixture cases (its
# own "N passed, N failed" line; gapcheck's output goes to its own files).
check-runner: $(HR_TESTS) $(GAPCHECK) $(BUILD)/.deps-runner
	@mkdir -p $(BUILD)/check
	@set -o pipefail; { CK_FORK=yes $(HR_TESTS) 2>&1 && \
	  harness/tests/runner/e2e.sh $(GAPCHECK) $(BUILD)/check/runner-e2e 2>&1; } \
	  | tee $(BUILD)/check/runner.log

# Every shipped case, through the real binary.
check-cases: $(GAPCHECK)
	@mkdir -p $(BUILD)/check
	@set -o pipefail; $(GAPCHECK) run cases --output $(BUILD)/check/cases-run 2>&1 \
	  | tee $(BUILD)/check/cases.log

CHECK_STEPS += check-runner check-cases
.PHONY: check-runner check-cases

# --- incident verification (runner): `gapcheck verify` decides, once, every
# incident's verdict (cases/INC-XXX/, found by folder): the fix holds, the
# re-injected bug is caught in every mode it affects (engine copy and build
# under $(BUILD)/verify/INC-XXX/, started from this build's objects), the
# claims are measured and hold. Verdict files: $(BUILD)/verify/INC-XXX.json,
# which the reports render. verify-e2e.sh tests the command itself on the
# fixture incidents (a case that cannot fail, a patch that no longer applies).
HC_VERIFY_DEPS := patch
$(BUILD)/.deps-case: mk/ensure-deps.sh
	@mk/ensure-deps.sh $(HC_VERIFY_DEPS)
	@mkdir -p $(@D) && touch $@

# --also cases/history: the history cases (cases/history/, a checker told no
# bug) run against every re-injected engine too, each built once anyway; the
# verdicts record whether they caught it (about 1 s more in all).
# check-history-caught then requires it for the incidents whose
# reinject.patch says `History: caught` (the commit-path ones). Each of them
# but INC-011 fails a history case with an anomaly named; INC-011's (the
# wire's default configuration, process mode) leaves the history consistent
# and fails history.lax-reads[process] by its refused lax reads.
check-verify: $(GAPCHECK) $(BUILD)/.deps-case
	@mkdir -p $(BUILD)/check
	@set -o pipefail; $(GAPCHECK) verify --build $(BUILD) --output $(BUILD)/verify \
	  --also cases/history 2>&1 | tee $(BUILD)/check/verify.log

check-history-caught: check-verify $(BUILD)/.deps-runner
	@set -o pipefail; harness/tests/runner/history-caught.sh $(BUILD)/verify \
	  cases 2>&1 | tee $(BUILD)/check/history-caught.log

check-verify-e2e: $(GAPCHECK) $(BUILD)/.deps-case $(BUILD)/.deps-runner
	@mkdir -p $(BUILD)/check
	@set -o pipefail; harness/tests/runner/verify-e2e.sh $(GAPCHECK) $(BUILD) \
	  $(BUILD)/check/verify-e2e 2>&1 | tee $(BUILD)/check/verify-e2e.log

CHECK_STEPS += check-verify check-verify-e2e check-history-caught
.PHONY: check-verify check-verify-e2e check-history-caught

# make soak: the load-tagged cases (the 10,000-dispatch soak, concurrent
# callers), each repeated SOAK_REPEAT times, with min/median/max timings.
# Then soak-history: the longer history cases of soak/history/ (64 tasks,
# 1200 rounds, strict commit with alternating modes, a one-key contention
# window; both modes; every round's history checked), SOAK_HISTORY_PASSES
# passes with a new seed each, a line per case and per pass. About 3 to 4
# minutes on 2 shared cores; not part of make check.
SOAK_REPEAT ?= 10
SOAK_HISTORY_PASSES ?= 6
soak: $(GAPCHECK)
	$(GAPCHECK) run cases --tag load --repeat $(SOAK_REPEAT) --output $(BUILD)/soak
	@$(MAKE) --no-print-directory soak-history

soak-history: $(GAPCHECK)
	@start=$$(date +%s); for i in $$(seq 1 $(SOAK_HISTORY_PASSES)); do \
	  echo "soak-history: pass $$i of $(SOAK_HISTORY_PASSES) (seed $$i)"; \
	  $(GAPCHECK) run soak/history --seed $$i --output $(BUILD)/soak-history/pass-$$i \
	    || { echo "soak-history: pass $$i FAILED (results: $(BUILD)/soak-history/pass-$$i)"; \
	         exit 1; }; \
	  echo "soak-history: pass $$i of $(SOAK_HISTORY_PASSES) passed, $$(( $$(date +%s) - start )) s elapsed"; \
	done
.PHONY: soak soak-history
