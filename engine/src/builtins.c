/* Built-in processes that cases use (see builtins.h). They go through the
 * context API like any user process, so they exercise the contract checks;
 * the destructive ones (crash, exit) refuse to run in a thread, where they
 * would take the main process down with them. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "engine_int.h"
#include "gapcheck/builtins.h"
#include "proto.h"
#include "gapcheck/pattern.h"
#include "gapcheck/status.h"

#ifdef GC_COVERAGE
void __gcov_dump(void);
#define flush_coverage() __gcov_dump()
#else
#define flush_coverage() ((void)0)
#endif

/* Optional integer parameter: the default when the contract does not name it. */
static int64_t param_int(gc_ctx *ctx, const char *key, int64_t dflt)
{
    for (size_t i = 0; i < gc_ctx_domain_count(ctx); i++)
        if (strcmp(gc_ctx_domain_name(ctx, i), key) == 0) {
            int64_t v;
            return gc_ctx_int(ctx, key, &v) == GC_OK ? v : dflt;
        }
    return dflt;
}

/* Fault processes hit every task, or only the one named by domain "only_task",
 * or, with domain "every" = k, every k-th (task % k == 0); the others do the
 * work of "checksum" (of "increment" for the commit path's), so that a case
 * can show them finishing with correct results beside the faulty ones. */
static int spared(gc_ctx *ctx)
{
    int64_t only = param_int(ctx, "only_task", -1), every = param_int(ctx, "every", 0);
    if (every > 0)
        return gc_ctx_task(ctx) % (uint64_t)every != 0;
    return only >= 0 && (uint64_t)only != gc_ctx_task(ctx);
}

static int declared_heavy(gc_ctx *ctx, size_t i, const gc_zone_entry **e)
{
    *e = gc_ctx_entry_at(ctx, i);
    return *e && !((*e)->flags & GC_ENTRY_OUTPUT);
}

/* The readers below differ only in what they do with each declared heavy
 * entry's bytes; this walks the entries in contract order through the
 * context API (so a refused access stops the walk with its status). */
typedef struct heavy_walk {
    uint64_t acc;      /* the reader's running result */
    uint64_t bytes;    /* bytes visited */
} heavy_walk;

typedef uint64_t (*heavy_reader)(const uint8_t *data, size_t len, uint64_t acc);

static int walk_heavy(gc_ctx *ctx, heavy_reader read, heavy_walk *w)
{
    for (size_t i = 0; i < gc_ctx_entry_count(ctx); i++) {
        const gc_zone_entry *e;
        if (!declared_heavy(ctx, i, &e))
            continue;
        const void *data;
        size_t len;
        int rc = gc_ctx_heavy(ctx, e->name, &data, &len);
        if (rc != GC_OK)
            return rc;
        w->acc = read(data, len, w->acc);
        w->bytes += len;
    }
    return GC_OK;
}

static uint64_t read_checksum(const uint8_t *data, size_t len, uint64_t acc)
{
    return gc_checksum(data, len, acc);
}

static uint64_t read_sum(const uint8_t *data, size_t len, uint64_t acc)
{
    return acc + gc_sum64(data, len);
}

static uint64_t read_ends(const uint8_t *data, size_t len, uint64_t acc)
{
    if (len == 0)
        return acc;
    const volatile uint8_t *b = data;
    return acc + b[0] + b[len - 1];
}

static int bi_checksum(gc_ctx *ctx, gc_proc_out *out)
{
    heavy_walk w = {.acc = GC_CHECKSUM_SEED};
    int rc = walk_heavy(ctx, read_checksum, &w);
    out->value = (int64_t)w.acc;
    snprintf(out->text, sizeof out->text, "%016llx over %llu bytes", (unsigned long long)w.acc,
             (unsigned long long)w.bytes);
    return rc;
}

static int bi_read_all(gc_ctx *ctx, gc_proc_out *out)
{
    heavy_walk w = {0};
    int rc = walk_heavy(ctx, read_sum, &w);
    out->value = (int64_t)w.acc;
    snprintf(out->text, sizeof out->text, "read %llu bytes", (unsigned long long)w.bytes);
    return rc;
}

static int bi_touch(gc_ctx *ctx, gc_proc_out *out)
{
    heavy_walk w = {0};
    int rc = walk_heavy(ctx, read_ends, &w);
    out->value = (int64_t)w.acc;
    return rc;
}

