/* Anomaly loops, SQLite-style: every engine operation runs with its Nth
 * allocation or system call failing (fault.h), for N = 1, 2, ... until a run
 * passes without the fault being reached. After each run: the status is one
 * the API documents for that failure (errno kept where status.h promises),
 * the state and zone are intact (checksums and values as before), nothing
 * leaked (descriptors, memfds, mappings and children from the engine's
 * census; heap blocks from the wrappers' census; ASan/LSan in make
 * sanitize), the error a failure surfaced as says what failed (expect_text:
 * a call's gc_err and a task's text, never empty or stale), and the same
 * step retried or a normal run on the same engine succeeds with correct
 * results.
 *
 * Two sizes: compact (make check) fails each kind of call once per N, which
 * already reaches every call site; full (GC_ANOMALY=full, make sanitize) adds
 * failures that persist from N on and EINTR on every call. Every (operation,
 * injection kind, outcome) is counted into the record that main.c writes. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"
#include "gapcheck/gapcheck.h"
#include "gapcheck/wire.h"
#include "testutil.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
/* A bound on N, against an operation that never stops reaching its fault:
 * well above the longest loop (the process-mode commit run makes 385-400
 * counted allocations, more when its tasks conflict more often). */
#define LOOP_MAX 800u

static int full_mode(void)
{
    const char *m = getenv("GC_ANOMALY");
    return m && strcmp(m, "full") == 0;
}

/* One injection kind for a loop: which calls, which errno, where. */
typedef struct kind {
    const char *name;
    uint32_t calls;
    int err;
    gcf_scope scope;
    int persist;        /* fail every counted call from N on */
    int eintr;          /* EINTR on every call once: must never fail the operation */
} kind;

/* What one run under a plan reports back to the loop. */
typedef struct run_out {
    int status;          /* the operation's status (first failure) */
    const char *outcome; /* overrides gc_status_name(status), e.g. a task's status */
} run_out;

typedef void (*op_fn)(const kind *k, run_out *out);

static const char *cur_op;

static gcf_plan plan_of(const kind *k, uint32_t n)
{
    gcf_plan p = {.calls = k->calls, .nth = n, .times = 1, .err = k->err, .scope = k->scope};
    if (k->persist)
        p.times = GCF_FOREVER;
    if (k->eintr) {
        p.err = EINTR;
        p.every = 2;
        p.times = GCF_FOREVER;
    }
    return p;
}

static const kind *cur_kind;
static uint32_t cur_n;

static void arm(void)
{
    gcf_plan p = plan_of(cur_kind, cur_n);
    gcf_arm(&p);
}

/* The loop: N = 1, 2, ... until the operation runs without reaching its Nth
 * counted call; leak checks around every run. */
static void loop(const char *op, op_fn fn, const kind *k)
{
    cur_op = op;
    cur_kind = k;
    uint32_t n;
    for (n = 1;; n++) {
        ck_assert_msg(n <= LOOP_MAX, "%s/%s: still failing at N=%u", op, k->name, n);
        cur_n = n;
        gc_census before, after;
        tu_census_take(&before);
        gcf_heap_begin();
        run_out out = {GC_OK, NULL};
        fn(k, &out);
        gcf_disarm();
        uint32_t fired = gcf_fired();
        long live = gcf_heap_live();
        gcf_heap_end();
        ck_assert_msg(live == 0, "%s/%s N=%u: %ld heap blocks leaked (status %s)", op, k->name, n,
                      live, gc_status_name(out.status));
        tu_census_take(&after);
        ck_assert_msg(before.fds == after.fds && before.memfds == after.memfds &&
                      before.maps == after.maps && before.children == after.children,
                      "%s/%s N=%u: census fds %d->%d memfds %d->%d maps %d->%d children %d->%d",
                      op, k->name, n, before.fds, after.fds, before.memfds, after.memfds,
                      before.maps, after.maps, before.children, after.children);
        const char *outcome = fired == 0 ? "clean"
                              : out.outcome ? out.outcome : gc_status_name(out.status);
        gcf_outcome(op, k->name, outcome);
        if (fired == 0) {
            ck_assert_msg(out.status == GC_OK, "%s/%s N=%u: no fault, yet %s", op, k->name, n,
                          gc_status_name(out.status));
            break;
        }
        if (k->eintr)
            ck_assert_msg(out.status == GC_OK && !out.outcome,
                          "%s/%s N=%u: EINTR made the operation fail: %s", op, k->name, n,
                          out.outcome ? out.outcome : gc_status_name(out.status));
    }
    ck_assert_msg(n > 1, "%s/%s: the injection never reached a call", op, k->name);
}

/* The errno an injected failure of the current kind sets. */
static int kind_errno(void)
{
    return cur_kind->err ? cur_kind->err : (cur_kind->calls & GCF_ALLOC) ? ENOMEM : EIO;
}

/* The error text an injected failure leaves must say what failed (error.h:
 * a one-line reason naming the field, key or limit involved), never be empty
 * or left over from something else. The rule, for a text that went with
 * status rc:
 *   - it is not empty;
 *   - subject (the key, entry or process the call was about), when given,
 *     appears in it;
 *   - an allocation that failed reads "out of memory" (every ENOMEM
 *     reason of the engine says so), after what ran out of it;
 *   - a failed system call (GC_ESYS, or GC_ENOMEM from a call that is not
 *     an allocation) names that call (one of the kind's) and gives its
 *     errno as strerror spells it.
 * A task's text (gc_result.text) follows the same rule. */
static void expect_text(const char *call, int rc, const char *msg, const char *subject)
{
    ck_assert_msg(msg[0] != '\0', "%s/%s N=%u: %s failed with %s and an empty reason", cur_op,
                  cur_kind->name, cur_n, call, gc_status_name(rc));
    if (subject)
        ck_assert_msg(strstr(msg, subject), "%s/%s N=%u: %s: reason '%s' does not name '%s'",
                      cur_op, cur_kind->name, cur_n, call, msg, subject);
    if (rc == GC_ENOMEM && (cur_kind->calls & GCF_ALLOC)) {
        const char *oom = strstr(msg, "out of memory");
        ck_assert_msg(oom, "%s/%s N=%u: %s: %s with reason '%s', which does not say 'out of "
                      "memory'", cur_op, cur_kind->name, cur_n, call, gc_status_name(rc), msg);
        ck_assert_msg(oom != msg, "%s/%s N=%u: %s: a bare '%s' does not say what ran out",
                      cur_op, cur_kind->name, cur_n, call, msg);
    } else if (rc == GC_ESYS && cur_kind->scope == GCF_CHILD && strstr(msg, "sendmsg: ") &&
               !strstr(msg, strerror(kind_errno()))) {
        /* A worker that the failure ended before its first task (it could
         * not start) shows to the dispatcher as a broken channel: the reason
         * gives that call's errno and how the worker ended. */
        ck_assert_msg((strstr(msg, strerror(EPIPE)) || strstr(msg, strerror(ECONNRESET))) &&
                      (strstr(msg, "(worker exited with code ") ||
                       strstr(msg, "(worker killed by signal ")),
                      "%s/%s N=%u: %s: %s with reason '%s', which does not say how the worker "
                      "ended", cur_op, cur_kind->name, cur_n, call, gc_status_name(rc), msg);
    } else if (rc == GC_ESYS || rc == GC_ENOMEM) {
        const char *want = strerror(kind_errno());
        ck_assert_msg(strstr(msg, want), "%s/%s N=%u: %s: %s with reason '%s', which does not "
                      "give the errno ('%s')", cur_op, cur_kind->name, cur_n, call,
                      gc_status_name(rc), msg, want);
        int named = 0;
        for (int c = 0; c < GCF_NCALLS && !named; c++)
            named = (cur_kind->calls & GCF_BIT(c)) && strstr(msg, gcf_call_name((gcf_call)c));
        ck_assert_msg(named, "%s/%s N=%u: %s: %s with reason '%s', which does not name the "
                      "failed call", cur_op, cur_kind->name, cur_n, call, gc_status_name(rc), msg);
    }
}

/* A call that failed with rc filled err with that status and a reason by
 * the rule above. */
static void expect_err(const char *call, int rc, const gc_err *err, const char *subject)
{
    ck_assert_msg(err->status == rc, "%s/%s N=%u: %s returned %s but its error says %s ('%s')",
                  cur_op, cur_kind->name, cur_n, call, gc_status_name(rc),
                  gc_status_name(err->status), err->msg);
    expect_text(call, rc, err->msg, subject);
}

/* An injected failure surfaced as status rc from a call that filled err: it
 * must be the documented one for the kind, with errno kept (status.h), and
 * with its reason. */
