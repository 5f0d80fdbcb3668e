# fuzz/: the fuzz targets of context construction (see fuzz/README.md).
# Each target (fuzz/TARGET.c, one LLVMFuzzerTestOneInput) is built five
# ways from the same source, each with every engine source compiled by the
# matching compiler into its own tree (instrumentation and sanitizers must
# cover the engine, so the plain library objects are never reused):
#   $(BUILD)/fuzz/afl/TARGET        afl-clang-fast -fsanitize=fuzzer, ASan+UBSan
#                                   (AFL++ persistent mode through its driver)
#   $(BUILD)/fuzz/afl-fast/TARGET   the same without sanitizers (main job)
#   $(BUILD)/fuzz/afl-cmplog/TARGET the same with AFL_LLVM_CMPLOG (afl-fuzz -c)
#   $(BUILD)/fuzz/libfuzzer/TARGET  clang -fsanitize=fuzzer,address,undefined
#   $(BUILD)/fuzz/replay/TARGET     gcc ASan+UBSan + fuzz/replay_main.c
# Only the replay build is part of `make check` (check-fuzz-replay): gcc only,
# seconds. Campaigns: make fuzz | fuzz-libfuzzer FUZZ_TARGET= FUZZ_SECONDS=
# FUZZ_JOBS=; crashes: make fuzz-triage FUZZ_TARGET=.