static int bi_echo(gc_ctx *ctx, gc_proc_out *out)
{
    if (gc_ctx_domain_count(ctx) == 0) {
        snprintf(out->text, sizeof out->text, "echo: the contract names no domain key");
        return GC_EINVAL;
    }
    const char *key = gc_ctx_domain_name(ctx, 0);
    const gc_value *v;
    int rc = gc_ctx_value(ctx, key, &v);
    if (rc != GC_OK)
        return rc;
    switch (v->type) {
    case GC_VAL_INT:
        out->value = v->i;
        snprintf(out->text, sizeof out->text, "%lld", (long long)v->i);
        break;
    case GC_VAL_DOUBLE:
        out->value = (int64_t)v->d;
        snprintf(out->text, sizeof out->text, "%.17g", v->d);
        break;
    case GC_VAL_STR:
        out->value = (int64_t)v->len;
        snprintf(out->text, sizeof out->text, "%s", (const char *)v->ptr);
        break;
    case GC_VAL_BYTES: {
        out->value = (int64_t)v->len;
        const uint8_t *b = v->ptr;
        size_t n = v->len < (sizeof out->text - 1) / 2 ? v->len : (sizeof out->text - 1) / 2;
        for (size_t i = 0; i < n; i++)
            snprintf(out->text + 2 * i, 3, "%02x", b[i]);
        break;
    }
    }
    return GC_OK;
}

static int bi_fill(gc_ctx *ctx, gc_proc_out *out)
{
    gc_pattern pat = {GC_PATTERN_SEQUENCE, 0};
    for (size_t i = 0; i < gc_ctx_domain_count(ctx); i++) {
        if (strcmp(gc_ctx_domain_name(ctx, i), "pattern") != 0)
            continue;
        const char *spec;
        int rc = gc_ctx_str(ctx, "pattern", &spec);
        gc_err err;
        if (rc == GC_OK)
            rc = gc_pattern_parse(spec, &pat, &err);
        if (rc != GC_OK) {
            snprintf(out->text, sizeof out->text, "fill: bad domain key 'pattern'");
            return rc;
        }
    }
    uint64_t task = gc_ctx_task(ctx), n = gc_ctx_task_count(ctx), written = 0;
    for (size_t i = 0; i < gc_ctx_entry_count(ctx); i++) {
        const gc_zone_entry *e = gc_ctx_entry_at(ctx, i);
        if (!(e->flags & GC_ENTRY_OUTPUT))
            continue;
        void *data;
        size_t len;
        int rc = gc_ctx_output(ctx, e->name, &data, &len);
        if (rc != GC_OK)
            return rc;
        uint64_t lo = len * task / n, hi = len * (task + 1) / n;
        gc_pattern_fill(&pat, (uint8_t *)data + lo, (size_t)(hi - lo), lo);
        written += hi - lo;
    }
    out->value = (int64_t)written;
    return GC_OK;
}

/* One blocking wait of ms milliseconds, restarted where a signal
 * interrupted it. */
static void wait_ms(int64_t ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Sleeps until `until`, waking every 10 ms at most to check the deadline:
 * the cooperative wait, GC_ETIMEOUT once the deadline has passed. */
static int sleep_until(gc_ctx *ctx, uint64_t until, int64_t ms, gc_proc_out *out)
{
    uint64_t deadline = gc_ctx_deadline_ns(ctx);
    for (;;) {
        uint64_t now = gc__now_ns();
        if (now >= until)
            return GC_OK;
        if (deadline && now >= deadline) {
            snprintf(out->text, sizeof out->text, "sleep of %lld ms stopped at the deadline",
                     (long long)ms);
            return GC_ETIMEOUT;
        }
        uint64_t step = until - now;
        if (deadline && deadline - now < step)
            step = deadline - now;
        if (step > 10000000ull)
            step = 10000000ull;   /* wake every 10 ms to re-check; nanosleep refuses >= 1 s */
        struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)step};
        nanosleep(&ts, NULL);
    }
}

/* How the wait builtins spend domain "ms" milliseconds. sleep cooperates
 * with its deadline; spin and block never look at it: they stand for user
 * code that does not cooperate, so a deadline is only as real as the engine
 * makes it (process mode kills the worker; thread mode cannot preempt and
 * must report the late task as ETIMEOUT when it returns). */
enum wait_how { WAIT_SLEEP, WAIT_SPIN, WAIT_BLOCK };

static int bi_wait(gc_ctx *ctx, gc_proc_out *out, enum wait_how how)
{
    if (spared(ctx))
        return bi_checksum(ctx, out);
    int64_t ms;
    int rc = gc_ctx_int(ctx, "ms", &ms);
    if (rc != GC_OK)
        return rc;
    uint64_t until = gc__now_ns() + (uint64_t)(ms > 0 ? ms : 0) * 1000000ull;
    if (how == WAIT_SLEEP) {
        rc = sleep_until(ctx, until, ms, out);
    } else if (how == WAIT_SPIN) {
        volatile uint64_t spins = 0;   /* burns CPU, watching only its own clock */
        while (gc__now_ns() < until)
            spins++;
    } else {
        wait_ms(ms);   /* like a read on a socket that stays silent */
    }
    if (rc != GC_OK)
        return rc;
    out->value = ms;
    if (how != WAIT_SLEEP)
        snprintf(out->text, sizeof out->text, "%s %lld ms", how == WAIT_SPIN ? "spun" : "blocked",
                 (long long)ms);
    return GC_OK;
}