static void expect_fault(const char *call, int rc, int want, int saved_errno, const gc_err *err,
                         const char *subject)
{
    ck_assert_msg(rc == want, "%s/%s N=%u: %s returned %s, expected %s", cur_op, cur_kind->name,
                  cur_n, call, gc_status_name(rc), gc_status_name(want));
    int e = kind_errno();
    if (rc == GC_ESYS || rc == GC_ENOMEM)
        ck_assert_msg(saved_errno == e, "%s/%s N=%u: %s: errno %d (%s), expected %d", cur_op,
                      cur_kind->name, cur_n, call, saved_errno, strerror(saved_errno), e);
    expect_err(call, rc, err, subject);
}

/* A task that ended with an error: its text says why (the rule above for
 * the statuses an injected failure gives; any other failure is not silent
 * either). */
static void expect_task_text(int t, const gc_result *r)
{
    char call[32];
    snprintf(call, sizeof call, "task %d", t);
    if (r->status != GC_OK)
        expect_text(call, r->status, r->text, NULL);
}

/* The error each STEP's call fills. */
static gc_err step_err;
#define ERR (&step_err)

/* Run one step (a call that takes ERR); on failure check it and its reason
 * (naming subject, when not NULL), record the first failure, disarm and
 * retry: the retry must succeed (the object is intact). */
