# gapcheck: the one entry point. `make` builds, `make check` tests,
# `make verify` is the main job. See README.md; `make help` lists targets.
SHELL := /bin/bash
.DEFAULT_GOAL := all
.SUFFIXES:
.DELETE_ON_ERROR:

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR ?=
AR ?= ar
CFLAGS ?= -O2 -g
LDFLAGS ?=
BUILD ?= build
VERSION := 0.1.0

# Project flags come first so that a user's CFLAGS can override them.
GC_WARN := -Wall -Wextra -Wshadow -Wpointer-arith -Wstrict-prototypes \
           -Wmissing-prototypes -Wformat=2 -Wvla
# Only the public headers are on every part's path; each part adds its own
# (engine/src for the engine and its white-box tests, harness/case for the
# runner, ...), so a part cannot include another's insides by accident.
GC_CPPFLAGS := -D_GNU_SOURCE -Iengine/include
GC_CFLAGS := -std=c11 $(GC_WARN) -fPIC -pthread
ALL_CFLAGS = $(GC_CPPFLAGS) $(CPPFLAGS) $(GC_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = -pthread $(LDFLAGS)

# Debian packages each job needs; mk/ensure-deps.sh installs them as root or
# prints the exact apt-get line otherwise.
DEPS_BUILD := gcc make pkg-config check libinih-dev libjansson-dev
DEPS_STAMP := $(BUILD)/.deps-build

$(DEPS_STAMP): mk/ensure-deps.sh
	@mk/ensure-deps.sh $(DEPS_BUILD)
	@mkdir -p $(@D) && touch $@

CHECK_CFLAGS = $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lrt -lm)

$(BUILD)/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

# Each part adds its build products to ALL_TARGETS and its test steps to
# CHECK_STEPS (each step writes $(BUILD)/check/<step>.log).
ALL_TARGETS :=
CHECK_STEPS :=
include engine/engine.mk
include harness/harness.mk
include fuzz/fuzz.mk
include reports/reports.mk
include mutate/mutate.mk

# The build's own helper scripts (mk/) and the CI gate, tested like any part.
check-mk:
	@mkdir -p $(BUILD)/check
	@set -o pipefail; { mk/tests/ensure-deps.sh && mk/tests/gate.sh && mk/tests/memcheck-scan.sh; } 2>&1 \
	  | tee $(BUILD)/check/mk.log

CHECK_STEPS += check-mk
.PHONY: check-mk

all: $(ALL_TARGETS)

# Runs every step even when one fails, then prints one summary line.
check:
	@mkdir -p $(BUILD)/check && rm -f $(BUILD)/check/*.log
	@rc=0; $(MAKE) --no-print-directory -k $(CHECK_STEPS) || rc=$$?; \
	 mk/check-summary.sh $(BUILD)/check || rc=1; exit $$rc

install: $(BUILD)/public/libgapcheck.a $(BUILD)/libgapcheck.so $(BUILD)/gapcheck.pc
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR)/gapcheck $(DESTDIR)$(PKGCONFIGDIR)
	install -m 644 $(BUILD)/public/libgapcheck.a $(DESTDIR)$(LIBDIR)/
	install -m 755 $(BUILD)/libgapcheck.so $(DESTDIR)$(LIBDIR)/libgapcheck.so.$(VERSION)
	ln -sf libgapcheck.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libgapcheck.so
	install -m 644 $(GC_PUBLIC_HEADERS) $(DESTDIR)$(INCLUDEDIR)/gapcheck/
	install -m 644 $(BUILD)/gapcheck.pc $(DESTDIR)$(PKGCONFIGDIR)/

$(BUILD)/gapcheck.pc: engine/gapcheck.pc.in Makefile
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCLUDEDIR@|$(INCLUDEDIR)|; s|@VERSION@|$(VERSION)|' $< > $@

clean:
	rm -rf $(BUILD)

help:
	@echo "make            build the engine library, the gapcheck runner and tests"
	@echo "make check      run every test (unit, cases, re-injection, fuzz replay)"
	@echo "make verify     the main job: reports under reports/"
	@echo "make bench      handoff/bandwidth/copy benchmark -> reports/bench.json"
	@echo "make coverage   line+branch coverage, fails below reports/thresholds.json"
	@echo "make memcheck   tests under Valgrind;  make sanitize: under ASan+UBSan"
	@echo "make verify-browser  check the rendered report in headless Chromium"
	@echo "make fuzz       AFL++ campaign (FUZZ_TARGET, FUZZ_SECONDS, FUZZ_JOBS); make fuzz-libfuzzer"
	@echo "make mutate      mutation testing -> reports/mutation.json (MUTATE_FILES, MUTATE_JOBS, MUTATE_SHARD, MUTATE_BUDGET, MUTATE_SEED, MUTATE_MAX)"
	@echo "make baseline   refresh reports/baseline.json from this machine"
	@echo "make soak       load cases (10,000-dispatch soak, concurrent callers) x SOAK_REPEAT, then soak-history"
	@echo "make soak-history  soak/history/ list-append histories x SOAK_HISTORY_PASSES (~3-4 min)"
	@echo "make install    library, headers, pkg-config (PREFIX, DESTDIR)"
	@echo "make clean      remove $(BUILD)/"

.PHONY: all check install clean help

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# The main job, `make verify`, is defined in reports/reports.mk.
.PHONY: verify
