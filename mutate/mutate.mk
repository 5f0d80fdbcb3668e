# mutate/: mutation testing. `make mutate` changes the engine in small ways,
# one at a time (mutation points found with libclang on the lines the suite
# executes), rebuilds one object in a scratch tree, runs the tests that cover
# the line first, and writes reports/mutation.json (the
# mutation-testing-report-schema), reports/mutation-summary.json and the
# survivors page reports/mutation.{md,html}. See mutate/README.md.
#   MUTATE_FILES   globs of the files to mutate (default engine/src/*.c)
#   MUTATE_JOBS    mutants built and tested at once (default 2)
#   MUTATE_SHARD   I/N: only shard I of N (CI matrices; merge with mutate-merge)
#   MUTATE_BUDGET  seconds of the whole campaign, set-up included; no mutant
#                  starts that would end after it (0 = no limit)
#   MUTATE_SEED    order of the sample (seeded shuffle, files interleaved)
#   MUTATE_MAX     at most N mutants (0 = every covered point)
#   MUTATE_FRESH=1 ignore the result cache in $(BUILD)/mutate/cache.jsonl
#   MUTATE_PRIORITY=incidents  points in the functions incidents touched first
#   MUTATE_SAME_AS an earlier mutation.json: judge its mutants again (before/after)
#   MUTATE_REJUDGE=survivors  with MUTATE_SAME_AS: only its survivors and
#                  equivalents; the others' results are carried over (a whole
#                  report, cheaply); =survived: only its survivors (equivalents
#                  still listed are carried too)
#   MUTATE_SANITIZER=0  no sanitizer judge (survivors rebuilt with ASan+UBSan)
#   MUTATE_VALGRIND=0   no Valgrind judge (survivors' fastest covering unit test
#                  case under make memcheck's Valgrind command; memory judges
#                  are rows of profile.json, scanned by $(MEMCHECK_SCAN))
#   MUTATE_IDS     exactly these mutant ids (e.g. survivors, after new tests)
#   MUTATE_FUNCTIONS  only these functions' covered points (file:function ...)
#   MUTATE_TESTS=all  a survivor of its covering tests runs every other test too
#                  (default covering: only tests that executed the line judge it)