static int bi_sleep(gc_ctx *ctx, gc_proc_out *out)
{
    return bi_wait(ctx, out, WAIT_SLEEP);
}

static int bi_spin(gc_ctx *ctx, gc_proc_out *out)
{
    return bi_wait(ctx, out, WAIT_SPIN);
}

static int bi_block(gc_ctx *ctx, gc_proc_out *out)
{
    return bi_wait(ctx, out, WAIT_BLOCK);
}

static int refuse_in_thread(gc_ctx *ctx, gc_proc_out *out, const char *what)
{
    if (gc_ctx_mode_of(ctx) == GC_CTX_PROCESS)
        return GC_OK;
    snprintf(out->text, sizeof out->text, "%s would take down the main process: process mode only",
             what);
    return GC_EUNSUPPORTED;
}

static int bi_crash(gc_ctx *ctx, gc_proc_out *out)
{
    if (spared(ctx))
        return bi_checksum(ctx, out);
    int rc = refuse_in_thread(ctx, out, "crash");
    if (rc != GC_OK)
        return rc;
    int sig = (int)param_int(ctx, "signal", SIGSEGV);
    flush_coverage();
    /* raise() rather than a wild store: the worker dies the same way, and
     * memcheck runs stay free of deliberate invalid-access reports. */
    raise(sig);
    snprintf(out->text, sizeof out->text, "signal %d did not end the worker", sig);
    return GC_EPROC;
}

static int bi_exit(gc_ctx *ctx, gc_proc_out *out)
{
    if (spared(ctx))
        return bi_checksum(ctx, out);
    int rc = refuse_in_thread(ctx, out, "exit");
    if (rc != GC_OK)
        return rc;
    flush_coverage();
    _exit((int)param_int(ctx, "code", 3));
}

static int bi_alloc(gc_ctx *ctx, gc_proc_out *out)
{
    int64_t bytes;
    int rc = gc_ctx_int(ctx, "bytes", &bytes);
    if (rc != GC_OK)
        return rc;
    if (bytes < 0) {
        snprintf(out->text, sizeof out->text, "alloc: negative size %lld", (long long)bytes);
        return GC_EINVAL;
    }
    uint8_t *p = malloc((size_t)bytes ? (size_t)bytes : 1);
    if (!p) {
        snprintf(out->text, sizeof out->text, "alloc: out of memory for %lld bytes", (long long)bytes);
        return GC_ENOMEM;
    }
    /* Through a volatile pointer: stores to a block that is freed right after
     * are dead to the compiler, and gcc -O2 dropped them, so the pages never
     * became resident and "touches" was not true. */
    volatile uint8_t *touch = p;
    long page = sysconf(_SC_PAGESIZE);
    for (int64_t i = 0; i < bytes; i += page)
        touch[i] = (uint8_t)i;
    out->value = bytes;
    free(p);
    return GC_OK;
}

static int bi_write_readonly(gc_ctx *ctx, gc_proc_out *out)
{
    const gc_zone_entry *e = NULL;
    for (size_t i = 0; i < gc_ctx_entry_count(ctx) && !e; i++)
        if (!declared_heavy(ctx, i, &e))
            e = NULL;
    if (!e) {
        snprintf(out->text, sizeof out->text, "write_readonly: the contract names no heavy entry");
        return GC_EINVAL;
    }
    const void *data;
    size_t len;
    int rc = gc_ctx_heavy(ctx, e->name, &data, &len);
    if (rc != GC_OK)
        return rc;
    if (len == 0) {
        snprintf(out->text, sizeof out->text, "write_readonly: entry '%s' is empty", e->name);
        return GC_EINVAL;
    }
    long page = sysconf(_SC_PAGESIZE);
    void *start = (void *)((uintptr_t)data & ~(uintptr_t)(page - 1));
    if (mprotect(start, (size_t)page, PROT_READ | PROT_WRITE) != 0) {
        snprintf(out->text, sizeof out->text, "write to '%s' refused: mprotect: %s", e->name,
                 strerror(errno));
        return GC_EREADONLY;
    }
    /* The kernel let us make it writable: the zone is not protected. */
    if (param_int(ctx, "store", 0) == 1)
        *(volatile uint8_t *)(uintptr_t)data ^= 0xFF;
    mprotect(start, (size_t)page, PROT_READ);
    snprintf(out->text, sizeof out->text, "read-only entry '%s' became writable", e->name);
    return GC_OK;
}