#define STEP(out, want, subject, call)                                           \
    do {                                                                         \
        gc_err_clear(ERR);                                                       \
        errno = 0;                                                               \
        int rc_ = (call);                                                        \
        int e_ = errno;                                                          \
        if (rc_ != GC_OK) {                                                      \
            expect_fault(#call, rc_, (want), e_, ERR, (subject));                \
            if ((out)->status == GC_OK)                                          \
                (out)->status = rc_;                                             \
            gcf_disarm();                                                        \
            rc_ = (call);                                                        \
            ck_assert_msg(rc_ == GC_OK, "%s N=%u: retry of %s: %s", cur_op, cur_n, \
                          #call, gc_status_name(rc_));                           \
        }                                                                        \
    } while (0)

/* ---- state -------------------------------------------------------------------- */

static void state_expect(const gc_state *st, const char *key, gc_value_type type, int64_t i,
                         const char *s)
{
    const gc_value *v = NULL;
    ck_assert_int_eq(gc_state_get(st, key, &v), GC_OK);
    ck_assert_int_eq(v->type, type);
    if (type == GC_VAL_INT)
        ck_assert_int_eq(v->i, i);
    else
        ck_assert_str_eq(v->ptr, s);
}

static void op_state(const kind *k, run_out *out)
{
    (void)k;
    gc_state *st = NULL;
    arm();
    STEP(out, GC_ENOMEM, NULL, gc_state_new(&st, ERR));
    char key[16];
    /* Past the first growth of the item array (8), with strings and bytes. */
    for (int i = 0; i < 10; i++) {
        snprintf(key, sizeof key, "k%d", i);
        STEP(out, GC_ENOMEM, key, gc_state_set_int(st, key, i, ERR));
    }
    STEP(out, GC_ENOMEM, "'s'", gc_state_set_str(st, "s", "first", ERR));
    STEP(out, GC_ENOMEM, "'b'", gc_state_set_bytes(st, "b", "xyz", 3, ERR));
    STEP(out, GC_ENOMEM, "'d'", gc_state_set_double(st, "d", 0.5, ERR));
    /* A failed replacement keeps the old value: check it before the retry. */
    gc_err_clear(ERR);
    errno = 0;
    int rc = gc_state_set_str(st, "s", "second", ERR);
    if (rc != GC_OK) {
        expect_fault("gc_state_set_str(replace)", rc, GC_ENOMEM, errno, ERR, "'s'");
        if (out->status == GC_OK)
            out->status = rc;
        state_expect(st, "s", GC_VAL_STR, 0, "first");
        gcf_disarm();
        ck_assert_int_eq(gc_state_set_str(st, "s", "second", NULL), GC_OK);
    }
    /* Refused names free the copy they made (or fail allocating it). */
    for (int i = 0; i < 2; i++) {
        rc = i ? gc_state_set_bytes(st, ".hidden", "v", 1, NULL)
               : gc_state_set_str(st, "bad/name", "v", NULL);
        ck_assert_msg(rc == GC_EINVAL || rc == GC_ENOMEM, "bad name: %s", gc_status_name(rc));
        if (rc == GC_ENOMEM && out->status == GC_OK)
            out->status = rc;
    }
    gcf_disarm();
    ck_assert_uint_eq(gc_state_domain_count(st), 13);
    for (int i = 0; i < 10; i++) {
        snprintf(key, sizeof key, "k%d", i);
        state_expect(st, key, GC_VAL_INT, i, NULL);
    }
    state_expect(st, "s", GC_VAL_STR, 0, "second");
    state_expect(st, "b", GC_VAL_BYTES, 0, "xyz");
    gc_state_free(st);
}

/* ---- zone --------------------------------------------------------------------- */

#define ZONE_ENTRIES 10   /* past the first growth of the entry array (8) */

static void op_zone(const kind *k, run_out *out)
{
    int sys = (k->calls & GCF_ALLOC) ? GC_ENOMEM : GC_ESYS;
    gc_zone *z = NULL;
    arm();
    STEP(out, GC_ENOMEM, NULL, gc_zone_new(&z, ERR));
    char name[16];
    for (int i = 0; i < ZONE_ENTRIES; i++) {
        snprintf(name, sizeof name, "e%d", i);
        STEP(out, GC_ENOMEM, name, gc_zone_declare(z, name, 4096u * (unsigned)i + 7u, 0, ERR));
    }
    STEP(out, GC_ENOMEM, "'out'", gc_zone_declare(z, "out", 5000, GC_ENTRY_OUTPUT, ERR));
    STEP(out, sys, NULL, gc_zone_allocate(z, ERR));
    gc_pattern pat = {GC_PATTERN_RANDOM, 11};
    uint64_t want = GC_CHECKSUM_SEED;
    for (int i = 0; i < ZONE_ENTRIES; i++) {
        void *p;
        size_t len;
        snprintf(name, sizeof name, "e%d", i);
        ck_assert_int_eq(gc_zone_fill(z, name, &p, &len, NULL), GC_OK);
        gc_pattern_fill(&pat, p, len, (uint64_t)i);
        want = gc_checksum(p, len, want);
    }
    STEP(out, sys, NULL, gc_zone_publish(z, ERR));
    /* Freezing the outputs: a failure leaves them unfrozen (checked before
     * the retry), and the retry works. */
    gc_err_clear(ERR);
    errno = 0;
    int rc = gc_zone_freeze_outputs(z, ERR);
    if (rc != GC_OK) {
        expect_fault("gc_zone_freeze_outputs", rc, sys, errno, ERR, NULL);
        ck_assert_int_eq(gc_zone_outputs_frozen(z), 0);
        if (out->status == GC_OK)
            out->status = rc;
        gcf_disarm();
        ck_assert_int_eq(gc_zone_freeze_outputs(z, NULL), GC_OK);
    }
    gcf_disarm();
    ck_assert_int_eq(gc_zone_outputs_frozen(z), 1);
    /* Intact: what was filled is what a reader sees, and sealed. */
    uint64_t got = GC_CHECKSUM_SEED;
    for (int i = 0; i < ZONE_ENTRIES; i++) {
        const void *p;
        size_t len;
        snprintf(name, sizeof name, "e%d", i);
        ck_assert_int_eq(gc_zone_read(z, name, &p, &len, NULL), GC_OK);
        got = gc_checksum(p, len, got);
    }
    ck_assert_uint_eq(got, want);
    ck_assert_int_eq(fcntl(gc_zone_input_fd(z), F_GET_SEALS) & F_SEAL_WRITE, F_SEAL_WRITE);
    const void *r;
    size_t olen;
    ck_assert_int_eq(gc_zone_read(z, "out", &r, &olen, NULL), GC_OK);
    ck_assert_uint_eq(olen, 5000);
    for (size_t i = 0; i < olen; i++)
        ck_assert_int_eq(((const uint8_t *)r)[i], 0);   /* readable, untouched */
    gc_zone_free(z);
}

/* ---- shared fixture for the factory, the codec and execute_parallel ------------- */

static const char *const DOM[] = {"name", "pattern", "ms"};
static const char *const HEAVY[] = {"a", "b"};
static const char *const OUTS[] = {"out"};

/* What must not change: every domain value and the zone's bytes. */
typedef struct snapshot {
    size_t n_domain;
    uint64_t domain_sum, heavy_sum, generation;
} snapshot;

static void snap(const gc_state *st, snapshot *s)
{
    memset(s, 0, sizeof *s);
    s->n_domain = gc_state_domain_count(st);
    uint64_t h = GC_CHECKSUM_SEED;
    for (size_t i = 0; i < s->n_domain; i++) {
        const char *name;
        const gc_value *v;
        ck_assert_int_eq(gc_state_domain_at(st, i, &name, &v), GC_OK);
        h = gc_checksum(name, strlen(name), h);
        h = gc_checksum(&v->type, sizeof v->type, h);
        h = gc_checksum(&v->i, sizeof v->i, h);
        if (v->type == GC_VAL_STR || v->type == GC_VAL_BYTES)
            h = gc_checksum(v->ptr, v->len, h);
    }
    s->domain_sum = h;
    s->heavy_sum = tu_checksum(st, HEAVY, N(HEAVY));
    s->generation = gc_zone_generation(gc_state_heavy(st));
}

static void snap_same(const gc_state *st, const snapshot *before)
{
    snapshot now;
    snap(st, &now);
    ck_assert_msg(memcmp(&now, before, sizeof now) == 0, "%s/%s N=%u: the state changed",
                  cur_op, cur_kind->name, cur_n);
}

/* ---- factory ------------------------------------------------------------------------ */

static void op_factory(const kind *k, run_out *out)
{
    (void)k;
    gc_state *st = tu_state(3 * 4096 + 1, 100, 5000);
    snapshot s0;
    snap(st, &s0);
    gc_contract c = {.domain_reads = DOM, .n_domain_reads = N(DOM), .heavy_reads = HEAVY,
                     .n_heavy_reads = N(HEAVY), .outputs = OUTS, .n_outputs = N(OUTS)};
    gc_ctx *ctx = (gc_ctx *)st;
    arm();
    gc_err_clear(ERR);
    errno = 0;
    int rc = gc_ctx_from_state(st, &c, NULL, 1, 2, &ctx, ERR);
    int e = errno;
    gcf_disarm();
    if (rc != GC_OK) {
        expect_fault("gc_ctx_from_state", rc, GC_ENOMEM, e, ERR, NULL);
        ck_assert_ptr_eq(ctx, (gc_ctx *)st);   /* *out untouched on failure */
        out->status = rc;
        ck_assert_int_eq(gc_ctx_from_state(st, &c, NULL, 1, 2, &ctx, NULL), GC_OK);
    }
    snap_same(st, &s0);
    const char *v;
    ck_assert_int_eq(gc_ctx_str(ctx, "pattern", &v), GC_OK);
    ck_assert_str_eq(v, "sequence");
    const void *d;
    size_t len;
    ck_assert_int_eq(gc_ctx_heavy(ctx, "b", &d, &len), GC_OK);
    ck_assert_uint_eq(gc_checksum(d, len, GC_CHECKSUM_SEED),
                      tu_checksum(st, (const char *const[]){"b"}, 1));
    gc_ctx_free(ctx);
    gc_state_free(st);
}

/* ---- wire: encode, decode against the real files, attach --------------------------- */

static void op_wire(const kind *k, run_out *out)
{
    gc_state *st = tu_state(3 * 4096 + 1, 100, 5000);
    snapshot s0;
    snap(st, &s0);
    gc_contract c = {.domain_reads = DOM, .n_domain_reads = N(DOM), .heavy_reads = HEAVY,
                     .n_heavy_reads = N(HEAVY), .outputs = OUTS, .n_outputs = N(OUTS)};
    gc_ctx *ctx = NULL;
    ck_assert_int_eq(gc_ctx_from_state(st, &c, NULL, 1, 2, &ctx, NULL), GC_OK);
    static uint8_t msg[GC_WIRE_MSG_MAX];
    size_t len = 0;
    const gc_zone *z = gc_state_heavy(st);
    int in_fd = gc_zone_input_fd(z), out_fd = gc_zone_output_fd(z);
    gc_ctx *d = NULL;
    gc_err err;
    gc_err_clear(&err);
    arm();
    int rc = gc_wire_encode(ctx, msg, sizeof msg, &len, &err);   /* allocates nothing */
    ck_assert_int_eq(rc, GC_OK);
    errno = 0;
    rc = gc_wire_decode(msg, len, in_fd, out_fd, &d, &err);
    int e = errno;
    gcf_disarm();
    if (rc != GC_OK) {
        int want = (k->calls & GCF_ALLOC) ? GC_ENOMEM : GC_ESYS;
        /* The reason names the call that failed, not a malformed message. */
        expect_fault("gc_wire_decode", rc, want, e, &err, NULL);
        ck_assert_ptr_null(d);
        out->status = rc;
        ck_assert_int_eq(gc_wire_decode(msg, len, in_fd, out_fd, &d, &err), GC_OK);
    }
    ck_assert_int_eq(gc_wire_compare(ctx, d, &err), GC_OK);
    ck_assert_int_eq(gc_wire_attach(d, gc_zone_input_base(z), gc_zone_input_size(z),
                                    gc_zone_output_base(z), gc_zone_output_size(z), &err), GC_OK);
    const void *p;
    size_t n;
    ck_assert_int_eq(gc_ctx_heavy(d, "a", &p, &n), GC_OK);
    ck_assert_uint_eq(gc_checksum(p, n, GC_CHECKSUM_SEED),
                      tu_checksum(st, (const char *const[]){"a"}, 1));
    snap_same(st, &s0);
    gc_ctx_free(d);
    gc_ctx_free(ctx);
    gc_state_free(st);
}

/* ---- engine: registry --------------------------------------------------------------- */

static int proc_noop(gc_ctx *ctx, gc_proc_out *o)
{
    (void)ctx;
    o->value = 1;
    return GC_OK;
}

static int rule_any(const char *key, const gc_value *v, void *arg, char *reason, size_t cap)
{
    (void)key, (void)v, (void)arg, (void)reason, (void)cap;
    return GC_OK;
}

/* Deliveries seen by the test process (thread and process mode alike: the
 * commit, and so every delivery, happens in the main process). */
typedef struct deliveries {
    int events, messages;
} deliveries;

static void on_delivery(const gc_delivery *d, void *arg)
{
    deliveries *dl = arg;
    if (!dl)
        return;
    if (d->kind == GC_DELIVERY_EVENT)
        dl->events++;
    else
        dl->messages++;
}

static void op_registry(const kind *k, run_out *out)
{
    (void)k;
    gc_engine *e = NULL;
    gc_contract c = {.domain_reads = DOM, .n_domain_reads = N(DOM), .heavy_reads = HEAVY,
                     .n_heavy_reads = N(HEAVY), .outputs = OUTS, .n_outputs = N(OUTS)};
    arm();
    STEP(out, GC_ENOMEM, NULL, gc_engine_new(&e, ERR));
    char name[16];
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof name, "p%d", i);
        gc_err_clear(ERR);
        errno = 0;
        int rc = gc_engine_register(e, name, proc_noop, &c, ERR);
        int er = errno;
        if (rc != GC_OK) {
            expect_fault("gc_engine_register", rc, GC_ENOMEM, er, ERR, name);
            if (out->status == GC_OK)
                out->status = rc;
            /* Nothing of a failed registration stays behind. */
            ck_assert_int_eq(gc_engine_lookup(e, name, NULL, NULL), GC_ENOTFOUND);
            gcf_disarm();
            ck_assert_int_eq(gc_engine_register(e, name, proc_noop, &c, NULL), GC_OK);
        }
    }
    /* Rules and subscribers grow arrays too; the outbox sink does not. */
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof name, "k%d", i);
        STEP(out, GC_ENOMEM, name, gc_engine_rule_int_range(e, name, 0, i, ERR));
        STEP(out, GC_ENOMEM, name, gc_engine_rule_check(e, name, rule_any, NULL, ERR));
        STEP(out, GC_ENOMEM, name, gc_engine_subscribe(e, name, on_delivery, NULL, ERR));
    }
    STEP(out, GC_ENOMEM, NULL, gc_engine_set_outbox(e, on_delivery, NULL, ERR));
    gc_history *h = NULL;
    STEP(out, GC_ENOMEM, NULL, gc_history_new(&h, ERR));
    /* GC_OK only with a history: a failed allocation is never success. */
    ck_assert_msg(h != NULL, "%s N=%u: gc_history_new said GC_OK without a history", cur_op,
                  cur_n);
    gcf_disarm();
    gc_history_free(h);
    const gc_contract *got = NULL;
    /* Registering with a registered process's own contract: the registry
     * grows under it (ASan in make sanitize sees a use after free). */
    ck_assert_int_eq(gc_engine_lookup(e, "p0", NULL, &got), GC_OK);
    ck_assert_int_eq(gc_engine_register(e, "copy", proc_noop, got, NULL), GC_OK);
    ck_assert_int_eq(gc_engine_lookup(e, "copy", NULL, &got), GC_OK);
    ck_assert_uint_eq(got->n_domain_reads, N(DOM));
    ck_assert_str_eq(got->heavy_reads[1], "b");
    ck_assert_int_eq(gc_engine_lookup(e, "p2", NULL, &got), GC_OK);
    ck_assert_uint_eq(got->n_outputs, 1);
    ck_assert_str_eq(got->outputs[0], "out");
    ck_assert_str_eq(got->domain_reads[2], "ms");
    gc_engine_free(e);
}

