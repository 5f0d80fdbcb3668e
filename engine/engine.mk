# engine/: the reference engine library (libgapcheck) and its Check unit tests.
ENGINE_SRC := $(sort $(wildcard engine/src/*.c))
ENGINE_OBJ := $(ENGINE_SRC:%.c=$(BUILD)/%.o)
ENGINE_TEST_SRC := $(sort $(wildcard engine/tests/*.c))
ENGINE_TEST_OBJ := $(ENGINE_TEST_SRC:%.c=$(BUILD)/%.o)
ENGINE_TESTS := $(BUILD)/engine/tests/engine_tests

# The installed API: documented and stable. wire.h stays out: it is the
# engine's protocol between main process and workers (tests and fuzz targets
# include it by name). builtins.h and census.h are in: cases and users' own
# tests use the built-ins and the leak census through them.
GC_PUBLIC_HEADERS := $(filter-out engine/include/gapcheck/wire.h,$(sort $(wildcard engine/include/gapcheck/*.h)))

# The engine and its white-box tests may use the engine's insides.
$(ENGINE_OBJ): ALL_CFLAGS += -Iengine/src

$(BUILD)/libgapcheck.a: $(ENGINE_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/libgapcheck.so: $(ENGINE_OBJ) engine/libgapcheck.map
	$(CC) -shared -Wl,-soname,libgapcheck.so.$(VERSION) \
	  -Wl,--version-script=engine/libgapcheck.map $(ALL_LDFLAGS) -o $@ $(ENGINE_OBJ)

# The installed static archive: the engine's objects as one relocatable
# object whose internal gc__ symbols are made local, so that a static link,
# like the shared library, sees the public API only (INC-027). The engine's
# own tests and tools link $(BUILD)/libgapcheck.a, which keeps them.
$(BUILD)/public/libgapcheck.a: $(ENGINE_OBJ)
	@mkdir -p $(@D)
	$(LD) -r -o $(@D)/gapcheck.o $(ENGINE_OBJ)
	objcopy --wildcard --localize-symbol='gc__*' $(@D)/gapcheck.o
	@rm -f $@
	$(AR) rcs $@ $(@D)/gapcheck.o

$(ENGINE_TEST_OBJ): ALL_CFLAGS += $(CHECK_CFLAGS) -Itestkit -Iengine/src
$(ENGINE_TESTS): $(ENGINE_TEST_OBJ) $(BUILD)/testkit/runner.o $(BUILD)/libgapcheck.a
	$(CC) $(ALL_LDFLAGS) -o $@ $(ENGINE_TEST_OBJ) $(BUILD)/testkit/runner.o $(BUILD)/libgapcheck.a $(CHECK_LIBS)

ALL_TARGETS += $(BUILD)/libgapcheck.a $(BUILD)/libgapcheck.so $(ENGINE_TESTS)

# Unit tests run in Check's fork mode (timeouts enforced, a crash is one error).
check-engine: $(ENGINE_TESTS)
	@mkdir -p $(BUILD)/check
	@set -o pipefail; CK_FORK=yes $(ENGINE_TESTS) 2>&1 | tee $(BUILD)/check/engine.log

# A run that selects zero tests must fail, or a typo in CK_RUN_SUITE would pass.
check-zero-guard: $(ENGINE_TESTS)
	@mkdir -p $(BUILD)/check
	@if CK_RUN_SUITE=no-such-suite $(ENGINE_TESTS) >/dev/null 2>&1; then \
	   echo "0 passed, 1 failed" | tee $(BUILD)/check/zero-guard.log; \
	   echo "zero-guard: a run of zero tests exited 0" >&2; exit 1; \
	 else echo "1 passed, 0 failed" | tee $(BUILD)/check/zero-guard.log; fi

CHECK_STEPS += check-engine check-zero-guard
.PHONY: check-engine check-zero-guard

# The benchmark (make bench): handoff, bandwidth and the copy baseline.
BENCH := $(BUILD)/engine/bench/bench
$(BENCH): $(BUILD)/engine/bench/bench.o $(BUILD)/libgapcheck.a
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libgapcheck.a -ljansson
ALL_TARGETS += $(BENCH)

bench: $(BENCH)
	@mkdir -p reports
	@echo "command: $(BENCH) reports/bench.json"
	$(BENCH) reports/bench.json
.PHONY: bench

# make install as a user meets it: stage an install, build a program with
# nothing but the staged pkg-config file, run it.
INSTALL_STAGE := $(CURDIR)/$(BUILD)/install-stage
check-install: $(BUILD)/public/libgapcheck.a $(BUILD)/libgapcheck.so $(BUILD)/gapcheck.pc
	@rm -rf $(INSTALL_STAGE) && mkdir -p $(BUILD)/check
	@$(MAKE) --no-print-directory install DESTDIR=$(INSTALL_STAGE) PREFIX=/usr/local >/dev/null
	@set -o pipefail; pc="PKG_CONFIG_SYSROOT_DIR=$(INSTALL_STAGE) PKG_CONFIG_PATH=$(INSTALL_STAGE)/usr/local/lib/pkgconfig"; \
	 $(CC) -std=c11 -Wall -Wextra engine/tests/install/consumer.c \
	   $$(env $$pc pkg-config --cflags --libs gapcheck) -pthread -o $(BUILD)/install-consumer && \
	 LD_LIBRARY_PATH=$(INSTALL_STAGE)/usr/local/lib $(BUILD)/install-consumer 2>&1 | tee $(BUILD)/check/install.log
	@# Exactly the public headers are installed, and each compiles on its own.
	@inc=$(INSTALL_STAGE)/usr/local/include/gapcheck; \
	 want="$(notdir $(GC_PUBLIC_HEADERS))"; have=$$(cd $$inc && ls | tr '\n' ' '); \
	 [ "$$(echo $$want)" = "$$(echo $$have)" ] || \
	   { echo "check-install: installed headers '$$have', want '$$want'"; echo "0 passed, 1 failed" >> $(BUILD)/check/install.log; exit 1; }; \
	 for h in $$want; do \
	   echo "#include <gapcheck/$$h>" | $(CC) -std=c11 -Wall -Werror -fsyntax-only -I$(INSTALL_STAGE)/usr/local/include -x c - || \
	     { echo "check-install: $$h does not compile alone"; echo "0 passed, 1 failed" >> $(BUILD)/check/install.log; exit 1; }; \
	 done
	@# The shared library exports the public API only, never an internal gc__
	@# entry point that bypasses the commit (INC-027); and it exports some.
	@# The installed static archive links and runs the same program.
	@$(CC) -std=c11 -Wall -Wextra engine/tests/install/consumer.c \
	   -I$(INSTALL_STAGE)/usr/local/include $(INSTALL_STAGE)/usr/local/lib/libgapcheck.a -pthread \
	   -o $(BUILD)/install-consumer-static && $(BUILD)/install-consumer-static >/dev/null || \
	   { echo "check-install: a program linked with the installed libgapcheck.a fails"; \
	     echo "0 passed, 1 failed" >> $(BUILD)/check/install.log; exit 1; }
	@lib=$(INSTALL_STAGE)/usr/local/lib; \
	 for f in "-D $$lib/libgapcheck.so" "$$lib/libgapcheck.a"; do \
	   syms=$$(nm --defined-only $$f 2>/dev/null | awk '$$2 ~ /^[TDBRVW]$$/ {print $$3}'); \
	   bad=$$(echo "$$syms" | grep -v '^gc_[a-z]' | tr '\n' ' '); \
	   n=$$(echo "$$syms" | grep -c '^gc_[a-z]'); \
	   if [ -n "$$(echo $$bad)" ] || [ "$$n" -lt 50 ]; then \
	     echo "check-install: $${f##*/} exports '$$bad' ($$n public symbols)"; \
	     echo "0 passed, 1 failed" >> $(BUILD)/check/install.log; exit 1; \
	   fi; echo "check-install: $${f##*/} exports $$n public symbols, no internal one"; \
	 done

CHECK_STEPS += check-install
.PHONY: check-install

# Anomaly tests (engine/tests/anomaly/): the engine's objects, relinked for
# the tests only into one relocatable object in which every allocation and
# listed system call is renamed to the fault injector's wrapper (ld -r
# --wrap; why in fault.h). The test code, Check and libc keep the real calls,
# and the installed library never sees the injector. `make check` runs the
# compact loops (each kind of call failed once at every N: every call site at
# least once); `make sanitize` runs the full loops (GC_ANOMALY=full). Counts
# and failed call sites go to $(BUILD)/anomaly/anomaly.json (format in
# engine/tests/anomaly/record.py).
ANOMALY_SRC := $(sort $(wildcard engine/tests/anomaly/*.c))
ANOMALY_OBJ := $(ANOMALY_SRC:%.c=$(BUILD)/%.o)
ANOMALY_TESTS := $(BUILD)/engine/tests/anomaly/anomaly_tests
ANOMALY_ENGINE := $(BUILD)/engine/tests/anomaly/engine-wrapped.o
ANOMALY_WRAPPED := malloc calloc realloc strdup free memfd_create ftruncate fcntl mmap mprotect \
                   madvise socketpair fork sendmsg recvmsg send recv pread read poll close_range \
                   fstat dup2 pthread_create
ANOMALY_RECORD = python3 engine/tests/anomaly/record.py --wrapped "$(ANOMALY_WRAPPED)"

$(ANOMALY_ENGINE): $(ENGINE_OBJ)
	@mkdir -p $(@D)
	$(LD) -r $(foreach f,$(ANOMALY_WRAPPED),--wrap=$(f)) -o $@ $^

$(ANOMALY_OBJ): ALL_CFLAGS += $(CHECK_CFLAGS) -Iengine/tests -Itestkit -Iengine/src
$(ANOMALY_TESTS): $(ANOMALY_OBJ) $(ANOMALY_ENGINE) $(BUILD)/engine/tests/testutil.o \
                  $(BUILD)/testkit/runner.o
	$(CC) $(ALL_LDFLAGS) -o $@ $(ANOMALY_OBJ) $(BUILD)/engine/tests/testutil.o \
	  $(BUILD)/testkit/runner.o $(ANOMALY_ENGINE) $(CHECK_LIBS)

ALL_TARGETS += $(ANOMALY_TESTS)

check-anomaly: $(ANOMALY_TESTS)
	@mkdir -p $(BUILD)/check $(BUILD)/anomaly
	@set -o pipefail; { CK_FORK=yes GC_ANOMALY_RECORD=$(BUILD)/anomaly/record.txt $(ANOMALY_TESTS) && \
	  $(ANOMALY_RECORD) --record $(BUILD)/anomaly/record.txt --binary $(ANOMALY_TESTS) \
	    --mode compact --sites --out $(BUILD)/anomaly/anomaly.json; } 2>&1 | tee $(BUILD)/check/anomaly.log

CHECK_STEPS += check-anomaly
.PHONY: check-anomaly