# The one list of fuzz targets. A target is fuzz/NAME.c (one
# LLVMFuzzerTestOneInput), its seeds fuzz/corpus/NAME/, its dictionary
# fuzz/dict/NAME.dict and its name here; FUZZ_SRC_NAME, FUZZ_LIBS_NAME and
# FUZZ_INPUTS_NAME (DIR:GLOB) add sources, libraries and the files under DIR
# matching GLOB, replayed and seeded too. Scripts ask make for the list (fuzz-info), they
# keep none of their own.
FUZZ_TARGETS := context_decode context_factory case_parse writeset_decode
FUZZ_SRC_case_parse = $(HC_PARSE_SRC)
FUZZ_LIBS_case_parse = $(if $(HC_LIBS),$(HC_LIBS),-linih) -lm
FUZZ_INPUTS_case_parse := cases:*.case
# A target file left out of the list would never be built, replayed or
# fuzzed: refuse to go on.
FUZZ_TARGET_FILES := $(basename $(notdir $(shell grep -l '^int LLVMFuzzerTestOneInput' fuzz/*.c)))
$(if $(filter-out $(FUZZ_TARGETS),$(FUZZ_TARGET_FILES)),$(error fuzz/fuzz.mk: \
  $(filter-out $(FUZZ_TARGETS),$(FUZZ_TARGET_FILES)) define LLVMFuzzerTestOneInput but are not in FUZZ_TARGETS))
FUZZ_TARGET ?= context_decode
FUZZ_SECONDS ?= 60
FUZZ_JOBS ?= 1
FUZZ_AFL_CC ?= afl-clang-fast
FUZZ_CLANG ?= clang
FUZZ_GCC ?= gcc
FUZZ_DEPS := afl++ clang
FUZZ_DEPS_STAMP := $(BUILD)/.deps-fuzz

# Sources every target links, then each target's own (case_parse: only the
# parser, HC_PARSE_SRC, of the case module; its executor is not needed).
FUZZ_COMMON_SRC := $(ENGINE_SRC) fuzz/fz.c
fuzz_srcs = $(FUZZ_COMMON_SRC) fuzz/$(1).c $(FUZZ_SRC_$(1))
fuzz_libs = $(FUZZ_LIBS_$(1))
fuzz_objs = $(patsubst %.c,$(2)/%.o,$(call fuzz_srcs,$(1)))

FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CPPFLAGS := -D_GNU_SOURCE -Iengine/include -Iengine/src -Iharness/case -Ifuzz
FUZZ_CFLAGS ?= -O2 -g
FUZZ_ALL_CFLAGS = $(FUZZ_CPPFLAGS) -std=c11 $(GC_WARN) -pthread $(FUZZ_CFLAGS) $(FUZZ_SAN)

FUZZ_AFL_DIR := $(BUILD)/fuzz/afl
# AFL++'s own convention for speed: the main job (-M) runs a build without
# sanitizers, the secondaries (-S) the ASan+UBSan build above; they share one
# queue, so what the fast main finds the sanitized secondaries execute too.
FUZZ_AFLF_DIR := $(BUILD)/fuzz/afl-fast
# The first secondary also gets a CMPLOG build (afl-fuzz -c): AFL++ runs it
# to log the operands of comparisons (input-to-state: magic numbers, lengths
# and names that must match across the header, manifest and message) and
# puts them into inputs. Without sanitizers, like the main job's build.
FUZZ_AFLC_DIR := $(BUILD)/fuzz/afl-cmplog
FUZZ_FAST_CFLAGS = $(FUZZ_CPPFLAGS) -std=c11 $(GC_WARN) -pthread $(FUZZ_CFLAGS)
FUZZ_LF_DIR := $(BUILD)/fuzz/libfuzzer
FUZZ_RP_DIR := $(BUILD)/fuzz/replay

$(FUZZ_DEPS_STAMP): mk/ensure-deps.sh
	@mk/ensure-deps.sh $(FUZZ_DEPS)
	@mkdir -p $(@D) && touch $@

# AFL_QUIET: afl-cc prints a banner per file otherwise.
$(FUZZ_AFL_DIR)/%.o: %.c | $(FUZZ_DEPS_STAMP)
	@mkdir -p $(@D)
	AFL_QUIET=1 $(FUZZ_AFL_CC) $(FUZZ_ALL_CFLAGS) -MMD -MP -c $< -o $@

$(FUZZ_AFLF_DIR)/%.o: %.c | $(FUZZ_DEPS_STAMP)
	@mkdir -p $(@D)
	AFL_QUIET=1 $(FUZZ_AFL_CC) $(FUZZ_FAST_CFLAGS) -MMD -MP -c $< -o $@

$(FUZZ_AFLC_DIR)/%.o: %.c | $(FUZZ_DEPS_STAMP)
	@mkdir -p $(@D)
	AFL_QUIET=1 AFL_LLVM_CMPLOG=1 $(FUZZ_AFL_CC) $(FUZZ_FAST_CFLAGS) -MMD -MP -c $< -o $@

$(FUZZ_LF_DIR)/%.o: %.c | $(FUZZ_DEPS_STAMP)
	@mkdir -p $(@D)
	$(FUZZ_CLANG) $(FUZZ_ALL_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

# The targets' plumbing (fz.c: descriptor caches) gets no coverage
# instrumentation: a cache hit or miss must not count as new coverage.
# (afl-clang-fast 4.04c ignores the no_sanitize_coverage attribute.)
$(FUZZ_AFL_DIR)/fuzz/fz.o $(FUZZ_LF_DIR)/fuzz/fz.o: fuzz/fz.c | $(FUZZ_DEPS_STAMP)
	@mkdir -p $(@D)
	$(FUZZ_CLANG) $(FUZZ_ALL_CFLAGS) -MMD -MP -c $< -o $@
$(FUZZ_AFLF_DIR)/fuzz/fz.o $(FUZZ_AFLC_DIR)/fuzz/fz.o: fuzz/fz.c | $(FUZZ_DEPS_STAMP)
	@mkdir -p $(@D)
	$(FUZZ_CLANG) $(FUZZ_FAST_CFLAGS) -MMD -MP -c $< -o $@

$(FUZZ_RP_DIR)/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(FUZZ_GCC) $(FUZZ_ALL_CFLAGS) -MMD -MP -c $< -o $@

define FUZZ_TARGET_RULES
$(FUZZ_AFL_DIR)/$(1): $(call fuzz_objs,$(1),$(FUZZ_AFL_DIR))
	AFL_QUIET=1 $(FUZZ_AFL_CC) -fsanitize=fuzzer $(FUZZ_SAN) -pthread -o $$@ $$^ $(call fuzz_libs,$(1))
$(FUZZ_AFLF_DIR)/$(1): $(call fuzz_objs,$(1),$(FUZZ_AFLF_DIR))
	AFL_QUIET=1 $(FUZZ_AFL_CC) -fsanitize=fuzzer -pthread -o $$@ $$^ $(call fuzz_libs,$(1))
$(FUZZ_AFLC_DIR)/$(1): $(call fuzz_objs,$(1),$(FUZZ_AFLC_DIR))
	AFL_QUIET=1 AFL_LLVM_CMPLOG=1 $(FUZZ_AFL_CC) -fsanitize=fuzzer -pthread -o $$@ $$^ $(call fuzz_libs,$(1))
$(FUZZ_LF_DIR)/$(1): $(call fuzz_objs,$(1),$(FUZZ_LF_DIR))
	$(FUZZ_CLANG) -fsanitize=fuzzer $(FUZZ_SAN) -pthread -o $$@ $$^ $(call fuzz_libs,$(1))
$(FUZZ_RP_DIR)/$(1): $(call fuzz_objs,$(1),$(FUZZ_RP_DIR)) $(FUZZ_RP_DIR)/fuzz/replay_main.o
	$(FUZZ_GCC) $(FUZZ_SAN) -pthread -o $$@ $$^ $(call fuzz_libs,$(1))
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call FUZZ_TARGET_RULES,$(t))))

FUZZ_AFL_BINS := $(FUZZ_TARGETS:%=$(FUZZ_AFL_DIR)/%) $(FUZZ_TARGETS:%=$(FUZZ_AFLF_DIR)/%) \
                 $(FUZZ_TARGETS:%=$(FUZZ_AFLC_DIR)/%)
FUZZ_LF_BINS := $(FUZZ_TARGETS:%=$(FUZZ_LF_DIR)/%)
FUZZ_RP_BINS := $(FUZZ_TARGETS:%=$(FUZZ_RP_DIR)/%)

fuzz-build-afl: $(FUZZ_AFL_BINS)
fuzz-build-libfuzzer: $(FUZZ_LF_BINS)
fuzz-build-replay: $(FUZZ_RP_BINS)
fuzz-build: fuzz-build-afl fuzz-build-libfuzzer fuzz-build-replay

# Campaigns (fuzz/campaign.sh): figures on stdout, exit 1 when a crash was
# found. Only the binaries of the chosen target are built (the CMPLOG one
# only when there is a secondary to run it).
fuzz: $(FUZZ_AFL_DIR)/$(FUZZ_TARGET) $(FUZZ_AFLF_DIR)/$(FUZZ_TARGET) $(FUZZ_RP_DIR)/$(FUZZ_TARGET) \
      $(if $(filter-out 0 1,$(FUZZ_JOBS)),$(FUZZ_AFLC_DIR)/$(FUZZ_TARGET))
	fuzz/campaign.sh afl $(FUZZ_TARGET) $(FUZZ_SECONDS) $(FUZZ_JOBS) $(BUILD) $(FUZZ_INPUTS_$(FUZZ_TARGET))
fuzz-libfuzzer: $(FUZZ_LF_DIR)/$(FUZZ_TARGET) $(FUZZ_RP_DIR)/$(FUZZ_TARGET)
	fuzz/campaign.sh libfuzzer $(FUZZ_TARGET) $(FUZZ_SECONDS) $(FUZZ_JOBS) $(BUILD) $(FUZZ_INPUTS_$(FUZZ_TARGET))

# Crashes of the last campaigns -> minimized, de-duplicated regressions.
fuzz-triage: $(FUZZ_AFL_DIR)/$(FUZZ_TARGET) $(FUZZ_LF_DIR)/$(FUZZ_TARGET) \
             $(FUZZ_RP_DIR)/$(FUZZ_TARGET)
	fuzz/triage.sh $(FUZZ_TARGET) $(BUILD)

# Seed corpora of the context targets: real contexts made by the engine.
# Run once by hand (make fuzz-seeds) and commit fuzz/corpus/; not part of
# check, so that seeds only change when someone means it.
FUZZ_GEN := $(FUZZ_RP_DIR)/gen_seeds
$(FUZZ_GEN): $(FUZZ_COMMON_SRC:%.c=$(FUZZ_RP_DIR)/%.o) $(FUZZ_RP_DIR)/fuzz/gen_seeds.o
	$(FUZZ_GCC) $(FUZZ_SAN) -pthread -o $@ $^
fuzz-seeds: $(FUZZ_GEN)
	$(FUZZ_GEN) fuzz/corpus

# The OSS-Fuzz/ClusterFuzzLite build script, run locally the way the
# infrastructure runs it (libFuzzer, ASan): proves ci/oss-fuzz/build.sh works.
fuzz-oss-local: | $(FUZZ_DEPS_STAMP)
	@mkdir -p $(BUILD)/fuzz/oss/out $(BUILD)/fuzz/oss/work
	SRC=$(CURDIR) WORK=$(CURDIR)/$(BUILD)/fuzz/oss/work OUT=$(CURDIR)/$(BUILD)/fuzz/oss/out \
	  CC=$(FUZZ_CLANG) CXX=clang++ CFLAGS='-O1 -g -fsanitize=address,fuzzer-no-link' \
	  CXXFLAGS='-O1 -g -fsanitize=address,fuzzer-no-link' LIB_FUZZING_ENGINE=-fsanitize=fuzzer \
	  ci/oss-fuzz/build.sh
	@ls -l $(BUILD)/fuzz/oss/out

# make check: every corpus and every stored regression through the replay
# drivers (gcc, sanitizers on); the log ends with "N passed, N failed".
check-fuzz-replay: $(FUZZ_RP_BINS)
	@mkdir -p $(BUILD)/check
	@fuzz/replay-all.sh $(BUILD) $(BUILD)/check/fuzz-replay.log \
	  $(foreach t,$(FUZZ_TARGETS),$(t)=$(FUZZ_INPUTS_$(t)))

# One line per target, "NAME|own sources|libraries|extra inputs", for scripts
# that build outside make (ci/oss-fuzz/build.sh).
fuzz-info:
	@$(foreach t,$(FUZZ_TARGETS),echo '$(t)|$(strip $(FUZZ_SRC_$(t)))|$(strip $(FUZZ_LIBS_$(t)))|$(FUZZ_INPUTS_$(t))';)

# make check: the targets' descriptor cache (fz.c) hands out the files a
# fresh fz_memfd would make, rewritten in place or not (fuzz/test_fz.c).
FUZZ_TEST_FZ := $(FUZZ_RP_DIR)/test_fz
$(FUZZ_TEST_FZ): $(FUZZ_RP_DIR)/fuzz/fz.o $(FUZZ_RP_DIR)/fuzz/test_fz.o
	$(FUZZ_GCC) $(FUZZ_SAN) -pthread -o $@ $^
check-fuzz-plumbing: $(FUZZ_TEST_FZ)
	@mkdir -p $(BUILD)/check
	@set -o pipefail; $(FUZZ_TEST_FZ) 2>&1 | tee $(BUILD)/check/fuzz-plumbing.log

CHECK_STEPS += check-fuzz-replay check-fuzz-plumbing
.PHONY: fuzz fuzz-libfuzzer fuzz-triage fuzz-seeds fuzz-build fuzz-build-afl \
        fuzz-build-libfuzzer fuzz-build-replay fuzz-oss-local check-fuzz-replay fuzz-info \
        check-fuzz-plumbing