/* ---- execute_parallel --------------------------------------------------------------- */

#define TASKS 4

/* Statuses a task may end with when one of its calls failed, by where. */
static int task_status_ok(int st, gcf_scope scope)
{
    if (st == GC_OK || st == GC_ENOMEM || st == GC_ESYS)
        return 1;
    return scope == GCF_CHILD && st == GC_EEXIT;   /* a worker that cannot start or answer */
}

static void exec_run(const kind *k, run_out *out, gc_mode mode, const char *proc)
{
    gc_engine *e = NULL;
    ck_assert_int_eq(gc_engine_new(&e, NULL), GC_OK);
    ck_assert_int_eq(gc_builtins_register(e, NULL), GC_OK);
    gc_state *st = tu_state(3 * 4096 + 1, 100, 0);
    snapshot s0;
    snap(st, &s0);
    gc_contract c = {.domain_reads = DOM, .n_domain_reads = N(DOM), .heavy_reads = HEAVY,
                     .n_heavy_reads = N(HEAVY)};
    gc_exec_opts o = {.process = proc, .mode = mode, .workers = 2, .tasks = TASKS,
                      .contract = &c};
    gc_result res[TASKS];
    gc_err err;
    gc_err_clear(&err);
    uint64_t want = tu_checksum(st, HEAVY, N(HEAVY));
    arm();
    int rc = gc_execute_parallel(e, st, &o, res, &err);
    gcf_disarm();
    ck_assert_msg(rc == GC_OK || rc == GC_ENOMEM || rc == GC_ESYS, "%s/%s N=%u: %s %s", cur_op,
                  k->name, cur_n, gc_status_name(rc), err.msg);
    if (rc != GC_OK)
        expect_err("gc_execute_parallel", rc, &err, NULL);
    out->status = rc;
    for (int t = 0; rc == GC_OK && t < TASKS; t++) {
        ck_assert_msg(task_status_ok(res[t].status, k->scope), "%s/%s N=%u task %d: %s %s",
                      cur_op, k->name, cur_n, t, gc_status_name(res[t].status), res[t].text);
        expect_task_text(t, &res[t]);
        if (res[t].status == GC_OK)
            ck_assert_uint_eq((uint64_t)res[t].value, want);
        else if (!out->outcome)
            out->outcome = gc_status_name(res[t].status);
        ck_assert_int_eq(res[t].task, t);
    }
    snap_same(st, &s0);
    /* A worker hit by a child-scope fault may still be on its way out when
     * the run returns (its receive failed after its last reply, or it was
     * forked just before disarming and failed at start). The pool learns of
     * a death only when it hands that worker a task, which is then lost
     * (EEXIT), so the pool is stopped here: what follows is a normal run on
     * the same engine with a fresh pool. Dispatcher-side kinds keep theirs. */
    if (k->scope == GCF_CHILD)
        gc_engine_pool_stop(e);
    /* The same engine, state and pool serve a normal run afterwards. */
    gc_err_clear(&err);
    ck_assert_msg(gc_execute_parallel(e, st, &o, res, &err) == GC_OK, "%s/%s N=%u: rerun: %s",
                  cur_op, k->name, cur_n, err.msg);
    for (int t = 0; t < TASKS; t++) {
        ck_assert_msg(res[t].status == GC_OK, "%s/%s N=%u: rerun task %d: %s %s", cur_op,
                      k->name, cur_n, t, gc_status_name(res[t].status), res[t].text);
        ck_assert_uint_eq((uint64_t)res[t].value, want);
    }
    if (mode == GC_MODE_PROCESS) {
        gc_engine_stats s;
        gc_engine_stats_get(e, &s);
        ck_assert_uint_ge(s.workers_live, 1);
    }
    gc_engine_free(e);   /* stops and reaps the pool: the census checks it */
    gc_state_free(st);
}

static void op_exec_thread(const kind *k, run_out *out)
{
    exec_run(k, out, GC_MODE_THREAD, "checksum");
}

static void op_exec_process(const kind *k, run_out *out)
{
    exec_run(k, out, GC_MODE_PROCESS, "checksum");
}

/* Outputs: workers map the output file too, write it, and it reads back. */
static void op_exec_outputs(const kind *k, run_out *out)
{
    gc_engine *e = NULL;
    ck_assert_int_eq(gc_engine_new(&e, NULL), GC_OK);
    ck_assert_int_eq(gc_builtins_register(e, NULL), GC_OK);
    gc_state *st = tu_state(4096, 100, 3 * 4096 + 9);
    snapshot s0;
    snap(st, &s0);
    static const char *const pat[] = {"pattern"};
    gc_contract c = {.domain_reads = pat, .n_domain_reads = 1, .outputs = OUTS,
                     .n_outputs = N(OUTS)};
    gc_exec_opts o = {.process = "fill", .mode = GC_MODE_PROCESS, .workers = 2, .tasks = TASKS,
                      .contract = &c};
    gc_result res[TASKS];
    gc_err err;
    arm();
    int rc = gc_execute_parallel(e, st, &o, res, &err);
    gcf_disarm();
    ck_assert_int_eq(rc, GC_OK);
    out->status = rc;
    for (int t = 0; t < TASKS; t++) {
        ck_assert_msg(task_status_ok(res[t].status, k->scope), "%s N=%u task %d: %s %s",
                      k->name, cur_n, t, gc_status_name(res[t].status), res[t].text);
        expect_task_text(t, &res[t]);
        if (res[t].status != GC_OK && !out->outcome)
            out->outcome = gc_status_name(res[t].status);
    }
    snap_same(st, &s0);
    ck_assert_int_eq(gc_execute_parallel(e, st, &o, res, &err), GC_OK);
    int64_t total = 0;
    for (int t = 0; t < TASKS; t++) {
        ck_assert_msg(res[t].status == GC_OK, "rerun task %d: %s", t, res[t].text);
        total += res[t].value;
    }
    const void *d;
    size_t len;
    ck_assert_int_eq(gc_zone_read(gc_state_heavy(st), "out", &d, &len, NULL), GC_OK);
    ck_assert_int_eq(total, (int64_t)len);
    gc_pattern seq = {GC_PATTERN_SEQUENCE, 0};
    for (size_t i = 0; i < len; i++)
        if (((const uint8_t *)d)[i] != gc_pattern_byte(&seq, i))
            ck_abort_msg("output byte %zu differs after the rerun", i);
    gc_engine_free(e);
    gc_state_free(st);
}

/* Generation changes: a worker hands the generation it retires to a helper
 * thread (worker.c); when that thread cannot start, or the worker cannot
 * allocate, every task still ends as the kinds allow, and afterwards the
 * worker holds nothing stray (its own census). */
static void op_exec_generations(const kind *k, run_out *out)
{
    gc_engine *e = NULL;
    ck_assert_int_eq(gc_engine_new(&e, NULL), GC_OK);
    ck_assert_int_eq(gc_builtins_register(e, NULL), GC_OK);
    gc_state *st[2] = {tu_state(4096, 100, 0), tu_state(2 * 4096, 100, 0)};
    gc_contract c = {.heavy_reads = HEAVY, .n_heavy_reads = N(HEAVY)};
    gc_exec_opts o = {.process = "checksum", .mode = GC_MODE_PROCESS, .workers = 1, .tasks = 1,
                      .contract = &c};
    gc_result r;
    gc_err err;
    arm();                        /* before the worker is forked: GCF_CHILD reaches it */
    for (int i = 0; i < 3; i++) {
        gc_err_clear(&err);
        int rc = gc_execute_parallel(e, st[i % 2], &o, &r, &err);
        ck_assert_msg(rc == GC_OK || rc == GC_ENOMEM || rc == GC_ESYS, "%s N=%u: %s", k->name,
                      cur_n, err.msg);
        if (rc != GC_OK) {
            expect_err("gc_execute_parallel", rc, &err, NULL);
            out->status = rc;
            continue;
        }
        ck_assert_msg(task_status_ok(r.status, k->scope), "%s N=%u run %d: %s %s", k->name,
                      cur_n, i, gc_status_name(r.status), r.text);
        expect_task_text(0, &r);
        if (r.status == GC_OK)
            ck_assert_uint_eq((uint64_t)r.value, tu_checksum(st[i % 2], HEAVY, N(HEAVY)));
        else if (!out->outcome)
            out->outcome = gc_status_name(r.status);
    }
    gcf_disarm();
    gc_engine_pool_stop(e);       /* a worker hit by a fault may be on its way out */
    o.process = "fd_census";
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(gc_execute_parallel(e, st[i % 2], &o, &r, &err), GC_OK);
        ck_assert_msg(r.status == GC_OK && r.value == 0, "%s N=%u: census: %s", k->name, cur_n,
                      r.text);
    }
    gc_engine_free(e);
    gc_state_free(st[0]);
    gc_state_free(st[1]);
}