MUTATE_FILES ?= engine/src/*.c
MUTATE_JOBS ?= 2
MUTATE_SHARD ?=
MUTATE_BUDGET ?= 0
MUTATE_SEED ?= 1
MUTATE_MAX ?= 0
MUTATE_FRESH ?=
MUTATE_PRIORITY ?= none
MUTATE_SAME_AS ?=
MUTATE_REJUDGE ?= all
MUTATE_SANITIZER ?= 1
MUTATE_VALGRIND ?= 1
MUTATE_IDS ?=
MUTATE_FUNCTIONS ?=
MUTATE_TESTS ?= covering
# make sanitize's link flags (reports.mk's ASAN_SUB), as one word for $(if).
MUTATE_SAN_LDFLAGS := -fsanitize=address,undefined
MUTATE_JSON ?= reports/mutation.json
MUTATE_WORK := $(BUILD)/mutate
# Debian's interpreter: python3-clang and python3-jsonschema live there.
MUTATE_PY := /usr/bin/python3 mutate/mutate.py
MUTATE_DEPS := python3 python3-clang python3-jsonschema gcc make pkg-config check valgrind

$(BUILD)/.deps-mutate: mk/ensure-deps.sh
	@mk/ensure-deps.sh $(MUTATE_DEPS)
	@mkdir -p $(@D) && touch $@

# The suites' binaries and the coverage build's flags come from the parts
# that own them (engine.mk, harness.mk, reports.mk); {build} is whichever
# build directory mutate builds in.
MUTATE_ARGS = --build $(BUILD) --work $(MUTATE_WORK) --json $(MUTATE_JSON) \
  --files $(foreach g,$(MUTATE_FILES),'$(g)') --jobs $(MUTATE_JOBS) \
  $(if $(MUTATE_SHARD),--shard $(MUTATE_SHARD)) --budget $(MUTATE_BUDGET) \
  --seed $(MUTATE_SEED) --max $(MUTATE_MAX) $(if $(MUTATE_FRESH),--fresh) \
  --suite-binary 'engine=$(ENGINE_TESTS:$(BUILD)/%={build}/%)' \
  --suite-binary 'harness=$(HARNESS_CASE_TESTS:$(BUILD)/%={build}/%)' \
  --suite-binary 'anomaly=$(ANOMALY_TESTS:$(BUILD)/%={build}/%)' \
  --priority $(MUTATE_PRIORITY) $(if $(MUTATE_SAME_AS),--same-as '$(MUTATE_SAME_AS)' --rejudge $(MUTATE_REJUDGE)) \
  $(if $(MUTATE_IDS),--ids $(MUTATE_IDS)) $(if $(MUTATE_FUNCTIONS),--functions $(MUTATE_FUNCTIONS)) \
  --tests $(MUTATE_TESTS) \
  $(if $(filter 1,$(MUTATE_SANITIZER)),--judge-var 'sanitizer:CFLAGS=$(ASAN_FLAGS)' \
    --judge-var 'sanitizer:LDFLAGS=$(MUTATE_SAN_LDFLAGS)',--no-judge sanitizer) \
  $(if $(filter 1,$(MUTATE_VALGRIND)),--judge-wrapper 'valgrind=$(MEMCHECK_TOOL)',--no-judge valgrind) \
  --memory-scan $(MEMCHECK_SCAN) \
  --suite-binary 'case=$(GAPCHECK:$(BUILD)/%={build}/%)' \
  --cov-var 'CFLAGS=$(COV_CFLAGS)' \
  --cov-var 'LDFLAGS=$(subst $(COV_BUILD),{build},$(COV_LDFLAGS))' \
  --cov-prebuild '$(subst $(COV_BUILD),{build},$(COV_EXIT_OBJ))'

mutate: $(BUILD)/.deps-mutate $(DEPS_STAMP) $(ENGINE_TESTS) $(HARNESS_CASE_TESTS) $(ANOMALY_TESTS) $(GAPCHECK)
	@mkdir -p $(dir $(MUTATE_JSON))
	$(MUTATE_PY) run $(MUTATE_ARGS) --command "make mutate MUTATE_FILES='$(MUTATE_FILES)' \
	  MUTATE_JOBS=$(MUTATE_JOBS) MUTATE_SEED=$(MUTATE_SEED) MUTATE_MAX=$(MUTATE_MAX) \
	  MUTATE_BUDGET=$(MUTATE_BUDGET)$(if $(MUTATE_SHARD), MUTATE_SHARD=$(MUTATE_SHARD))\
	  $(if $(filter-out none,$(MUTATE_PRIORITY)), MUTATE_PRIORITY=$(MUTATE_PRIORITY))\
	  $(if $(MUTATE_SAME_AS), MUTATE_SAME_AS=$(MUTATE_SAME_AS) MUTATE_REJUDGE=$(MUTATE_REJUDGE))$(if $(MUTATE_IDS), MUTATE_IDS='$(MUTATE_IDS)')$(if $(MUTATE_FUNCTIONS), MUTATE_FUNCTIONS='$(MUTATE_FUNCTIONS)')\
	  $(if $(filter 1,$(MUTATE_SANITIZER)),, MUTATE_SANITIZER=$(MUTATE_SANITIZER))\
	  $(if $(filter 1,$(MUTATE_VALGRIND)),, MUTATE_VALGRIND=$(MUTATE_VALGRIND))\
	  $(if $(filter all,$(MUTATE_TESTS)), MUTATE_TESTS=all)"

# CI: the shards' mutation.json files -> one report, summary and pages.
MUTATE_INPUTS ?= $(sort $(wildcard reports/mutation-shard-*/mutation.json))
mutate-merge: $(BUILD)/.deps-mutate
	$(MUTATE_PY) merge --json $(MUTATE_JSON) $(MUTATE_INPUTS)

# make check: the machinery's checks and a smoke run on a small fixture
# (mutate/tests/fixture: one killed, equivalent, survived, not built and
# timed-out mutant each, and one each only the sanitizer or only the Valgrind
# judge kills, with make memcheck's command and scanner).
check-mutate: $(BUILD)/.deps-mutate $(DEPS_STAMP)
	@mkdir -p $(BUILD)/check
	@set -o pipefail; /usr/bin/python3 mutate/tests/test_mutate.py --tmp $(BUILD)/mutate-test \
	  --valgrind '$(MEMCHECK_TOOL)' --memory-scan $(MEMCHECK_SCAN) \
	  2>&1 | tee $(BUILD)/check/mutate.log

CHECK_STEPS += check-mutate
.PHONY: mutate mutate-merge check-mutate