static int bi_read_undeclared(gc_ctx *ctx, gc_proc_out *out)
{
    const char *name;
    int rc = gc_ctx_str(ctx, "name", &name);
    if (rc != GC_OK)
        return rc;
    const void *data;
    size_t len;
    rc = gc_ctx_heavy(ctx, name, &data, &len);
    if (rc == GC_OK) {
        out->value = (int64_t)len;
        snprintf(out->text, sizeof out->text, "read '%s' (%zu bytes)", name, len);
    } else if (param_int(ctx, "swallow", 0) == 1) {
        /* User code that ignores the refusal and reports success: the
         * violation is counted all the same and the task must end ECONTRACT. */
        snprintf(out->text, sizeof out->text, "ignored the refusal of '%s'", name);
        return GC_OK;
    }
    return rc;
}

/* Hostile worker: writes a broken reply straight into its channel (the
 * descriptor the worker loop serves on) before the real one. Domain "kind":
 * 1 oversized, 2 bad magic, 3 answers another task. */
static int bi_bad_result(gc_ctx *ctx, gc_proc_out *out)
{
    if (spared(ctx))
        return bi_checksum(ctx, out);
    int rc = refuse_in_thread(ctx, out, "bad_result");
    if (rc != GC_OK)
        return rc;
    int64_t kind = param_int(ctx, "kind", 1);
    size_t cap = GC_PROTO_REPLY_MAX + 64, len = kind == 1 ? cap : 64;
    uint8_t *msg = malloc(cap);
    if (!msg) {
        snprintf(out->text, sizeof out->text, "bad_result: out of memory for its reply");
        return GC_ENOMEM;
    }
    memset(msg, 0xA5, cap);
    uint32_t words[2] = {GC_PROTO_RESULT_MAGIC, gc_ctx_task(ctx)};
    if (kind == 2)
        words[0] = 0xDEADBEEFu;
    else if (kind != 1)
        words[1] = gc_ctx_task(ctx) + 1;
    memcpy(msg, words, sizeof words);
    /* The pool kills a worker that sends a bad reply, so its coverage is
     * written now or never (as crash and exit do): without it no test that
     * runs bad_result counts as covering these lines. */
    flush_coverage();
    ssize_t n = write(GC_WORKER_CHANNEL_FD, msg, len);
    free(msg);
    if (n < 0) {
        snprintf(out->text, sizeof out->text, "bad_result: write: %s", strerror(errno));
        return GC_ESYS;
    }
    return GC_OK;
}

/* The worker's census: value = descriptors and memfd mappings it should not
 * hold. Expected are stdio, its channel, and the files and mappings of the
 * zone generation it keeps (the live one, plus the previous one during the
 * task that replaced it); anything else, old generations' memfds included,
 * is stray. Inherited mappings count too: a worker forked while the main
 * process maps a zone must not see that mapping. In a thread there is no
 * worker, so every memfd of the main process counts. Text lists every
 * descriptor (cut when too many), then the mapping figures, always. */
static int count_stray_maps(int64_t *maps, int64_t *stray)
{
    FILE *f = fopen("/proc/self/maps", "re");
    if (!f)
        return -1;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        int memfd = gc__maps_line_is_memfd(line);
        uintptr_t start = (uintptr_t)strtoull(line, NULL, 16);
        while (!strchr(line, '\n') && fgets(line, sizeof line, f))
            ;   /* the rest of a long line */
        if (!memfd)
            continue;
        ++*maps;
        *stray += !gc__worker_holds_addr(start);
    }
    fclose(f);
    return 0;
}

static int bi_fd_census(gc_ctx *ctx, gc_proc_out *out)
{
    (void)ctx;
    int64_t maps = 0, stray_maps = 0;
    gc__worker_release_settle();
    if (count_stray_maps(&maps, &stray_maps) != 0) {
        snprintf(out->text, sizeof out->text, "fd_census: /proc/self/maps: %s", strerror(errno));
        return GC_ESYS;
    }
    DIR *d = opendir("/proc/self/fd");
    if (!d) {
        snprintf(out->text, sizeof out->text, "fd_census: /proc/self/fd: %s", strerror(errno));
        return GC_ESYS;
    }
    /* The mapping figures close the text however long the list is: their
     * room is kept and a list too long for the rest is cut. A tool's own
     * descriptors alone (valgrind's, named by long paths) can fill it. */
    char figures[64];
    int flen = snprintf(figures, sizeof figures, "; %lld memfd maps, %lld stray",
                        (long long)maps, (long long)stray_maps);
    size_t room = sizeof out->text - (size_t)flen;   /* the list's bytes and a NUL */
    int64_t stray = 0;
    size_t off = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        int fd = atoi(de->d_name);
        if (de->d_name[0] == '.' || fd == dirfd(d))
            continue;
        char path[64], target[128] = "?";
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(path, target, sizeof target - 1);
        if (n < 0 && errno == ENOENT)
            continue;   /* closed since readdir saw it (a generation being released) */
        target[n > 0 ? n : 1] = '\0';
        int expected = fd <= GC_WORKER_CHANNEL_FD || gc__worker_holds_fd(fd);
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && (rlim_t)fd >= rl.rlim_cur)
            expected = 1;   /* a tool's own descriptor (valgrind keeps them up there) */
        stray += !expected;
        if (off < room)
            off += (size_t)snprintf(out->text + off, room - off, "%d=%s%s ", fd, target,
                                    expected ? "" : "(stray)");
    }
    closedir(d);
    memcpy(out->text + (off < room ? off : room - 1), figures, (size_t)flen + 1);
    out->value = stray + stray_maps;
    return GC_OK;
}