/* Builtins that allocate or call mprotect themselves, in thread mode. */
static void op_builtins(const kind *k, run_out *out)
{
    gc_engine *e = NULL;
    ck_assert_int_eq(gc_engine_new(&e, NULL), GC_OK);
    ck_assert_int_eq(gc_builtins_register(e, NULL), GC_OK);
    gc_state *st = tu_state(4096, 100, 0);
    ck_assert_int_eq(gc_state_set_int(st, "bytes", 100000, NULL), GC_OK);
    snapshot s0;
    snap(st, &s0);
    static const char *const bytes[] = {"bytes"};
    gc_contract ca = {.domain_reads = bytes, .n_domain_reads = 1},
                cw = {.heavy_reads = HEAVY, .n_heavy_reads = 1};
    gc_exec_opts oa = {.process = "alloc", .mode = GC_MODE_THREAD, .workers = 1, .tasks = 2,
                       .contract = &ca};
    gc_exec_opts ow = {.process = "write_readonly", .mode = GC_MODE_THREAD, .workers = 1,
                       .tasks = 2, .contract = &cw};
    gc_result res[2];
    gc_err err;
    gc_err_clear(&err);
    arm();
    int rc = gc_execute_parallel(e, st, &oa, res, &err);
    ck_assert_msg(rc == GC_OK || rc == GC_ENOMEM, "alloc run: %s", gc_status_name(rc));
    if (rc != GC_OK) {
        expect_err("gc_execute_parallel(alloc)", rc, &err, NULL);
        out->status = rc;
    }
    for (int t = 0; rc == GC_OK && t < 2; t++) {
        ck_assert_msg(res[t].status == GC_OK || res[t].status == GC_ENOMEM, "alloc: %s %s",
                      gc_status_name(res[t].status), res[t].text);
        expect_task_text(t, &res[t]);
        if (res[t].status == GC_OK)
            ck_assert_int_eq(res[t].value, 100000);
        else if (out->status == GC_OK)
            out->status = res[t].status;
    }
    gc_err_clear(&err);
    rc = gc_execute_parallel(e, st, &ow, res, &err);
    gcf_disarm();
    ck_assert_msg(rc == GC_OK || rc == GC_ENOMEM, "write_readonly run: %s", gc_status_name(rc));
    if (rc != GC_OK)
        expect_err("gc_execute_parallel(write_readonly)", rc, &err, NULL);
    if (rc != GC_OK && out->status == GC_OK)
        out->status = rc;
    for (int t = 0; rc == GC_OK && t < 2; t++) {
        /* Refused by the kernel or by the injected failure: never writable. */
        ck_assert_msg(res[t].status == GC_EREADONLY || (res[t].status == GC_ENOMEM &&
                      (k->calls & GCF_ALLOC)), "write_readonly: %s %s",
                      gc_status_name(res[t].status), res[t].text);
        expect_task_text(t, &res[t]);
    }
    snap_same(st, &s0);
    ck_assert_int_eq(gc_execute_parallel(e, st, &oa, res, &err), GC_OK);
    ck_assert_int_eq(res[0].status, GC_OK);
    ck_assert_int_eq(res[1].value, 100000);
    gc_engine_free(e);
    gc_state_free(st);
}

/* bad_result, process mode only: its own allocation fails in the worker. */
static void op_bad_result(const kind *k, run_out *out)
{
    gc_engine *e = NULL;
    ck_assert_int_eq(gc_engine_new(&e, NULL), GC_OK);
    ck_assert_int_eq(gc_builtins_register(e, NULL), GC_OK);
    gc_state *st = tu_state(4096, 100, 0);
    ck_assert_int_eq(gc_state_set_int(st, "kind", 2, NULL), GC_OK);
    static const char *const kd[] = {"kind"};
    gc_contract c = {.domain_reads = kd, .n_domain_reads = 1};
    gc_exec_opts o = {.process = "bad_result", .mode = GC_MODE_PROCESS, .workers = 1,
                      .tasks = 1, .contract = &c};
    gc_result res[1];
    gc_err err;
    arm();
    int rc = gc_execute_parallel(e, st, &o, res, &err);
    gcf_disarm();
    ck_assert_int_eq(rc, GC_OK);
    /* Its broken reply (EWIRE), or the allocation failure reported (ENOMEM),
     * or a worker that could not start (EEXIT). */
    ck_assert_msg(res[0].status == GC_EWIRE || res[0].status == GC_ENOMEM ||
                  res[0].status == GC_EEXIT, "%s N=%u: %s %s", k->name, cur_n,
                  gc_status_name(res[0].status), res[0].text);
    expect_task_text(0, &res[0]);
    if (res[0].status != GC_EWIRE)
        out->outcome = gc_status_name(res[0].status);
    gc_engine_pool_stop(e);
    o.process = "checksum";
    gc_contract cs = {.heavy_reads = HEAVY, .n_heavy_reads = 2};
    o.contract = &cs;
    ck_assert_int_eq(gc_execute_parallel(e, st, &o, res, &err), GC_OK);
    ck_assert_int_eq(res[0].status, GC_OK);
    ck_assert_uint_eq((uint64_t)res[0].value, tu_checksum(st, HEAVY, N(HEAVY)));
    gc_engine_free(e);
    gc_state_free(st);
}

/* ---- the commit path ------------------------------------------------------------------ */

/* Checks one armed run of a writing builtin: nothing of a failed attempt is
 * installed or delivered. Returns the tasks that succeeded. */
static int commit_check(const kind *k, run_out *out, int rc, const gc_result *res,
                        const gc_err *err)
{
    ck_assert_msg(rc == GC_OK || rc == GC_ENOMEM || rc == GC_ESYS, "%s/%s N=%u: %s", cur_op,
                  k->name, cur_n, gc_status_name(rc));
    if (rc != GC_OK)
        expect_err("gc_execute_parallel", rc, err, NULL);
    if (rc != GC_OK && out->status == GC_OK)
        out->status = rc;
    int ok = 0;
    for (int t = 0; rc == GC_OK && t < TASKS; t++) {
        ck_assert_msg(task_status_ok(res[t].status, k->scope), "%s/%s N=%u task %d: %s %s",
                      cur_op, k->name, cur_n, t, gc_status_name(res[t].status), res[t].text);
        expect_task_text(t, &res[t]);
        if (res[t].status == GC_OK) {
            ok++;
            ck_assert_uint_ne(res[t].committed_version, 0);
            ck_assert_uint_eq(res[t].events_delivered, 1);
            ck_assert_uint_eq(res[t].messages_delivered, 1);
        } else {
            ck_assert_uint_eq(res[t].committed_version, 0);
            ck_assert_uint_eq(res[t].events_delivered + res[t].messages_delivered, 0);
            if (!out->outcome)
                out->outcome = gc_status_name(res[t].status);
        }
    }
    return ok;
}

/* Four tasks increment two keys (one not in the state yet, so a commit adds
 * it) and append to two bytes keys (a new one first, then one in the state,
 * so an install that fails part-way holds a new item and copied values to
 * give back), each attempt emitting an event and an
 * outbox message, under a validation rule and with an attempt history. The
 * tasks share a base, so most conflict and retry. Whatever failed, nothing
 * of a failed attempt is installed or delivered: the keys, the state's
 * version, the deliveries and the history count exactly the tasks that
 * succeeded, every first attempt saw its run's base, and a normal run
 * afterwards commits every task. */