/* Names the heavy zone could have left in the shared-memory filesystem:
 * value = entries of /dev/shm named like the zone's files ("gapcheck");
 * memfds never create one. Other programs' entries are not counted, so the
 * answer does not depend on what else runs on the machine. */
static int bi_shm_census(gc_ctx *ctx, gc_proc_out *out)
{
    (void)ctx;
    DIR *d = opendir("/dev/shm");
    if (!d) {
        snprintf(out->text, sizeof out->text, "shm_census: /dev/shm: %s", strerror(errno));
        return GC_ESYS;
    }
    int64_t n = 0;
    size_t off = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strstr(de->d_name, "gapcheck"))
            continue;
        n++;
        if (off < sizeof out->text)
            off += (size_t)snprintf(out->text + off, sizeof out->text - off, "%s ", de->d_name);
    }
    closedir(d);
    out->value = n;
    return GC_OK;
}

/* ---- the commit path's builtins ------------------------------------------------ */

static int declared_read(gc_ctx *ctx, const char *key)
{
    for (size_t i = 0; i < gc_ctx_domain_count(ctx); i++)
        if (strcmp(gc_ctx_domain_name(ctx, i), key) == 0)
            return 1;
    return 0;
}

/* What a writing builtin adds when its contract allows it: one event on topic
 * "changed" and one message on topic "outbox" with id "m<task>". The id is
 * the same in every attempt, so a phantom from an earlier attempt shows as
 * a repeated id, not only as a count (INC-016). */
static int side_effects(gc_ctx *ctx, gc_proc_out *out)
{
    char payload[64], id[32];
    int n = snprintf(payload, sizeof payload, "task=%u attempt=%u", gc_ctx_task(ctx),
                     gc_ctx_attempt(ctx));
    snprintf(id, sizeof id, "m%u", gc_ctx_task(ctx));
    int rc = GC_OK;
    if (gc_ctx_may_emit(ctx))
        rc = gc_ctx_emit(ctx, "changed", payload, (size_t)n);
    if (rc == GC_OK && gc_ctx_may_send(ctx))
        rc = gc_ctx_send(ctx, "outbox", id, payload, (size_t)n);
    if (rc != GC_OK)
        snprintf(out->text, sizeof out->text, "%s", gc_ctx_last_error(ctx));
    return rc;
}

/* Is declared write i this task's? With domain "own" = 1 each task writes
 * only write key task % count (disjoint keys); otherwise every one. */
static int writes_key(gc_ctx *ctx, size_t i, int own)
{
    return !own || i == gc_ctx_task(ctx) % gc_ctx_write_count(ctx);
}

/* Adds domain "by" (default 1) to each declared write (read first when it is
 * declared as a read too, else from 0), waiting domain "ms" between the read
 * and the write: the window in which a lost update happens (INC-028). */
static int bi_increment(gc_ctx *ctx, gc_proc_out *out)
{
    int64_t by = param_int(ctx, "by", 1), ms = param_int(ctx, "ms", 0);
    int own = param_int(ctx, "own", 0) == 1;
    int64_t cur[GC_DOMAIN_MAX] = {0};
    size_t n = gc_ctx_write_count(ctx);
    if (n == 0) {
        snprintf(out->text, sizeof out->text, "increment: the contract declares no write");
        return GC_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        const char *key = gc_ctx_write_name(ctx, i);
        if (writes_key(ctx, i, own) && declared_read(ctx, key)) {
            int rc = gc_ctx_int(ctx, key, &cur[i]);
            if (rc != GC_OK)
                return rc;
        }
    }
    wait_ms(ms);
    for (size_t i = 0; i < n; i++) {
        if (!writes_key(ctx, i, own))
            continue;
        int rc = gc_ctx_set_int(ctx, gc_ctx_write_name(ctx, i), cur[i] + by);
        if (rc != GC_OK)
            return rc;
        out->value = cur[i] + by;
    }
    return side_effects(ctx, out);
}

/* Appends domain "entry" (a string; default "<task>;") to each declared
 * write, a bytes key (read first when declared as a read too). */