static void commit_run(const kind *k, run_out *out, gc_mode mode)
{
    gc_engine *e = NULL;
    deliveries dl = {0, 0};
    gc_history *h = NULL;
    ck_assert_int_eq(gc_engine_new(&e, NULL), GC_OK);
    ck_assert_int_eq(gc_builtins_register(e, NULL), GC_OK);
    ck_assert_int_eq(gc_engine_rule_int_range(e, "counter", 0, 1000, NULL), GC_OK);
    ck_assert_int_eq(gc_engine_subscribe(e, "changed", on_delivery, &dl, NULL), GC_OK);
    ck_assert_int_eq(gc_engine_set_outbox(e, on_delivery, &dl, NULL), GC_OK);
    ck_assert_int_eq(gc_history_new(&h, NULL), GC_OK);
    gc_state *st = tu_state(4096, 100, 0);
    ck_assert_int_eq(gc_state_set_int(st, "counter", 0, NULL), GC_OK);
    ck_assert_int_eq(gc_state_set_bytes(st, "log", "", 0, NULL), GC_OK);
    uint64_t v0 = gc_state_version(st);
    uint64_t heavy = tu_checksum(st, HEAVY, N(HEAVY));
    static const char *const ireads[] = {"counter"}, *const iwrites[] = {"counter", "fresh"};
    static const char *const alog[] = {"log"}, *const awrites[] = {"journal", "log"};
    gc_contract ci = {.domain_reads = ireads, .n_domain_reads = 1, .domain_writes = iwrites,
                      .n_domain_writes = 2, .events = 1, .outbox = 1};
    gc_contract ca = {.domain_reads = alog, .n_domain_reads = 1, .domain_writes = awrites,
                      .n_domain_writes = 2, .events = 1, .outbox = 1};
    gc_exec_opts oi = {.process = "increment", .mode = mode, .workers = 2, .tasks = TASKS,
                       .contract = &ci, .retries = 3 * TASKS, .history = h};
    gc_exec_opts oa = oi;
    oa.process = "append";
    oa.contract = &ca;
    gc_result res[TASKS];
    gc_err err;
    gc_err erri, erra;
    gc_err_clear(&erri);
    gc_err_clear(&erra);
    arm();
    int ok_i = commit_check(k, out, gc_execute_parallel(e, st, &oi, res, &erri), res, &erri);
    size_t n_first = gc_history_count(h);      /* the increment run's attempts */
    uint64_t v1 = gc_state_version(st);        /* the append run's base */
    int ok_a = commit_check(k, out, gc_execute_parallel(e, st, &oa, res, &erra), res, &erra);
    gcf_disarm();
    const gc_value *v = NULL, *f = NULL, *lg = NULL, *jn = NULL;
    ck_assert_int_eq(gc_state_get(st, "counter", &v), GC_OK);
    ck_assert_int_eq(gc_state_get(st, "log", &lg), GC_OK);
    int fresh = gc_state_get(st, "fresh", &f) == GC_OK;
    int journal = gc_state_get(st, "journal", &jn) == GC_OK;   /* the last append's entry */
    ck_assert_msg(journal == (ok_a > 0) && (!journal || jn->len == 2),
                  "%s/%s N=%u: %d appends, journal %s", cur_op, k->name, cur_n, ok_a,
                  journal ? "kept" : "missing");
    ck_assert_msg(v->i == ok_i && (fresh ? f->i == 1 : ok_i == 0) && lg->len == 2u * (size_t)ok_a &&
                  gc_state_version(st) == v0 + (uint64_t)(ok_i + ok_a) &&
                  dl.events == ok_i + ok_a && dl.messages == ok_i + ok_a,
                  "%s/%s N=%u: %d+%d tasks succeeded, counter %lld, log %zu bytes, version +%llu, "
                  "%d events, %d messages", cur_op, k->name, cur_n, ok_i, ok_a, (long long)v->i,
                  lg->len, (unsigned long long)(gc_state_version(st) - v0), dl.events,
                  dl.messages);
    /* Complete or not, an attempt in the history lists only what could be
     * copied: a read or write whose key could not be copied is left out (the
     * attempt counted incomplete), never listed with a NULL key that a
     * checker reading the history would dereference. */
    for (size_t i = 0; i < gc_history_count(h); i++) {
        const gc_attempt *a = gc_history_at(h, i);
        for (size_t j = 0; j < a->n_reads + a->n_writes; j++) {
            const char *key = j < a->n_reads ? a->reads[j].key : a->writes[j - a->n_reads];
            ck_assert_msg(key &&
                              (strcmp(key, "counter") == 0 || strcmp(key, "fresh") == 0 ||
                               strcmp(key, "log") == 0 || strcmp(key, "journal") == 0),
                          "%s/%s N=%u: task %u attempt %u %s %zu is recorded as '%s'", cur_op,
                          k->name, cur_n, a->task, a->attempt,
                          j < a->n_reads ? "read" : "write", j, key ? key : "(null)");
        }
    }
    if (gc_history_incomplete(h) == 0) {
        int installed = 0;
        for (size_t i = 0; i < gc_history_count(h); i++) {
            const gc_attempt *a = gc_history_at(h, i);
            installed += a->outcome == GC_OK && a->version != 0;
            /* One base per run: every first attempt saw the state as its
             * run found it, whatever failed (not a later commit's). */
            uint64_t base = i < n_first ? v0 : v1;
            ck_assert_msg(a->attempt != 1 || a->base == base, "%s/%s N=%u: task %u's first "
                          "attempt saw version %llu, its run began at %llu", cur_op, k->name,
                          cur_n, a->task, (unsigned long long)a->base, (unsigned long long)base);
            /* A history that says it is complete holds every delivery of
             * an installed attempt, named as it was delivered (what a
             * checker reads): the event "changed" and the message "outbox"
             * with id m<task>; an attempt not installed delivered nothing. */
            size_t want = a->outcome == GC_OK && a->version != 0 ? 2 : 0;
            ck_assert_msg(a->n_deliveries == want, "%s/%s N=%u: task %u attempt %u holds %zu "
                          "deliveries, %zu were made", cur_op, k->name, cur_n, a->task,
                          a->attempt, a->n_deliveries, want);
            char mid[16];
            snprintf(mid, sizeof mid, "m%u", a->task);
            for (size_t j = 0; j < a->n_deliveries; j++) {
                const gc_hist_delivery *d = &a->deliveries[j];
                int event = d->kind == GC_DELIVERY_EVENT;
                ck_assert_msg(d->topic && d->id &&
                                  strcmp(d->topic, event ? "changed" : "outbox") == 0 &&
                                  strcmp(d->id, event ? "" : mid) == 0,
                              "%s/%s N=%u: task %u attempt %u delivery %zu is recorded as "
                              "%s '%s' id '%s'", cur_op, k->name, cur_n, a->task, a->attempt, j,
                              event ? "event" : "message", d->topic ? d->topic : "(null)",
                              d->id ? d->id : "(null)");
            }
        }
        ck_assert_int_eq(installed, ok_i + ok_a);
    }
    ck_assert_uint_eq(tu_checksum(st, HEAVY, N(HEAVY)), heavy);
    if (k->scope == GCF_CHILD)
        gc_engine_pool_stop(e);   /* see exec_run */
    ck_assert_msg(gc_execute_parallel(e, st, &oi, res, &err) == GC_OK, "rerun: %s", err.msg);
    for (int t = 0; t < TASKS; t++)
        ck_assert_msg(res[t].status == GC_OK, "%s/%s N=%u: rerun task %d: %s %s", cur_op,
                      k->name, cur_n, t, gc_status_name(res[t].status), res[t].text);
    ck_assert_int_eq(gc_state_get(st, "counter", &v), GC_OK);
    ck_assert_int_eq(v->i, ok_i + TASKS);
    ck_assert_int_eq(dl.events, ok_i + ok_a + TASKS);
    gc_engine_free(e);
    gc_history_free(h);
    gc_state_free(st);
}

static void op_commit_thread(const kind *k, run_out *out)
{
    commit_run(k, out, GC_MODE_THREAD);
}

static void op_commit_process(const kind *k, run_out *out)
{
    commit_run(k, out, GC_MODE_PROCESS);
}

/* The commit path's builtins, whose own event, message and write calls can
 * fail: fail_validation (two writes, the rule on the second) and list_append
 * (two appenders on one list key), one warm worker thread, no history (so
 * no allocation of the run is optional). A failed allocation is reported,
 * never swallowed: the run or one of its tasks ends ENOMEM, with a reason
 * that says so. A builtin whose event or message could not be made fails
 * with that reason, not with the text of the append it did before it, and
 * not with the rule's refusal of writes it did make. A failed run leaves
 * the state as it was; every committed append is in the list, and every
 * first attempt is built from the state as the run found it, so task 1,
 * which starts after task 0 committed, conflicts once (one base per run). */
static int commit_builtin_run(const kind *k, run_out *out, gc_engine *e, gc_state *st,
                              const gc_exec_opts *o, gc_result *res, int *ok)
{
    gc_err err;
    gc_err_clear(&err);
    uint32_t fired = gcf_fired();
    int rc = gc_execute_parallel(e, st, o, res, &err);
    int reported = rc == GC_ENOMEM;
    ck_assert_msg(rc == GC_OK || rc == GC_ENOMEM, "%s/%s N=%u: %s: %s", cur_op, k->name, cur_n,
                  o->process, gc_status_name(rc));
    if (rc != GC_OK) {
        expect_err(o->process, rc, &err, NULL);
        if (out->status == GC_OK)
            out->status = rc;
    }
    *ok = 0;
    for (int t = 0; rc == GC_OK && t < 2; t++) {
        expect_task_text(t, &res[t]);
        if (res[t].status == GC_ENOMEM) {
            reported = 1;
            if (!out->outcome)
                out->outcome = gc_status_name(res[t].status);
        } else {
            int want = o->contract->n_domain_writes == 2 ? GC_EVALIDATE : GC_OK;
            ck_assert_msg(res[t].status == want, "%s/%s N=%u: %s task %d: %s %s", cur_op,
                          k->name, cur_n, o->process, t, gc_status_name(res[t].status),
                          res[t].text);
            *ok += res[t].status == GC_OK;
        }
    }
    ck_assert_msg(gcf_fired() == fired || reported, "%s/%s N=%u: %s: an injected failure was "
                  "swallowed: run %s, tasks %s '%s', %s '%s'", cur_op, k->name, cur_n,
                  o->process, gc_status_name(rc), gc_status_name(res[0].status), res[0].text,
                  gc_status_name(res[1].status), res[1].text);
    return rc;
}