static int bi_append(gc_ctx *ctx, gc_proc_out *out)
{
    char dflt[24], buf[GC_VALUE_BYTES_MAX];
    const char *entry = dflt;
    snprintf(dflt, sizeof dflt, "%u;", gc_ctx_task(ctx));
    if (declared_read(ctx, "entry")) {
        int rc = gc_ctx_str(ctx, "entry", &entry);
        if (rc != GC_OK)
            return rc;
    }
    size_t elen = strlen(entry);
    for (size_t i = 0; i < gc_ctx_write_count(ctx); i++) {
        const char *key = gc_ctx_write_name(ctx, i);
        const void *old = NULL;
        size_t olen = 0;
        if (declared_read(ctx, key)) {
            int rc = gc_ctx_bytes(ctx, key, &old, &olen);
            if (rc != GC_OK)
                return rc;
        }
        if (olen + elen > sizeof buf) {
            snprintf(out->text, sizeof out->text, "append: '%s' would pass %d bytes", key,
                     GC_VALUE_BYTES_MAX);
            return GC_ELIMIT;
        }
        if (olen)
            memcpy(buf, old, olen);
        memcpy(buf + olen, entry, elen);
        int rc = gc_ctx_set_bytes(ctx, key, buf, olen + elen);
        if (rc != GC_OK)
            return rc;
        out->value = (int64_t)(olen + elen);
    }
    return side_effects(ctx, out);
}

static int bi_emit(gc_ctx *ctx, gc_proc_out *out)
{
    if (!gc_ctx_may_emit(ctx)) {
        snprintf(out->text, sizeof out->text, "emit: the contract allows no events");
        return GC_EINVAL;
    }
    out->value = 1;
    return side_effects(ctx, out);
}

static int bi_send(gc_ctx *ctx, gc_proc_out *out)
{
    if (!gc_ctx_may_send(ctx)) {
        snprintf(out->text, sizeof out->text, "send: the contract allows no outbox messages");
        return GC_EINVAL;
    }
    out->value = 1;
    return side_effects(ctx, out);
}

/* Writes domain "bad" (default -1) to every declared write, with its event
 * and message: a validation rule on the key must refuse it all. */
static int bi_fail_validation(gc_ctx *ctx, gc_proc_out *out)
{
    if (spared(ctx))
        return bi_increment(ctx, out);
    int64_t bad = param_int(ctx, "bad", -1);
    for (size_t i = 0; i < gc_ctx_write_count(ctx); i++) {
        int rc = gc_ctx_set_int(ctx, gc_ctx_write_name(ctx, i), bad);
        if (rc != GC_OK)
            return rc;
    }
    out->value = bad;
    return side_effects(ctx, out);
}

/* Does everything increment does, then fails (EPROC): nothing of it may
 * reach the state, the subscribers or the outbox (INC-016). With domain
 * "fail_attempt" = A only attempt A fails (an error raised in a retry). */
static int bi_fail_after_write(gc_ctx *ctx, gc_proc_out *out)
{
    int64_t at = param_int(ctx, "fail_attempt", 0);
    if (spared(ctx) || (at > 0 && gc_ctx_attempt(ctx) != (uint64_t)at))
        return bi_increment(ctx, out);
    int rc = bi_increment(ctx, out);
    if (rc != GC_OK)
        return rc;
    snprintf(out->text, sizeof out->text, "attempt %u failed after writing %zu keys, %zu "
             "events, %zu messages", gc_ctx_attempt(ctx), gc_ctx_pending_writes(ctx),
             gc_ctx_pending_events(ctx), gc_ctx_pending_messages(ctx));
    return GC_EPROC;
}

/* Every task sets the first declared write to its task number, with its
 * event and message: tasks of one run share a base, so all but one conflict
 * on their first attempt. value = the attempt number. */
static int bi_conflict(gc_ctx *ctx, gc_proc_out *out)
{
    if (gc_ctx_write_count(ctx) == 0) {
        snprintf(out->text, sizeof out->text, "conflict: the contract declares no write");
        return GC_EINVAL;
    }
    int rc = gc_ctx_set_int(ctx, gc_ctx_write_name(ctx, 0), (int64_t)gc_ctx_task(ctx));
    if (rc != GC_OK)
        return rc;
    out->value = gc_ctx_attempt(ctx);
    return side_effects(ctx, out);
}

/* The list-append workload of the history checker (in the spirit of Jepsen's
 * Elle): the declared writes are list keys (bytes, each a declared read as
 * well). Task t is a reader when domain `read_every` N > 0 and t % N is
 * N - 1: it reads every list key in contract order and returns gc_checksum
 * chained over their bytes (text: keys and bytes read). Any other task
 * appends its own element "<task>.<attempt>;" to list key t % count: unique
 * per task within a run, and naming the attempt, so a checker can tell which
 * attempt's write reached the state; domain `ms` waits between read and
 * write. An appender emits its event and message like every writing builtin
 * (their payload names the attempt too); a reader writes nothing. */