static void op_commit_builtins(const kind *k, run_out *out)
{
    gc_engine *e = NULL;
    deliveries dl = {0, 0};
    ck_assert_int_eq(gc_engine_new(&e, NULL), GC_OK);
    ck_assert_int_eq(gc_builtins_register(e, NULL), GC_OK);
    ck_assert_int_eq(gc_engine_rule_int_range(e, "r", 0, 9, NULL), GC_OK);
    ck_assert_int_eq(gc_engine_subscribe(e, "changed", on_delivery, &dl, NULL), GC_OK);
    ck_assert_int_eq(gc_engine_set_outbox(e, on_delivery, &dl, NULL), GC_OK);
    gc_state *st = tu_state(4096, 100, 0);
    ck_assert_int_eq(gc_state_set_int(st, "w", 1, NULL), GC_OK);
    ck_assert_int_eq(gc_state_set_int(st, "r", 1, NULL), GC_OK);
    ck_assert_int_eq(gc_state_set_bytes(st, "l", "", 0, NULL), GC_OK);
    static const char *const vw[] = {"w", "r"}, *const lk[] = {"l"};
    gc_contract cv = {.domain_writes = vw, .n_domain_writes = 2, .events = 1, .outbox = 1};
    gc_contract cl = {.domain_reads = lk, .n_domain_reads = 1, .domain_writes = lk,
                      .n_domain_writes = 1, .events = 1, .outbox = 1};
    gc_exec_opts ov = {.process = "fail_validation", .mode = GC_MODE_THREAD, .workers = 1,
                       .tasks = 2, .contract = &cv, .retries = 2};
    gc_exec_opts ol = ov;
    ol.process = "list_append";
    ol.contract = &cl;
    gc_result res[2];
    int ok = 0;
    /* Warm: the worker thread exists before anything fails. */
    ck_assert_int_eq(commit_builtin_run(k, out, e, st, &ov, res, &ok), GC_OK);
    uint64_t v0 = gc_state_version(st);
    arm();
    commit_builtin_run(k, out, e, st, &ov, res, &ok);
    int rc = commit_builtin_run(k, out, e, st, &ol, res, &ok);
    gcf_disarm();
    const gc_value *w, *r, *l;
    ck_assert_int_eq(gc_state_get(st, "w", &w), GC_OK);
    ck_assert_int_eq(gc_state_get(st, "r", &r), GC_OK);
    ck_assert_int_eq(gc_state_get(st, "l", &l), GC_OK);
    ck_assert_msg(w->i == 1 && r->i == 1 && l->len == 4u * (size_t)ok &&
                  gc_state_version(st) == v0 + (uint64_t)ok && dl.events == ok &&
                  dl.messages == ok, "%s/%s N=%u: %d appends: w %lld, r %lld, list %zu bytes, "
                  "version +%llu, %d events, %d messages", cur_op, k->name, cur_n, ok,
                  (long long)w->i, (long long)r->i, l->len,
                  (unsigned long long)(gc_state_version(st) - v0), dl.events, dl.messages);
    if (rc == GC_OK && ok == 2)
        ck_assert_msg(res[0].attempts == 1 && res[1].attempts == 2 &&
                      res[1].base_version == v0 + 1, "%s/%s N=%u: attempts %u, %u; task 1's "
                      "last base %llu", cur_op, k->name, cur_n, res[0].attempts, res[1].attempts,
                      (unsigned long long)res[1].base_version);
    ck_assert_int_eq(commit_builtin_run(k, out, e, st, &ol, res, &ok), GC_OK);
    ck_assert_int_eq(ok, 2);
    gc_engine_free(e);
    gc_state_free(st);
}

/* conflict sets the first declared write to its task number, with its event
 * and message; its two tasks share a base, so task 1 conflicts and retries.
 * A write that could not be made is reported (ENOMEM), never taken for a
 * success that would commit the event and message without it: the key
 * holds the number of the task that committed last, at that version. */
static void op_commit_conflict(const kind *k, run_out *out)
{
    gc_engine *e = NULL;
    deliveries dl = {0, 0};
    ck_assert_int_eq(gc_engine_new(&e, NULL), GC_OK);
    ck_assert_int_eq(gc_builtins_register(e, NULL), GC_OK);
    ck_assert_int_eq(gc_engine_subscribe(e, "changed", on_delivery, &dl, NULL), GC_OK);
    ck_assert_int_eq(gc_engine_set_outbox(e, on_delivery, &dl, NULL), GC_OK);
    gc_state *st = tu_state(4096, 100, 0);
    ck_assert_int_eq(gc_state_set_int(st, "c", -1, NULL), GC_OK);
    static const char *const ck[] = {"c"};
    gc_contract cc = {.domain_writes = ck, .n_domain_writes = 1, .events = 1, .outbox = 1};
    gc_exec_opts oc = {.process = "conflict", .mode = GC_MODE_THREAD, .workers = 1,
                       .tasks = 2, .contract = &cc, .retries = 2};
    gc_result res[2];
    int ok = 0;
    /* Warm: the worker thread exists before anything fails. */
    ck_assert_int_eq(commit_builtin_run(k, out, e, st, &oc, res, &ok), GC_OK);
    uint64_t v0 = gc_state_version(st);
    int d0 = dl.events;
    arm();
    int rc = commit_builtin_run(k, out, e, st, &oc, res, &ok);
    gcf_disarm();
    const gc_value *c = NULL;
    uint64_t cver = 0, now = gc_state_version(st);
    ck_assert_int_eq(gc_state_get(st, "c", &c), GC_OK);
    ck_assert_int_eq(gc_state_key_version(st, "c", &cver), GC_OK);
    ck_assert_msg(now == v0 + (uint64_t)ok && dl.events == d0 + ok && dl.messages == d0 + ok,
                  "%s/%s N=%u: %d committed, version +%llu, %d events, %d messages", cur_op,
                  k->name, cur_n, ok, (unsigned long long)(now - v0), dl.events - d0,
                  dl.messages - d0);
    for (int t = 0; rc == GC_OK && ok > 0 && t < 2; t++)
        if (res[t].status == GC_OK && res[t].committed_version == now)
            ck_assert_msg(c->i == t && cver == now, "%s/%s N=%u: task %d committed version %llu "
                          "but c is %lld from version %llu", cur_op, k->name, cur_n, t,
                          (unsigned long long)now, (long long)c->i, (unsigned long long)cver);
    gc_engine_free(e);
    gc_state_free(st);
}

/* ---- the loops ------------------------------------------------------------------------ */

#define B(c) GCF_BIT(GCF_##c)

static const kind alloc_here = {"alloc", GCF_ALLOC, 0, GCF_HERE, 0, 0};
static const kind alloc_persist = {"alloc-persist", GCF_ALLOC, 0, GCF_HERE, 1, 0};

static const kind zone_kinds[] = {
    {"alloc", GCF_ALLOC, 0, GCF_HERE, 0, 0},
    {"memfd_create", B(MEMFD_CREATE), EMFILE, GCF_HERE, 0, 0},
    {"ftruncate", B(FTRUNCATE), ENOSPC, GCF_HERE, 0, 0},
    {"fcntl", B(FCNTL), EBUSY, GCF_HERE, 0, 0},
    {"mmap", B(MMAP), ENOMEM, GCF_HERE, 0, 0},
    {"madvise", B(MADVISE), EAGAIN, GCF_HERE, 0, 0},
    {"mprotect", B(MPROTECT), ENOMEM, GCF_HERE, 0, 0},
    {"syscall-persist", B(MEMFD_CREATE) | B(FTRUNCATE) | B(FCNTL) | B(MMAP) | B(MADVISE) |
     B(MPROTECT), EIO,
     GCF_HERE, 1, 0},
};

static const kind wire_kinds[] = {
    {"alloc", GCF_ALLOC, 0, GCF_HERE, 0, 0},
    {"fstat", B(FSTAT), EIO, GCF_HERE, 0, 0},
    {"fcntl", B(FCNTL), EIO, GCF_HERE, 0, 0},
    {"pread", B(PREAD), EIO, GCF_HERE, 0, 0},
    {"pread-persist", B(PREAD), EIO, GCF_HERE, 1, 0},
    {"pread-eintr", B(PREAD), 0, GCF_HERE, 0, 1},
};

static const kind thread_kinds[] = {
    {"alloc", GCF_ALLOC, 0, GCF_HERE, 0, 0},
    {"pthread_create", B(PTHREAD_CREATE), EAGAIN, GCF_HERE, 0, 0},
    {"alloc-persist", GCF_ALLOC, 0, GCF_HERE, 1, 0},
};

static const kind process_kinds[] = {
    {"alloc", GCF_ALLOC, 0, GCF_HERE, 0, 0},
    {"socketpair", B(SOCKETPAIR), EMFILE, GCF_HERE, 0, 0},
    {"fork", B(FORK), EAGAIN, GCF_HERE, 0, 0},
    {"sendmsg", B(SENDMSG), ENOBUFS, GCF_HERE, 0, 0},
    {"recv", B(RECV), ENOMEM, GCF_HERE, 0, 0},
    {"poll", B(POLL), ENOMEM, GCF_HERE, 0, 0},
    {"sendmsg-eintr", B(SENDMSG), 0, GCF_HERE, 0, 1},
    {"recv-eintr", B(RECV), 0, GCF_HERE, 0, 1},
    {"poll-eintr", B(POLL), 0, GCF_HERE, 0, 1},
    {"alloc-persist", GCF_ALLOC, 0, GCF_HERE, 1, 0},
    {"spawn-persist", B(SOCKETPAIR) | B(FORK), EAGAIN, GCF_HERE, 1, 0},
    {"poll-persist", B(POLL), ENOMEM, GCF_HERE, 1, 0},
    {"recv-persist", B(RECV), ENOMEM, GCF_HERE, 1, 0},
};

static const kind worker_kinds[] = {
    {"worker-alloc", GCF_ALLOC, 0, GCF_CHILD, 0, 0},
    {"worker-recvmsg", B(RECVMSG), ENOMEM, GCF_CHILD, 0, 0},
    {"worker-sendmsg", B(SENDMSG), ENOBUFS, GCF_CHILD, 0, 0},
    {"worker-fstat", B(FSTAT), EIO, GCF_CHILD, 0, 0},
    {"worker-fcntl", B(FCNTL), EIO, GCF_CHILD, 0, 0},
    {"worker-pread", B(PREAD), EIO, GCF_CHILD, 0, 0},
    {"worker-mmap", B(MMAP), ENOMEM, GCF_CHILD, 0, 0},
    {"worker-close_range", B(CLOSE_RANGE), EINVAL, GCF_CHILD, 0, 0},
    {"worker-dup2", B(DUP2), EBADF, GCF_CHILD, 0, 0},
    {"worker-recvmsg-eintr", B(RECVMSG), 0, GCF_CHILD, 0, 1},
    {"worker-alloc-persist", GCF_ALLOC, 0, GCF_CHILD, 1, 0},
};

static const kind output_kinds[] = {
    {"worker-mmap", B(MMAP), ENOMEM, GCF_CHILD, 0, 0},
    {"worker-fstat", B(FSTAT), EIO, GCF_CHILD, 0, 0},
    {"worker-fcntl", B(FCNTL), EIO, GCF_CHILD, 0, 0},
};

static const kind generation_kinds[] = {
    {"worker-pthread_create", B(PTHREAD_CREATE), EAGAIN, GCF_CHILD, 0, 0},
    {"worker-alloc", GCF_ALLOC, 0, GCF_CHILD, 0, 0},
};

static const kind builtin_kinds[] = {
    {"alloc", GCF_ALLOC, 0, GCF_HERE, 0, 0},
    {"mprotect", B(MPROTECT), ENOMEM, GCF_HERE, 0, 0},
};

static const kind commit_kinds[] = {
    {"alloc", GCF_ALLOC, 0, GCF_HERE, 0, 0},
    {"alloc-persist", GCF_ALLOC, 0, GCF_HERE, 1, 0},
};

static const kind commit_process_kinds[] = {
    {"alloc", GCF_ALLOC, 0, GCF_HERE, 0, 0},
    {"worker-alloc", GCF_ALLOC, 0, GCF_CHILD, 0, 0},
    {"alloc-persist", GCF_ALLOC, 0, GCF_HERE, 1, 0},
};

/* Persistent kinds run in the full form only. */
static int kind_runs(const kind *k)
{
    return full_mode() || !k->persist;
}

START_TEST(anomaly_state)
{
    loop("state.build", op_state, &alloc_here);
    if (full_mode())
        loop("state.build", op_state, &alloc_persist);
}
END_TEST

START_TEST(anomaly_zone)
{
    const kind *k = &zone_kinds[_i];
    if (kind_runs(k))
        loop("zone.lifecycle", op_zone, k);
}
END_TEST

START_TEST(anomaly_factory)
{
    loop("ctx.factory", op_factory, &alloc_here);
    if (full_mode())
        loop("ctx.factory", op_factory, &alloc_persist);
}
END_TEST

START_TEST(anomaly_wire)
{
    const kind *k = &wire_kinds[_i];
    if (kind_runs(k))
        loop("wire.decode", op_wire, k);
}
END_TEST

START_TEST(anomaly_registry)
{
    loop("engine.registry", op_registry, &alloc_here);
    if (full_mode())
        loop("engine.registry", op_registry, &alloc_persist);
}
END_TEST

START_TEST(anomaly_exec_thread)
{
    const kind *k = &thread_kinds[_i];
    if (kind_runs(k))
        loop("exec.thread", op_exec_thread, k);
}
END_TEST

START_TEST(anomaly_exec_process)
{
    const kind *k = &process_kinds[_i];
    if (kind_runs(k))
        loop("exec.process", op_exec_process, k);
}
END_TEST

START_TEST(anomaly_worker)
{
    const kind *k = &worker_kinds[_i];
    if (kind_runs(k))
        loop("exec.worker", op_exec_process, k);
}
END_TEST

START_TEST(anomaly_outputs)
{
    loop("exec.outputs", op_exec_outputs, &output_kinds[_i]);
}
END_TEST

START_TEST(anomaly_generations)
{
    loop("exec.generations", op_exec_generations, &generation_kinds[_i]);
}
END_TEST

START_TEST(anomaly_builtins)
{
    loop("builtins.thread", op_builtins, &builtin_kinds[_i]);
}
END_TEST

START_TEST(anomaly_bad_result)
{
    loop("builtins.process", op_bad_result, &worker_kinds[0]);
}
END_TEST

START_TEST(anomaly_commit_thread)
{
    const kind *k = &commit_kinds[_i];
    if (kind_runs(k))
        loop("commit.thread", op_commit_thread, k);
}
END_TEST

START_TEST(anomaly_commit_process)
{
    const kind *k = &commit_process_kinds[_i];
    if (kind_runs(k))
        loop("commit.process", op_commit_process, k);
}
END_TEST

START_TEST(anomaly_commit_builtins)
{
    const kind *k = &commit_kinds[_i];
    if (kind_runs(k))
        loop("commit.builtins", op_commit_builtins, k);
}
END_TEST

START_TEST(anomaly_commit_conflict)
{
    const kind *k = &commit_kinds[_i];
    if (kind_runs(k))
        loop("commit.conflict", op_commit_conflict, k);
}
END_TEST

Suite *suite_anomaly(void);
Suite *suite_anomaly(void)
{
    Suite *s = suite_create("anomaly");
    TCase *tc = tcase_create("loops");
    tcase_set_timeout(tc, full_mode() ? 600 : 120);
    tcase_add_test(tc, anomaly_state);
    tcase_add_loop_test(tc, anomaly_zone, 0, (int)N(zone_kinds));
    tcase_add_test(tc, anomaly_factory);
    tcase_add_loop_test(tc, anomaly_wire, 0, (int)N(wire_kinds));
    tcase_add_test(tc, anomaly_registry);
    tcase_add_loop_test(tc, anomaly_exec_thread, 0, (int)N(thread_kinds));
    tcase_add_loop_test(tc, anomaly_exec_process, 0, (int)N(process_kinds));
    tcase_add_loop_test(tc, anomaly_worker, 0, (int)N(worker_kinds));
    tcase_add_loop_test(tc, anomaly_outputs, 0, (int)N(output_kinds));
    tcase_add_loop_test(tc, anomaly_generations, 0, (int)N(generation_kinds));
    tcase_add_loop_test(tc, anomaly_builtins, 0, (int)N(builtin_kinds));
    tcase_add_test(tc, anomaly_bad_result);
    tcase_add_loop_test(tc, anomaly_commit_thread, 0, (int)N(commit_kinds));
    tcase_add_loop_test(tc, anomaly_commit_process, 0, (int)N(commit_process_kinds));
    tcase_add_loop_test(tc, anomaly_commit_builtins, 0, (int)N(commit_kinds));
    tcase_add_loop_test(tc, anomaly_commit_conflict, 0, (int)N(commit_kinds));
    suite_add_tcase(s, tc);
    return s;
}