static int bi_list_append(gc_ctx *ctx, gc_proc_out *out)
{
    size_t n = gc_ctx_write_count(ctx);
    int64_t every = param_int(ctx, "read_every", 4), ms = param_int(ctx, "ms", 0);
    if (n == 0) {
        snprintf(out->text, sizeof out->text, "list_append: the contract declares no list key");
        return GC_EINVAL;
    }
    uint32_t task = gc_ctx_task(ctx);
    if (every > 0 && task % (uint64_t)every == (uint64_t)every - 1) {
        uint64_t h = GC_CHECKSUM_SEED;
        size_t bytes = 0;
        for (size_t i = 0; i < n; i++) {
            const void *data;
            size_t len;
            int rc = gc_ctx_bytes(ctx, gc_ctx_write_name(ctx, i), &data, &len);
            if (rc != GC_OK)
                return rc;
            h = gc_checksum(data, len, h);
            bytes += len;
        }
        out->value = (int64_t)h;
        snprintf(out->text, sizeof out->text, "read %zu list keys, %zu bytes", n, bytes);
        return GC_OK;
    }
    const char *key = gc_ctx_write_name(ctx, task % n);
    const void *old;
    size_t olen;
    int rc = gc_ctx_bytes(ctx, key, &old, &olen);
    if (rc != GC_OK)
        return rc;
    char elem[32], buf[GC_VALUE_BYTES_MAX];
    int elen = snprintf(elem, sizeof elem, "%u.%u;", task, gc_ctx_attempt(ctx));
    if (olen + (size_t)elen > sizeof buf) {
        snprintf(out->text, sizeof out->text, "list_append: '%s' would pass %d bytes", key,
                 GC_VALUE_BYTES_MAX);
        return GC_ELIMIT;
    }
    memcpy(buf, old, olen);
    memcpy(buf + olen, elem, (size_t)elen);
    wait_ms(ms);
    rc = gc_ctx_set_bytes(ctx, key, buf, olen + (size_t)elen);
    if (rc != GC_OK)
        return rc;
    out->value = (int64_t)(olen + (size_t)elen);
    snprintf(out->text, sizeof out->text, "appended %s to %s", elem, key);
    return side_effects(ctx, out);
}

/* Reads the domain key named by domain "key" (a string), declared or not:
 * value = it (an integer). With strict contracts a key the contract does not
 * name is refused; without, it is read and counted. */
static int bi_peek(gc_ctx *ctx, gc_proc_out *out)
{
    const char *key;
    int rc = gc_ctx_str(ctx, "key", &key);
    if (rc == GC_OK)
        rc = gc_ctx_int(ctx, key, &out->value);
    return rc;
}

/* Writes domain "to" (default 1) to the domain key named by domain "key",
 * declared as a write or not: a context whose contract declares no write (a
 * pure one) must refuse it, loudly (INC-010). With domain "swallow" = 1 the
 * process ignores the refusal and returns OK; the task still ends ECONTRACT. */
static int bi_poke(gc_ctx *ctx, gc_proc_out *out)
{
    const char *key;
    int rc = gc_ctx_str(ctx, "key", &key);
    if (rc != GC_OK)
        return rc;
    out->value = param_int(ctx, "to", 1);
    rc = gc_ctx_set_int(ctx, key, out->value);
    if (rc != GC_OK && param_int(ctx, "swallow", 0) == 1)
        return GC_OK;
    return rc;
}

/* The one list of built-ins: adding one is its function above and one row
 * here. Names, the parser's check, error messages and the list in
 * cases/README.md (checked by a unit test) all come from this table. */
static const struct {
    gc_builtin_info info;
    gc_proc_fn fn;
} builtin_table[] = {
    {{"checksum", "value = `gc_checksum` chained over every declared heavy entry, in contract "
                  "order, from `GC_CHECKSUM_SEED`"}, bi_checksum},
    {{"touch", "reads the first and last byte of every declared heavy entry; value = their sum "
               "(the handoff probe)"}, bi_touch},
    {{"read_all", "reads every byte of every declared heavy entry; value = `gc_sum64` of them "
                  "added up (bandwidth probe)"}, bi_read_all},
    {{"echo", "value/text of the first declared domain key"}, bi_echo},
    {{"fill", "task i of n writes slice [i*L/n, (i+1)*L/n) of every declared output with the "
              "pattern named by domain `pattern` (default `sequence`); value = bytes written"},
     bi_fill},
    {{"sleep", "sleeps domain `ms` ms; honours the deadline (`ETIMEOUT`)"}, bi_sleep},
    {{"spin", "busy loop of domain `ms` ms that never looks at its deadline (non-cooperative: "
              "only the engine can stop it)"}, bi_spin},
    {{"block", "one blocking wait of domain `ms` ms that ignores its deadline (non-cooperative, "
               "like a silent socket read)"}, bi_block},
    {{"crash", "raises domain `signal` (default `SIGSEGV`); process mode only"}, bi_crash},
    {{"exit", "`_exit(code)` with domain `code` (default 3); process mode only"}, bi_exit},
    {{"alloc", "allocates and touches domain `bytes` bytes"}, bi_alloc},
    {{"write_readonly", "tries to make the first declared heavy entry writable (mprotect) and, "
                        "if domain `store` is 1, stores to it; `EREADONLY` when the kernel "
                        "refuses"}, bi_write_readonly},
    {{"read_undeclared", "asks for the heavy entry named by domain `name`, which the contract "
                         "does not declare: `ECONTRACT`; with domain `swallow` = 1 it ignores "
                         "the refusal and returns OK, and the task still ends `ECONTRACT`"},
     bi_read_undeclared},
    {{"bad_result", "writes a broken reply into its channel first (domain `kind`: 1 oversized, "
                    "2 bad magic, 3 wrong task): `EWIRE`"}, bi_bad_result},
    {{"fd_census", "value = the worker's descriptors and memfd mappings beyond stdio, its "
                   "channel and the zone generation it keeps (old generations' files and "
                   "inherited mappings are stray); text lists them, then the memfd mapping "
                   "figures (a list too long is cut before them)"}, bi_fd_census},
    {{"shm_census", "value = entries in /dev/shm named like the zone's files (`gapcheck`), "
                    "where a named shared-memory zone would show up (a memfd zone never does)"},
     bi_shm_census},
    /* The commit path's: writes go to the write set (ctx.h, commit.h); a
     * writing builtin also emits one event (topic `changed`) and sends one
     * message (topic `outbox`, id `m<task>`) when its contract allows them. */
    {{"increment", "adds domain `by` (default 1) to every declared write (from its value when "
                   "it is also a declared read, else 0); domain `ms` waits between read and "
                   "write; domain `own` 1 writes only write key task % count"}, bi_increment},
    {{"append", "appends domain `entry` (default `<task>;`) to every declared write, a bytes "
                "key"}, bi_append},
    {{"emit", "only the event of a writing builtin"}, bi_emit},
    {{"send", "only the outbox message of a writing builtin"}, bi_send},
    {{"fail_validation", "writes domain `bad` (default -1) to every declared write, for a "
                         "validation rule to refuse; tasks spared by `only_task` or `every` "
                         "increment"}, bi_fail_validation},
    {{"fail_after_write", "does what increment does, then fails (`EPROC`); with domain "
                          "`fail_attempt` = A only attempt A fails"},
     bi_fail_after_write},
    {{"conflict", "sets the first declared write to the task number: tasks of a run share a "
                  "base, so all but one conflict at first; value = the attempt number"},
     bi_conflict},
    {{"peek", "value = the integer domain key named by domain `key`, declared or not (strict "
              "contracts off: counted)"}, bi_peek},
    {{"poke", "writes domain `to` (default 1) to the domain key named by domain `key`, declared "
              "as a write or not (an undeclared write is refused: `ECONTRACT`); with domain "
              "`swallow` = 1 it ignores the refusal and returns OK, and the task still ends "
              "`ECONTRACT`"}, bi_poke},
    {{"list_append", "the history workload: declared writes are list keys (bytes, declared "
                     "reads too); task t reads them all when domain `read_every` N (default 4) "
                     "divides t + 1, value = `gc_checksum` chained over them; else appends "
                     "`<task>.<attempt>;` to key t % count, value = its new length (domain `ms` "
                     "waits before the write)"},
     bi_list_append},
};
#define BUILTIN_COUNT (sizeof builtin_table / sizeof builtin_table[0])

int gc_builtins_register(gc_engine *e, gc_err *err)
{
    for (size_t i = 0; i < BUILTIN_COUNT; i++) {
        int rc = gc_engine_register(e, builtin_table[i].info.name, builtin_table[i].fn, NULL, err);
        if (rc != GC_OK)
            return rc;
    }
    return GC_OK;
}

int gc_builtins_has(const char *name)
{
    for (size_t i = 0; name && i < BUILTIN_COUNT; i++)
        if (strcmp(builtin_table[i].info.name, name) == 0)
            return 1;
    return 0;
}

static char builtin_list[512];

static void builtin_list_init(void)
{
    size_t off = 0;
    for (size_t i = 0; i < BUILTIN_COUNT && off < sizeof builtin_list; i++)
        off += (size_t)snprintf(builtin_list + off, sizeof builtin_list - off, "%s%s",
                                i ? ", " : "", builtin_table[i].info.name);
}

const gc_builtin_info *gc_builtins_at(size_t i)
{
    return i < BUILTIN_COUNT ? &builtin_table[i].info : NULL;
}

const char *gc_builtins_list(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, builtin_list_init);
    return builtin_list;
}
