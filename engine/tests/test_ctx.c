/* The context factory and its accessors: a context exposes exactly what the
 * contract declares, with the state's own bytes (zero-copy in thread mode);
 * every factory error names what is wrong; undeclared access is refused and
 * counted. The first test is INC-014's regression: a worker context built
 * from a state with a heavy zone must see the heavy data. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctx_int.h"
#include "engine_int.h"
#include "gapcheck/gapcheck.h"
#include "gapcheck/wire.h"
#include "suites.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Domain a=int 1, b=str "bee", c=double 0.5, raw=bytes; heavy inputs x
 * (sequence), y (random:3), z (zero-length); outputs o1, o2. */
static gc_state *make_state(int with_zone)
{
    gc_state *st = NULL;
    ck_assert_int_eq(gc_state_new(&st, NULL), GC_OK);
    ck_assert_int_eq(gc_state_set_int(st, "a", 1, NULL), GC_OK);
    ck_assert_int_eq(gc_state_set_str(st, "b", "bee", NULL), GC_OK);
    ck_assert_int_eq(gc_state_set_double(st, "c", 0.5, NULL), GC_OK);
    ck_assert_int_eq(gc_state_set_bytes(st, "raw", "\0\1\2", 3, NULL), GC_OK);
    if (!with_zone)
        return st;
    gc_zone *z = NULL;
    ck_assert_int_eq(gc_zone_new(&z, NULL), GC_OK);
    ck_assert_int_eq(gc_zone_declare(z, "x", 10000, 0, NULL), GC_OK);
    ck_assert_int_eq(gc_zone_declare(z, "y", 777, 0, NULL), GC_OK);
    ck_assert_int_eq(gc_zone_declare(z, "z", 0, 0, NULL), GC_OK);
    ck_assert_int_eq(gc_zone_declare(z, "o1", 100, GC_ENTRY_OUTPUT, NULL), GC_OK);
    ck_assert_int_eq(gc_zone_declare(z, "o2", 200, GC_ENTRY_OUTPUT, NULL), GC_OK);
    ck_assert_int_eq(gc_zone_allocate(z, NULL), GC_OK);
    void *p;
    size_t n;
    gc_pattern seq = {GC_PATTERN_SEQUENCE, 0}, rnd = {GC_PATTERN_RANDOM, 3};
    ck_assert_int_eq(gc_zone_fill(z, "x", &p, &n, NULL), GC_OK);
    gc_pattern_fill(&seq, p, n, 0);
    ck_assert_int_eq(gc_zone_fill(z, "y", &p, &n, NULL), GC_OK);
    gc_pattern_fill(&rnd, p, n, 0);
    ck_assert_int_eq(gc_zone_publish(z, NULL), GC_OK);
    ck_assert_int_eq(gc_state_set_heavy(st, z, NULL), GC_OK);
    return st;
}

static uint64_t zone_sum(const gc_state *st, const char *name)
{
    const void *d;
    size_t n;
    ck_assert_int_eq(gc_zone_read(gc_state_heavy(st), name, &d, &n, NULL), GC_OK);
    return gc_checksum(d, n, GC_CHECKSUM_SEED);
}

/* INC-002: outputs that cannot be bound writable (frozen) are refused by the
 * factory with EREADONLY naming the entry; a contract without outputs is
 * still served; freezing is for published zones only. */
START_TEST(factory_refuses_frozen_outputs)
{
    gc_err err;
    gc_zone *z;
    ck_assert_int_eq(gc_zone_new(&z, &err), GC_OK);
    ck_assert_int_eq(gc_zone_declare(z, "in", 4096, 0, &err), GC_OK);
    ck_assert_int_eq(gc_zone_declare(z, "res", 8192, GC_ENTRY_OUTPUT, &err), GC_OK);
    ck_assert_int_eq(gc_zone_allocate(z, &err), GC_OK);
    ck_assert_int_eq(gc_zone_freeze_outputs(z, &err), GC_ESTATE);
    ck_assert_int_eq(gc_zone_publish(z, &err), GC_OK);
    ck_assert(!gc_zone_outputs_frozen(z));
    ck_assert_int_eq(gc_zone_freeze_outputs(z, &err), GC_OK);
    ck_assert(gc_zone_outputs_frozen(z));
    ck_assert_int_eq(gc_zone_freeze_outputs(z, &err), GC_OK);   /* idempotent */
    gc_state *st;
    ck_assert_int_eq(gc_state_new(&st, &err), GC_OK);
    ck_assert_int_eq(gc_state_set_heavy(st, z, &err), GC_OK);
    const char *outs[] = {"res"}, *ins[] = {"in"};
    gc_contract w = {.outputs = outs, .n_outputs = 1};
    gc_ctx *ctx = NULL;
    gc_err_clear(&err);
    ck_assert_int_eq(gc_ctx_from_state(st, &w, NULL, 0, 1, &ctx, &err), GC_EREADONLY);
    ck_assert_ptr_null(ctx);
    ck_assert_msg(strstr(err.msg, "'res' cannot be bound writable") != NULL, "%s", err.msg);
    gc_contract r = {.heavy_reads = ins, .n_heavy_reads = 1};
    ck_assert_int_eq(gc_ctx_from_state(st, &r, NULL, 0, 1, &ctx, &err), GC_OK);
    gc_ctx_free(ctx);
    gc_state_free(st);
}
END_TEST

START_TEST(factory_hands_heavy_zone_to_context_inc014)
{
    gc_state *st = make_state(1);
    static const char *const heavy[] = {"x"};
    gc_contract c = {.heavy_reads = heavy, .n_heavy_reads = 1};
    gc_ctx *ctx = NULL;
    gc_err err;
    ck_assert_int_eq(gc_ctx_from_state(st, &c, NULL, 0, 1, &ctx, &err), GC_OK);
    const void *d = NULL;
    size_t n = 0;
    ck_assert_int_eq(gc_ctx_heavy(ctx, "x", &d, &n), GC_OK);
    ck_assert_uint_eq(n, 10000);
    ck_assert_uint_eq(gc_checksum(d, n, GC_CHECKSUM_SEED), zone_sum(st, "x"));
    ck_assert_uint_eq(gc_ctx_generation(ctx), gc_zone_generation(gc_state_heavy(st)));
    ck_assert_uint_ne(gc_ctx_generation(ctx), 0);
    /* Heavy reads only: the input file, not the output file. */
    ck_assert_uint_eq(gc_wire_input_size(ctx), gc_zone_input_size(gc_state_heavy(st)));
    ck_assert_uint_eq(gc_wire_output_size(ctx), 0);
    gc_ctx_free(ctx);
    gc_state_free(st);
}
END_TEST

START_TEST(factory_exposes_exactly_the_contract)
{
    gc_state *st = make_state(1);
    static const char *const dom[] = {"b", "a"}, *const heavy[] = {"y", "x", "z"},
                             *const outs[] = {"o2"};
    gc_contract c = {dom, N(dom), heavy, N(heavy), outs, N(outs), NULL, 0, NULL, 0, 0};
    gc_ctx *ctx = NULL;
    ck_assert_int_eq(gc_ctx_from_state(st, &c, NULL, 2, 5, &ctx, NULL), GC_OK);
    ck_assert_int_eq(gc_ctx_mode_of(ctx), GC_CTX_THREAD);
    ck_assert_uint_eq(gc_ctx_task(ctx), 2);
    ck_assert_uint_eq(gc_ctx_task_count(ctx), 5);
    ck_assert_uint_eq(gc_ctx_deadline_ns(ctx), 0);
    ck_assert_uint_eq(gc_ctx_domain_count(ctx), 2);
    ck_assert_str_eq(gc_ctx_domain_name(ctx, 0), "b");
    ck_assert_str_eq(gc_ctx_domain_name(ctx, 1), "a");
    ck_assert_ptr_null(gc_ctx_domain_name(ctx, 2));
    ck_assert_uint_eq(gc_ctx_entry_count(ctx), 4);
    static const char *const order[] = {"y", "x", "z", "o2"};
    const gc_zone *z = gc_state_heavy(st);
    for (size_t i = 0; i < 4; i++) {
        const gc_zone_entry *e = gc_ctx_entry_at(ctx, i), *ze = gc_zone_find(z, order[i]);
        ck_assert_str_eq(e->name, order[i]);
        ck_assert_uint_eq(e->offset, ze->offset);
        ck_assert_uint_eq(e->length, ze->length);
        ck_assert_uint_eq(e->flags, ze->flags);
    }
    ck_assert_ptr_null(gc_ctx_entry_at(ctx, 4));
    /* Same bytes, same memory: thread mode is zero-copy. */
    for (size_t i = 0; i < 3; i++) {
        const void *d, *zd;
        size_t n, zn;
        ck_assert_int_eq(gc_ctx_heavy(ctx, order[i], &d, &n), GC_OK);
        ck_assert_int_eq(gc_zone_read(z, order[i], &zd, &zn, NULL), GC_OK);
        ck_assert_ptr_eq(d, zd);
        ck_assert_uint_eq(n, zn);
        ck_assert_uint_eq(gc_checksum(d, n, GC_CHECKSUM_SEED), zone_sum(st, order[i]));
    }
    void *o;
    size_t on;
    ck_assert_int_eq(gc_ctx_output(ctx, "o2", &o, &on), GC_OK);
    ck_assert_uint_eq(on, 200);
    memset(o, 0x5A, on);
    const void *back;
    size_t bn;
    ck_assert_int_eq(gc_zone_read(z, "o2", &back, &bn, NULL), GC_OK);
    ck_assert_uint_eq(((const uint8_t *)back)[199], 0x5A);
    int64_t i64;
    const char *s;
    ck_assert_int_eq(gc_ctx_int(ctx, "a", &i64), GC_OK);
    ck_assert_int_eq(i64, 1);
    ck_assert_int_eq(gc_ctx_str(ctx, "b", &s), GC_OK);
    ck_assert_str_eq(s, "bee");
    ck_assert_uint_eq(gc_ctx_violations(ctx), 0);
    ck_assert_str_eq(gc_ctx_last_error(ctx), "");
    ck_assert_uint_eq(gc_wire_output_size(ctx), gc_zone_output_size(z));
    gc_ctx_free(ctx);
    gc_state_free(st);
}
END_TEST

START_TEST(context_domain_values_are_copies)
{
    gc_state *st = make_state(0);
    static const char *const dom[] = {"b", "c", "raw"};
    gc_contract c = {.domain_reads = dom, .n_domain_reads = N(dom)};
    gc_ctx *ctx = NULL;
    ck_assert_int_eq(gc_ctx_from_state(st, &c, NULL, 0, 1, &ctx, NULL), GC_OK);
    ck_assert_int_eq(gc_state_set_str(st, "b", "changed", NULL), GC_OK);
    gc_state_free(st);   /* the context outlives the state's values */
    const char *s;
    double d;
    const void *raw;
    size_t n;
    const gc_value *v;
    ck_assert_int_eq(gc_ctx_str(ctx, "b", &s), GC_OK);
    ck_assert_str_eq(s, "bee");
    ck_assert_int_eq(gc_ctx_double(ctx, "c", &d), GC_OK);
    ck_assert_double_eq(d, 0.5);
    ck_assert_int_eq(gc_ctx_bytes(ctx, "raw", &raw, &n), GC_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_mem_eq(raw, "\0\1\2", 3);
    ck_assert_int_eq(gc_ctx_value(ctx, "raw", &v), GC_OK);
    ck_assert_int_eq(v->type, GC_VAL_BYTES);
    ck_assert_uint_eq(gc_ctx_generation(ctx), 0);
    ck_assert_uint_eq(gc_ctx_entry_count(ctx), 0);
    gc_ctx_free(ctx);
}
END_TEST

/* The violation and undeclared-read counts saturate at UINT32_MAX: a count
 * that wrapped to 0 would read as a task that broke no contract (strict) or
 * read nothing undeclared (lax). The counts start near the top here, as no
 * test can make four billion accesses. */
START_TEST(contract_counts_saturate)
{
    gc_state *st = make_state(0);
    static const char *const dom[] = {"b"};
    gc_contract c = {.domain_reads = dom, .n_domain_reads = 1};
    gc_config lax = {.strict_contracts = 0, .commit = GC_COMMIT_SMART};
    gc_ctx *strict, *loose;
    ck_assert_int_eq(gc_ctx_from_state(st, &c, NULL, 0, 1, &strict, NULL), GC_OK);
    ck_assert_int_eq(gc_ctx_from_state(st, &c, &lax, 0, 1, &loose, NULL), GC_OK);
    strict->violations = UINT32_MAX - 1;
    loose->undeclared_reads = UINT32_MAX - 1;
    int64_t i64;
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(gc_ctx_int(strict, "a", &i64), GC_ECONTRACT);
        ck_assert_uint_eq(gc_ctx_violations(strict), UINT32_MAX);
        ck_assert_int_eq(gc_ctx_int(loose, "a", &i64), GC_OK);
        ck_assert_int_eq(i64, 1);
        ck_assert_uint_eq(gc_ctx_undeclared_reads(loose), UINT32_MAX);
    }
    gc_ctx_free(strict);
    gc_ctx_free(loose);
    gc_state_free(st);
}
END_TEST

START_TEST(undeclared_access_refused_and_counted)
{
    gc_state *st = make_state(1);
    static const char *const dom[] = {"b"}, *const heavy[] = {"y", "x"}, *const outs[] = {"o2"};
    gc_contract c = {dom, 1, heavy, 2, outs, 1, NULL, 0, NULL, 0, 0};
    gc_ctx *ctx = NULL;
    ck_assert_int_eq(gc_ctx_from_state(st, &c, NULL, 0, 1, &ctx, NULL), GC_OK);
    const void *d;
    void *w;
    size_t n;
    int64_t i64;
    ck_assert_int_eq(gc_ctx_heavy(ctx, "z", &d, &n), GC_ECONTRACT);   /* exists, undeclared */
    ck_assert_uint_eq(gc_ctx_violations(ctx), 1);
    ck_assert_str_eq(gc_ctx_last_error(ctx),
                     "'z' is not declared by the contract (heavy reads: y, x)");
    ck_assert_int_eq(gc_ctx_heavy(ctx, "nope", &d, &n), GC_ECONTRACT);
    ck_assert_int_eq(gc_ctx_int(ctx, "a", &i64), GC_ECONTRACT);
    ck_assert_str_eq(gc_ctx_last_error(ctx), "'a' is not declared by the contract (domain keys: b)");
    ck_assert_int_eq(gc_ctx_output(ctx, "o1", &w, &n), GC_ECONTRACT);
    ck_assert_str_eq(gc_ctx_last_error(ctx), "'o1' is not declared by the contract (outputs: o2)");
    ck_assert_uint_eq(gc_ctx_violations(ctx), 4);
    /* Writing a declared read is a breach too. */
    ck_assert_int_eq(gc_ctx_output(ctx, "y", &w, &n), GC_EREADONLY);
    ck_assert_uint_eq(gc_ctx_violations(ctx), 5);
    /* Wrong type or accessor on a declared name: an error, not a violation. */
    ck_assert_int_eq(gc_ctx_int(ctx, "b", &i64), GC_EINVAL);
    ck_assert_ptr_nonnull(strstr(gc_ctx_last_error(ctx), "is str, not int"));
    ck_assert_int_eq(gc_ctx_heavy(ctx, "o2", &d, &n), GC_EINVAL);
    ck_assert_int_eq(gc_ctx_heavy(ctx, NULL, &d, &n), GC_EINVAL);
    ck_assert_int_eq(gc_ctx_heavy(ctx, "y", NULL, &n), GC_EINVAL);
    ck_assert_uint_eq(gc_ctx_violations(ctx), 5);
    ck_assert_int_eq(gc_ctx_int(NULL, "b", &i64), GC_EINVAL);
    gc_ctx_free(ctx);
    gc_state_free(st);
}
END_TEST

START_TEST(empty_contract_exposes_nothing)
{
    gc_state *st = make_state(1);
    gc_contract c = {0};
    gc_ctx *ctx = NULL;
    ck_assert_int_eq(gc_ctx_from_state(st, &c, NULL, 0, 1, &ctx, NULL), GC_OK);
    ck_assert_uint_eq(gc_ctx_domain_count(ctx), 0);
    ck_assert_uint_eq(gc_ctx_entry_count(ctx), 0);
    /* No heavy entry declared: the context names no zone, so a process
     * worker is sent no descriptor at all. */
    ck_assert_uint_eq(gc_ctx_generation(ctx), 0);
    ck_assert_uint_eq(gc_wire_input_size(ctx), 0);
    ck_assert_uint_eq(gc_wire_output_size(ctx), 0);
    const void *d;
    size_t n;
    ck_assert_int_eq(gc_ctx_heavy(ctx, "x", &d, &n), GC_ECONTRACT);
    ck_assert_str_eq(gc_ctx_last_error(ctx), "'x' is not declared by the contract (heavy reads: none)");
    gc_ctx_free(ctx);
    gc_state_free(st);
}
END_TEST

struct factory_case {
    const char *label;
    int with_zone;
    gc_contract c;
    uint32_t task, ntasks;
    int status;
    const char *msg;   /* substring of the reason */
};

static const char *const L_x[] = {"x"}, *const L_o1[] = {"o1"}, *const L_q[] = {"q"},
                         *const L_aa[] = {"a", "a"}, *const L_xx[] = {"x", "y", "x"},
                         *const L_bad[] = {"bad name"}, *const L_dot[] = {".x"},
                         *const L_null[] = {NULL}, *const L_ab[] = {"a", "nope"};

static const struct factory_case factory_cases[] = {
    {"missing domain key", 1, {L_ab, 2, 0, 0, 0, 0, NULL, 0, NULL, 0, 0}, 0, 1, GC_ENOTFOUND,
     "domain key 'nope' declared by the contract is not in the state"},
    {"missing heavy entry", 1, {0, 0, L_q, 1, 0, 0, NULL, 0, NULL, 0, 0}, 0, 1, GC_ENOTFOUND,
     "heavy entry 'q' declared by the contract is not in the state's heavy zone"},
    {"missing output", 1, {0, 0, 0, 0, L_q, 1, NULL, 0, NULL, 0, 0}, 0, 1, GC_ENOTFOUND, "output entry 'q'"},
    {"heavy without zone", 0, {0, 0, L_x, 1, 0, 0, NULL, 0, NULL, 0, 0}, 0, 1, GC_ENOTFOUND,
     "heavy entry 'x' declared by the contract is not in the state (the state has no heavy zone)"},
    {"output without zone", 0, {0, 0, 0, 0, L_o1, 1, NULL, 0, NULL, 0, 0}, 0, 1, GC_ENOTFOUND,
     "(the state has no heavy zone)"},
    {"heavy read names an output", 1, {0, 0, L_o1, 1, 0, 0, NULL, 0, NULL, 0, 0}, 0, 1, GC_ECONTRACT,
     "'o1' is declared by the contract as a heavy read but the zone holds it as an output"},
    {"output names an input", 1, {0, 0, 0, 0, L_x, 1, NULL, 0, NULL, 0, 0}, 0, 1, GC_ECONTRACT,
     "as an output but the zone holds it as an input entry"},
    {"duplicate domain key", 1, {L_aa, 2, 0, 0, 0, 0, NULL, 0, NULL, 0, 0}, 0, 1, GC_EINVAL, "declared twice"},
    {"duplicate heavy read", 1, {0, 0, L_xx, 3, 0, 0, NULL, 0, NULL, 0, 0}, 0, 1, GC_EINVAL, "'x' is declared twice"},
    {"heavy read and output", 1, {0, 0, L_x, 1, L_x, 1, NULL, 0, NULL, 0, 0}, 0, 1, GC_EINVAL,
     "both as a heavy read and an output"},
    {"invalid name", 1, {L_bad, 1, 0, 0, 0, 0, NULL, 0, NULL, 0, 0}, 0, 1, GC_EINVAL, "domain key name has byte 0x20"},
    {"dot name", 1, {0, 0, L_dot, 1, 0, 0, NULL, 0, NULL, 0, 0}, 0, 1, GC_EINVAL, "starts with '.'"},
    {"NULL name", 1, {0, 0, 0, 0, L_null, 1, NULL, 0, NULL, 0, 0}, 0, 1, GC_EINVAL, "output entry name is missing"},
    {"NULL list", 1, {NULL, 2, 0, 0, 0, 0, NULL, 0, NULL, 0, 0}, 0, 1, GC_EINVAL, "list is NULL"},
    {"too many keys", 1, {L_aa, GC_DOMAIN_MAX + 1, 0, 0, 0, 0, NULL, 0, NULL, 0, 0}, 0, 1, GC_ELIMIT, "limit 256"},
    {"too many entries", 1, {0, 0, L_x, GC_HEAVY_MAX, L_x, 1, NULL, 0, NULL, 0, 0}, 0, 1, GC_ELIMIT, "limit 1024"},
    {"task out of range", 1, {0}, 3, 3, GC_EINVAL, "task 3 of 3"},
    {"duplicate domain write", 1, {.domain_writes = L_aa, .n_domain_writes = 2}, 0, 1, GC_EINVAL,
     "domain write 'a' is declared twice"},
    {"too many domain writes", 1, {.domain_writes = L_aa, .n_domain_writes = GC_DOMAIN_MAX + 1},
     0, 1, GC_ELIMIT, "domain writes (limit 256)"},
    {"return key not a write", 1, {.domain_writes = L_x, .n_domain_writes = 1, .return_key = "q"},
     0, 1, GC_EINVAL, "return key 'q' is not a declared domain write"},
    {"invalid write name", 1, {.domain_writes = L_dot, .n_domain_writes = 1}, 0, 1, GC_EINVAL,
     "domain write name '.x' starts with '.'"},
    {"no tasks", 1, {0}, 0, 0, GC_EINVAL, "task 0 of 0"},
};

START_TEST(factory_errors)
{
    const struct factory_case *fc = &factory_cases[_i];
    gc_state *st = make_state(fc->with_zone);
    gc_ctx *ctx = NULL;
    gc_err err;
    gc_err_clear(&err);
    int rc = gc_ctx_from_state(st, &fc->c, NULL, fc->task, fc->ntasks, &ctx, &err);
    ck_assert_msg(rc == fc->status, "%s: status %s (%s), expected %s", fc->label,
                  gc_status_name(rc), err.msg, gc_status_name(fc->status));
    ck_assert_int_eq(err.status, fc->status);
    ck_assert_msg(strstr(err.msg, fc->msg), "%s: reason '%s' lacks '%s'", fc->label, err.msg,
                  fc->msg);
    ck_assert_ptr_null(ctx);
    gc_state_free(st);
}
END_TEST

/* A registration checks the contract as the factory does, before it copies
 * anything: every row above that the contract alone decides (not the state,
 * not the task) is refused by gc_engine_register with the same status and
 * reason, and registers nothing; the rows the state decides register, since
 * a contract names what a process may touch in any state. */
static int reg_noop(gc_ctx *ctx, gc_proc_out *out)
{
    (void)ctx, (void)out;
    return GC_OK;
}

START_TEST(registration_refuses_what_the_factory_refuses)
{
    const struct factory_case *fc = &factory_cases[_i];
    if (fc->task >= fc->ntasks)
        return;   /* a task row: nothing to do with the contract */
    int contract_alone = fc->status == GC_EINVAL || fc->status == GC_ELIMIT;
    gc_engine *e = NULL;
    gc_err err;
    ck_assert_int_eq(gc_engine_new(&e, &err), GC_OK);
    gc_err_clear(&err);
    int rc = gc_engine_register(e, "p", reg_noop, &fc->c, &err);
    if (contract_alone) {
        ck_assert_msg(rc == fc->status, "%s: status %s (%s), expected %s", fc->label,
                      gc_status_name(rc), err.msg, gc_status_name(fc->status));
        ck_assert_msg(strstr(err.msg, fc->msg), "%s: reason '%s' lacks '%s'", fc->label,
                      err.msg, fc->msg);
        ck_assert_int_eq(gc_engine_lookup(e, "p", NULL, NULL), GC_ENOTFOUND);
    } else {
        ck_assert_msg(rc == GC_OK, "%s: %s (%s)", fc->label, gc_status_name(rc), err.msg);
    }
    gc_engine_free(e);
}
END_TEST

/* Counts past the limits are refused before any list is read or any copy
 * sized from them, also when they add up past SIZE_MAX (the copy's slot
 * count would wrap to almost nothing while the lists are copied into it). */
START_TEST(registration_refuses_counts_past_the_limits)
{
    static const char *const two[] = {"x", "y"};
    gc_contract wrap = {.domain_reads = two, .n_domain_reads = 2, .heavy_reads = L_x,
                        .n_heavy_reads = SIZE_MAX - 2};
    gc_engine *e = NULL;
    gc_err err;
    ck_assert_int_eq(gc_engine_new(&e, &err), GC_OK);
    ck_assert_int_eq(gc_engine_register(e, "p", reg_noop, &wrap, &err), GC_ELIMIT);
    char want[160];
    snprintf(want, sizeof want, "contract: %zu heavy reads and 0 outputs (limit %d)",
             (size_t)SIZE_MAX - 2, GC_HEAVY_MAX);
    ck_assert_str_eq(err.msg, want);
    ck_assert_int_eq(gc_engine_lookup(e, "p", NULL, NULL), GC_ENOTFOUND);
    gc_engine_free(e);
}
END_TEST

/* A process needs a valid name and a function: a bad or missing name, or
 * no function, is refused EINVAL with the reason, and nothing is registered
 * under the name. */
START_TEST(registration_refuses_a_bad_name_or_no_function)
{
    gc_engine *e = NULL;
    gc_err err;
    ck_assert_int_eq(gc_engine_new(&e, &err), GC_OK);
    ck_assert_int_eq(gc_engine_register(e, "bad name", reg_noop, NULL, &err), GC_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "process name has byte 0x20"));
    ck_assert_int_eq(gc_engine_lookup(e, "bad name", NULL, NULL), GC_ENOTFOUND);
    ck_assert_int_eq(gc_engine_register(e, NULL, reg_noop, NULL, &err), GC_EINVAL);
    ck_assert_str_eq(err.msg, "process name is missing");
    ck_assert_int_eq(gc_engine_register(e, "p", NULL, NULL, &err), GC_EINVAL);
    ck_assert_str_eq(err.msg, "process 'p': no function");
    ck_assert_int_eq(gc_engine_lookup(e, "p", NULL, NULL), GC_ENOTFOUND);
    ck_assert_uint_eq(e->nprocs, 0);
    ck_assert_int_eq(gc_engine_register(e, "p", reg_noop, NULL, &err), GC_OK);
    ck_assert_int_eq(gc_engine_lookup(e, "p", NULL, NULL), GC_OK);
    gc_engine_free(e);
}
END_TEST

/* The registry holds GC_PROCESSES_MAX processes, the limit engine.h
 * promises: the last of them registers and can be looked up, one more is
 * refused ELIMIT naming the limit and is not registered, and the ones
 * registered stay. */
START_TEST(registration_stops_at_the_process_limit)
{
    gc_engine *e = NULL;
    gc_err err;
    char name[32];
    ck_assert_int_eq(gc_engine_new(&e, &err), GC_OK);
    for (int i = 0; i < GC_PROCESSES_MAX; i++) {
        snprintf(name, sizeof name, "p%d", i);
        ck_assert_int_eq(gc_engine_register(e, name, reg_noop, NULL, &err), GC_OK);
    }
    snprintf(name, sizeof name, "p%d", GC_PROCESSES_MAX - 1);
    ck_assert_int_eq(gc_engine_lookup(e, name, NULL, NULL), GC_OK);
    ck_assert_int_eq(gc_engine_register(e, "one_more", reg_noop, NULL, &err), GC_ELIMIT);
    char want[96];
    snprintf(want, sizeof want, "process 'one_more': registry full (%d processes)",
             GC_PROCESSES_MAX);
    ck_assert_str_eq(err.msg, want);
    ck_assert_int_eq(gc_engine_lookup(e, "one_more", NULL, NULL), GC_ENOTFOUND);
    ck_assert_uint_eq(e->nprocs, GC_PROCESSES_MAX);
    ck_assert_int_eq(gc_engine_lookup(e, "p0", NULL, NULL), GC_OK);
    gc_engine_free(e);
}
END_TEST

/* A refused read leaves the caller's variables as they were (a process can
 * keep a default): the wrong type (EINVAL) or an undeclared key (ECONTRACT),
 * for each typed reader. */
static void expect_refused_reads_leave_values(gc_ctx *c)
{
    int64_t i64 = 42;
    double d = 2.5;
    const char *s = "kept";
    const void *data = "kept";
    size_t n = 7;
    ck_assert_int_eq(gc_ctx_int(c, "b", &i64), GC_EINVAL);
    ck_assert_int_eq(gc_ctx_double(c, "a", &d), GC_EINVAL);
    ck_assert_str_eq(gc_ctx_last_error(c), "domain key 'a' is int, not double");
    ck_assert_int_eq(gc_ctx_str(c, "a", &s), GC_EINVAL);
    ck_assert_int_eq(gc_ctx_bytes(c, "a", &data, &n), GC_EINVAL);
    ck_assert_int_eq(gc_ctx_int(c, "zz", &i64), GC_ECONTRACT);
    ck_assert_int_eq(gc_ctx_double(c, "zz", &d), GC_ECONTRACT);
    ck_assert_int_eq(gc_ctx_str(c, "zz", &s), GC_ECONTRACT);
    ck_assert_int_eq(gc_ctx_bytes(c, "zz", &data, &n), GC_ECONTRACT);
    ck_assert_int_eq(i64, 42);
    ck_assert_double_eq(d, 2.5);
    ck_assert_str_eq(s, "kept");
    ck_assert_str_eq(data, "kept");
    ck_assert_uint_eq(n, 7);
    ck_assert_uint_eq(gc_ctx_violations(c), 4);
    ck_assert_int_eq(gc_ctx_double(c, "c", &d), GC_OK);
    ck_assert_double_eq(d, 0.5);
}

/* On the context a thread worker gets (the factory's) and on the one a
 * process worker gets (decoded and attached). */
START_TEST(refused_reads_leave_the_callers_variables)
{
    gc_state *st = make_state(0);
    static const char *const dom[] = {"a", "b", "c", "raw"};
    gc_contract c = {.domain_reads = dom, .n_domain_reads = N(dom)};
    gc_ctx *ctx = NULL, *d = NULL;
    ck_assert_int_eq(gc_ctx_from_state(st, &c, NULL, 0, 1, &ctx, NULL), GC_OK);
    uint8_t buf[GC_WIRE_MSG_MAX];
    size_t len = 0;
    ck_assert_int_eq(gc_wire_encode(ctx, buf, sizeof buf, &len, NULL), GC_OK);
    expect_refused_reads_leave_values(ctx);
    ck_assert_int_eq(gc_wire_decode(buf, len, -1, -1, &d, NULL), GC_OK);
    ck_assert_int_eq(gc_wire_attach(d, NULL, 0, NULL, 0, NULL), GC_OK);
    ck_assert_int_eq(gc_ctx_mode_of(d), GC_CTX_PROCESS);
    expect_refused_reads_leave_values(d);
    gc_ctx_free(d);
    gc_ctx_free(ctx);
    gc_state_free(st);
}
END_TEST

/* A registered return key is kept with the contract's copy (the lookup
 * names it) and released with it: every copied name, the return key's too,
 * is freed exactly once when the engine goes. */
START_TEST(registered_return_key_is_kept_and_released)
{
    gc_engine *e = NULL;
    gc_err err;
    ck_assert_int_eq(gc_engine_new(&e, &err), GC_OK);
    static const char *const dom[] = {"a", "b"}, *const w[] = {"k", "l"};
    gc_contract c = {.domain_reads = dom, .n_domain_reads = 2, .domain_writes = w,
                     .n_domain_writes = 2, .return_key = "l"};
    ck_assert_int_eq(gc_engine_register(e, "p", reg_noop, &c, &err), GC_OK);
    const gc_contract *got = NULL;
    ck_assert_int_eq(gc_engine_lookup(e, "p", NULL, &got), GC_OK);
    ck_assert_ptr_nonnull(got->return_key);
    ck_assert_ptr_ne(got->return_key, c.return_key);
    ck_assert_str_eq(got->return_key, "l");
    ck_assert_str_eq(got->domain_writes[1], "l");
    gc_engine_free(e);
}
END_TEST

START_TEST(factory_null_arguments)
{
    gc_state *st = make_state(0);
    gc_contract c = {0};
    gc_ctx *ctx = NULL;
    gc_err err;
    ck_assert_int_eq(gc_ctx_from_state(NULL, &c, NULL, 0, 1, &ctx, &err), GC_EINVAL);
    ck_assert_int_eq(gc_ctx_from_state(st, NULL, NULL, 0, 1, &ctx, &err), GC_EINVAL);
    ck_assert_int_eq(gc_ctx_from_state(st, &c, NULL, 0, 1, NULL, &err), GC_EINVAL);
    ck_assert_ptr_null(ctx);
    gc_ctx_free(NULL);
    gc_state_free(st);
}
END_TEST

/* Introspection of a NULL context reads as an empty one (what a process
 * handed none would see), never a crash. */
START_TEST(null_context_introspection_reads_as_empty)
{
    gc_config dflt = gc_config_default(), got = gc_ctx_config(NULL);
    uint64_t ver = 5;
    ck_assert_uint_eq(gc_ctx_task(NULL), 0);
    ck_assert_uint_eq(gc_ctx_task_count(NULL), 0);
    ck_assert_uint_eq(gc_ctx_generation(NULL), 0);
    ck_assert_int_eq(gc_ctx_mode_of(NULL), GC_CTX_THREAD);
    ck_assert_uint_eq(gc_ctx_violations(NULL), 0);
    ck_assert_uint_eq(gc_ctx_undeclared_reads(NULL), 0);
    ck_assert_uint_eq(gc_ctx_base_version(NULL), 0);
    ck_assert_uint_eq(gc_ctx_attempt(NULL), 0);
    ck_assert(got.strict_contracts == dflt.strict_contracts && got.commit == dflt.commit);
    ck_assert_int_eq(gc_ctx_key_version(NULL, "a", &ver), GC_ENOTFOUND);
    ck_assert_uint_eq(ver, 5);
    ck_assert_str_eq(gc_ctx_last_error(NULL), "");
    ck_assert_uint_eq(gc_ctx_deadline_ns(NULL), 0);
    ck_assert_uint_eq(gc_ctx_domain_count(NULL), 0);
    ck_assert_uint_eq(gc_ctx_entry_count(NULL), 0);
    ck_assert_uint_eq(gc_ctx_pending_writes(NULL) + gc_ctx_pending_events(NULL) +
                      gc_ctx_pending_messages(NULL) + gc_ctx_write_count(NULL), 0);
}
END_TEST

/* gc_ctx_from_state names the NULL argument it refuses. */
START_TEST(factory_names_its_null_argument)
{
    gc_state *st = make_state(0);
    gc_contract c = {0};
    gc_ctx *ctx = NULL;
    gc_err err;
    ck_assert_int_eq(gc_ctx_from_state(NULL, &c, NULL, 0, 1, &ctx, &err), GC_EINVAL);
    ck_assert_str_eq(err.msg, "gc_ctx_from_state: NULL state");
    ck_assert_int_eq(gc_ctx_from_state(st, NULL, NULL, 0, 1, &ctx, &err), GC_EINVAL);
    ck_assert_str_eq(err.msg, "gc_ctx_from_state: NULL contract");
    ck_assert_int_eq(gc_ctx_from_state(st, &c, NULL, 0, 1, NULL, &err), GC_EINVAL);
    ck_assert_str_eq(err.msg, "gc_ctx_from_state: NULL out");
    gc_state_free(st);
}
END_TEST

/* A string value holds no NUL byte (the state's strings are C strings):
 * gc_ctx_set_value refuses one with a NUL inside, the write set unchanged;
 * the same bytes as a bytes value are taken. */
START_TEST(string_write_with_a_nul_is_refused)
{
    gc_state *st = make_state(0);
    static const char *const w[] = {"b"};
    gc_contract c = {.domain_writes = w, .n_domain_writes = 1};
    gc_ctx *ctx = NULL;
    ck_assert_int_eq(gc_ctx_from_state(st, &c, NULL, 0, 1, &ctx, NULL), GC_OK);
    gc_value s = {.type = GC_VAL_STR, .ptr = "a\0b", .len = 3};
    ck_assert_int_eq(gc_ctx_set_value(ctx, "b", &s), GC_EINVAL);
    ck_assert_str_eq(gc_ctx_last_error(ctx), "write of 'b': string holds a NUL byte");
    ck_assert_uint_eq(gc_ctx_pending_writes(ctx), 0);
    gc_value by = {.type = GC_VAL_BYTES, .ptr = "a\0b", .len = 3};
    ck_assert_int_eq(gc_ctx_set_value(ctx, "b", &by), GC_OK);
    ck_assert_uint_eq(gc_ctx_pending_writes(ctx), 1);
    gc_ctx_free(ctx);
    gc_state_free(st);
}
END_TEST

/* ---- the sleep builtin's own timing ----------------------------------------- */

/* One call of the "sleep" builtin on a factory context: its status and how
 * long it took. deadline_in: 0, or a deadline that many ns from now. */
static uint64_t sleep_once(const gc__proc *p, gc_state *st, int64_t ms, uint64_t deadline_in,
                           int *status)
{
    static const char *const dom[] = {"ms"};
    gc_contract c = {.domain_reads = dom, .n_domain_reads = 1};
    gc_ctx *ctx = NULL;
    ck_assert_int_eq(gc_state_set_int(st, "ms", ms, NULL), GC_OK);
    ck_assert_int_eq(gc_ctx_from_state(st, &c, NULL, 0, 1, &ctx, NULL), GC_OK);
    gc_proc_out out;
    memset(&out, 0, sizeof out);
    uint64_t t0 = gc_now_ns();
    if (deadline_in)
        gc_wire_set_deadline(ctx, t0 + deadline_in);
    *status = p->fn(ctx, &out);
    uint64_t took = gc_now_ns() - t0;
    gc_ctx_free(ctx);
    return took;
}

/* "sleep" sleeps its ms and stops at the task's deadline; it wakes at most
 * every 10 ms to re-check, so a step that ignored the time left (or the
 * deadline) would sleep 10 ms where 2 were asked. Each bound is checked on
 * the fastest of 12 tries: a loaded machine can make any one try slow, but
 * never make a 10 ms sleep short. */
START_TEST(sleep_ends_at_its_time_and_at_its_deadline)
{
    gc_engine *e = NULL;
    gc_state *st = NULL;
    ck_assert_int_eq(gc_engine_new(&e, NULL), GC_OK);
    ck_assert_int_eq(gc_builtins_register(e, NULL), GC_OK);
    ck_assert_int_eq(gc_state_new(&st, NULL), GC_OK);
    const gc__proc *p = gc__engine_find(e, "sleep");
    ck_assert_ptr_nonnull(p);
    uint64_t fastest = UINT64_MAX, fastest_dl = UINT64_MAX;
    for (int i = 0; i < 12; i++) {
        int rc;
        uint64_t t = sleep_once(p, st, 2, 0, &rc);
        ck_assert_int_eq(rc, GC_OK);
        ck_assert_uint_ge(t, 2000000);
        fastest = t < fastest ? t : fastest;
        t = sleep_once(p, st, 1000, 2000000, &rc);
        ck_assert_int_eq(rc, GC_ETIMEOUT);
        fastest_dl = t < fastest_dl ? t : fastest_dl;
    }
    ck_assert_msg(fastest < 8000000, "a sleep of 2 ms took %llu ns at best",
                  (unsigned long long)fastest);
    ck_assert_msg(fastest_dl < 8000000, "a sleep stopped by a deadline 2 ms away took %llu ns "
                  "at best", (unsigned long long)fastest_dl);
    gc_state_free(st);
    gc_engine_free(e);
}
END_TEST

/* One fd_census into a text watched past its end: nothing may be written
 * there, the text is a string and the memfd figures close it. *at is where
 * "<fd>=" starts in it, or -1. */
static void census_watched(const gc__proc *p, gc_state *st, int fd, long *at)
{
    gc_contract c = {0};
    struct {
        gc_proc_out out;
        unsigned char after[64];
    } buf;
    gc_ctx *ctx = NULL;
    ck_assert_int_eq(gc_ctx_from_state(st, &c, NULL, 0, 1, &ctx, NULL), GC_OK);
    memset(&buf, 0xA5, sizeof buf);
    ck_assert_int_eq(p->fn(ctx, &buf.out), GC_OK);
    gc_ctx_free(ctx);
    for (size_t i = 0; i < sizeof buf.after; i++)
        ck_assert_msg(buf.after[i] == 0xA5, "fd_census wrote past its text (fd %d)", fd);
    size_t len = strnlen(buf.out.text, sizeof buf.out.text);
    ck_assert_uint_lt(len, sizeof buf.out.text);
    const char *tail = strrchr(buf.out.text, ';');
    long long maps, stray;
    int end = -1;
    ck_assert_msg(tail && sscanf(tail, "; %lld memfd maps, %lld stray%n", &maps, &stray,
                                 &end) == 2 && tail[end] == '\0',
                  "the text does not end with the figures (fd %d): '%s'", fd, buf.out.text);
    /* The list before them is whole (its last entry ends with its space) or
     * cut where the figures' room begins, never shorter. */
    size_t list = (size_t)(tail - buf.out.text), room = GC_RESULT_TEXT_MAX - strlen(tail);
    ck_assert_msg(list == room - 1 || (list < room - 1 && (list == 0 || tail[-1] == ' ')),
                  "a list of %zu bytes before the figures, room for %zu (fd %d): '%s'", list,
                  room - 1, fd, buf.out.text);
    char key[16];
    snprintf(key, sizeof key, "%d=", fd);
    const char *k = buf.out.text;
    while ((k = strstr(k, key)) && k != buf.out.text && k[-1] != ' ')
        k++;
    *at = k ? (long)(k - buf.out.text) : -1;
}

/* fd_census lists every descriptor in its text and ends with the memfd
 * figures; a list too long is cut before them. Descriptors on /dev/null
 * bring the list near the text's end, then one more, a file whose path
 * grows a byte at a time from 18 to 127 bytes, moves the list's end over
 * every offset around the cut, the exact one included: nothing may be
 * written past the text (the bytes after it are watched), the text ends
 * cut, not overrun, and the figures close it every time. */
START_TEST(fd_census_text_stays_inside_its_buffer)
{
    gc_engine *e = NULL;
    gc_state *st = NULL;
    ck_assert_int_eq(gc_engine_new(&e, NULL), GC_OK);
    ck_assert_int_eq(gc_builtins_register(e, NULL), GC_OK);
    ck_assert_int_eq(gc_state_new(&st, NULL), GC_OK);
    const gc__proc *p = gc__engine_find(e, "fd_census");
    ck_assert_ptr_nonnull(p);
    const size_t room = GC_RESULT_TEXT_MAX - strlen("; 0 memfd maps, 0 stray");
    /* stdout and stderr on /dev/null meanwhile (kept at high numbers, listed
     * after the swept descriptor): a run may point them at long paths. */
    struct rlimit rl;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    fflush(stdout);
    fflush(stderr);
    int saved1 = fcntl(1, F_DUPFD_CLOEXEC, (int)rl.rlim_cur - 8);
    int saved2 = fcntl(2, F_DUPFD_CLOEXEC, (int)rl.rlim_cur - 8);
    int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    ck_assert_int_ge(saved1, 0);
    ck_assert_int_ge(saved2, 0);
    ck_assert_int_ge(null, 0);
    ck_assert_int_eq(dup2(null, 1), 1);
    ck_assert_int_eq(dup2(null, 2), 2);
    close(null);
    int fds[32], n = 0;
    long at = -1, last_end = 0;
    while (n < 32) {
        fds[n] = open("/dev/null", O_RDONLY | O_CLOEXEC);
        ck_assert_int_ge(fds[n], 0);
        census_watched(p, st, fds[n], &at);
        ck_assert_msg(at >= 0, "the list passed the text before the sweep (%d descriptors)", n);
        last_end = at + (long)snprintf(NULL, 0, "%d=/dev/null ", fds[n]);
        n++;
        if (last_end + 110 >= (long)room)
            break;
    }
    char dir[] = "/tmp/gcfd-XXXXXX", path[128];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    int whole = 0, cut = 0;
    for (int len = 18; len <= 127; len++) {
        snprintf(path, sizeof path, "%s/%0*d", dir, len - (int)strlen(dir) - 1, 0);
        ck_assert_uint_eq(strlen(path), (size_t)len);
        int fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        census_watched(p, st, fd, &at);
        long end = at < 0 ? -1 : at + (long)snprintf(NULL, 0, "%d=%s ", fd, path);
        whole |= at >= 0 && end < (long)room;
        cut |= at < 0 || end > (long)room;
        close(fd);
        ck_assert_int_eq(unlink(path), 0);
    }
    ck_assert_int_eq(rmdir(dir), 0);
    ck_assert_int_eq(dup2(saved1, 1), 1);
    ck_assert_int_eq(dup2(saved2, 2), 2);
    close(saved1);
    close(saved2);
    ck_assert_msg(whole && cut, "the sweep did not cross the cut (whole %d, cut %d; the list "
                  "ended at %ld before it)", whole, cut, last_end);
    while (n > 0)
        close(fds[--n]);
    gc_state_free(st);
    gc_engine_free(e);
}
END_TEST

/* The builtins' list for messages ("known: ...") names every built-in of
 * the one table, in its order, comma-separated: nothing left out. */
START_TEST(builtin_list_names_every_builtin)
{
    char want[1024] = "";
    size_t off = 0, n = 0;
    for (const gc_builtin_info *b; (b = gc_builtins_at(n)); n++) {
        off += (size_t)snprintf(want + off, sizeof want - off, "%s%s", n ? ", " : "", b->name);
        ck_assert(gc_builtins_has(b->name));
    }
    ck_assert_uint_gt(n, 20);
    ck_assert_uint_lt(off, sizeof want);
    ck_assert_str_eq(gc_builtins_list(), want);
    ck_assert(!gc_builtins_has("nope"));
}
END_TEST

/* The fd_census text of this process with the file `path` standing in for
 * stdin: descriptor 0 comes first in /proc/self/fd, so its entry opens the
 * text whatever else is open. */
static void census_with_stdin(const gc__proc *p, gc_state *st, const char *path, char *text,
                              size_t cap)
{
    int fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600), saved = dup(0);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_ge(saved, 0);
    ck_assert_int_eq(dup2(fd, 0), 0);
    gc_contract c = {0};
    gc_ctx *ctx = NULL;
    ck_assert_int_eq(gc_ctx_from_state(st, &c, NULL, 0, 1, &ctx, NULL), GC_OK);
    gc_proc_out out;
    memset(&out, 0, sizeof out);
    p->fn(ctx, &out);
    gc_ctx_free(ctx);
    ck_assert_int_eq(dup2(saved, 0), 0);
    close(saved);
    close(fd);
    ck_assert_int_eq(unlink(path), 0);
    snprintf(text, cap, "%s", out.text);
}

/* fd_census names each descriptor's target whole up to 127 bytes (its
 * buffer less the NUL) and cuts a longer one there, never past it: a file
 * whose path is exactly 127 bytes, then one of 200. */
START_TEST(fd_census_reports_targets_up_to_their_buffer)
{
    char dir[] = "/tmp/gcfd-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char p127[128], p200[201];
    snprintf(p127, sizeof p127, "%s/%0*d", dir, (int)(127 - strlen(dir) - 1), 7);
    snprintf(p200, sizeof p200, "%s/%0*d", dir, (int)(200 - strlen(dir) - 1), 8);
    ck_assert_uint_eq(strlen(p127), 127);
    ck_assert_uint_eq(strlen(p200), 200);
    gc_engine *e = NULL;
    gc_state *st = NULL;
    ck_assert_int_eq(gc_engine_new(&e, NULL), GC_OK);
    ck_assert_int_eq(gc_builtins_register(e, NULL), GC_OK);
    ck_assert_int_eq(gc_state_new(&st, NULL), GC_OK);
    const gc__proc *p = gc__engine_find(e, "fd_census");
    ck_assert_ptr_nonnull(p);
    char text[GC_RESULT_TEXT_MAX], want[160];
    census_with_stdin(p, st, p127, text, sizeof text);
    snprintf(want, sizeof want, "0=%s ", p127);
    ck_assert_msg(strncmp(text, want, strlen(want)) == 0, "'%s' does not open with '%s'", text,
                  want);
    census_with_stdin(p, st, p200, text, sizeof text);
    snprintf(want, sizeof want, "0=%.127s ", p200);
    ck_assert_msg(strncmp(text, want, strlen(want)) == 0, "'%s' does not open with '%s'", text,
                  want);
    ck_assert_int_eq(rmdir(dir), 0);
    gc_state_free(st);
    gc_engine_free(e);
}
END_TEST

/* One fd_census of this process: its value, the "(stray)" descriptors its
 * text names and the memfd figures its text ends with. It runs in a child
 * (the same mappings) that holds stdio on /dev/null, the pipe its answer
 * comes back on as descriptor 3 (where a worker keeps its channel) and,
 * when keep >= 0, that descriptor as 4, and nothing else but what a tool
 * running the test keeps: whatever else the test runner left open. */
static void census_counts(const gc__proc *p, gc_state *st, int keep, int64_t *value,
                          int *stray_fds, long long *maps, long long *stray_maps, char *text,
                          size_t cap)
{
    gc_contract c = {0};
    gc_ctx *ctx = NULL;
    ck_assert_int_eq(gc_ctx_from_state(st, &c, NULL, 0, 1, &ctx, NULL), GC_OK);
    int pfd[2];
    ck_assert_int_eq(pipe2(pfd, O_CLOEXEC), 0);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int w = fcntl(pfd[1], F_DUPFD, 100), k = keep >= 0 ? fcntl(keep, F_DUPFD, 100) : -1;
        int null = open("/dev/null", O_WRONLY);
        if (w < 0 || (keep >= 0 && k < 0) || null < 0 || dup2(null, 0) != 0 ||
            dup2(null, 1) != 1 || dup2(null, 2) != 2 || dup2(w, 3) != 3 ||
            (k >= 0 && dup2(k, 4) != 4) || close_range(k >= 0 ? 5 : 4, ~0u, 0) != 0)
            _exit(2);
        gc_proc_out out;
        memset(&out, 0, sizeof out);
        int rc = p->fn(ctx, &out);
        _exit(rc == GC_OK && write(3, &out, sizeof out) == (ssize_t)sizeof out ? 0 : 1);
    }
    close(pfd[1]);
    gc_proc_out out;
    ck_assert_int_eq(read(pfd[0], &out, sizeof out), (ssize_t)sizeof out);
    close(pfd[0]);
    int status = -1;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_int_eq(status, 0);
    gc_ctx_free(ctx);
    snprintf(text, cap, "%s", out.text);
    *value = out.value;
    *stray_fds = 0;
    for (const char *s = text; (s = strstr(s, "(stray)")); s++)
        ++*stray_fds;
    const char *tail = strrchr(text, ';');
    ck_assert_msg(tail && sscanf(tail, "; %lld memfd maps, %lld stray", maps, stray_maps) == 2,
                  "census text without its mapping figures: '%s'", text);
}

/* fd_census says what its value counts: a memfd left open and mapped in a
 * process no worker runs in adds one stray descriptor, named by its target
 * in the text, and one stray mapping, in the figures the text ends with;
 * the value is the two together. Without the figures a census that fails
 * on a leaked mapping would not say so. */
START_TEST(fd_census_text_accounts_for_its_value)
{
    gc_engine *e = NULL;
    gc_state *st = NULL;
    ck_assert_int_eq(gc_engine_new(&e, NULL), GC_OK);
    ck_assert_int_eq(gc_builtins_register(e, NULL), GC_OK);
    ck_assert_int_eq(gc_state_new(&st, NULL), GC_OK);
    const gc__proc *p = gc__engine_find(e, "fd_census");
    ck_assert_ptr_nonnull(p);
    char before[GC_RESULT_TEXT_MAX], after[GC_RESULT_TEXT_MAX];
    int64_t v0, v1;
    int sf0, sf1;
    long long m0, m1, sm0, sm1;
    census_counts(p, st, -1, &v0, &sf0, &m0, &sm0, before, sizeof before);
    ck_assert_msg(sf0 == 0, "%s", before);
    ck_assert_int_eq(v0, sm0);
    int fd = memfd_create("gcprobe", MFD_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, 4096), 0);
    void *map = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    ck_assert_ptr_ne(map, MAP_FAILED);
    census_counts(p, st, fd, &v1, &sf1, &m1, &sm1, after, sizeof after);
    ck_assert_msg(strstr(after, " 4=/memfd:gcprobe (deleted)(stray) "), "%s", after);
    ck_assert_int_eq(sf1, 1);
    ck_assert_int_eq(m1, m0 + 1);
    ck_assert_int_eq(sm1, sm0 + 1);
    ck_assert_int_eq(v1, sf1 + sm1);
    ck_assert_int_eq(munmap(map, 4096), 0);
    close(fd);
    gc_state_free(st);
    gc_engine_free(e);
}
END_TEST

/* A refusal names what the contract declares; a list too long for its 160
 * bytes is cut and says so with "...", never cut silently: 12 declared keys
 * of 24 bytes, on the factory's context and on the decoded one. */
START_TEST(undeclared_refusal_marks_a_cut_list)
{
    gc_state *st = NULL;
    ck_assert_int_eq(gc_state_new(&st, NULL), GC_OK);
    char names[12][32];
    const char *dom[12];
    for (int i = 0; i < 12; i++) {
        snprintf(names[i], sizeof names[i], "a_rather_long_key_name_%02d", i);
        dom[i] = names[i];
        ck_assert_int_eq(gc_state_set_int(st, names[i], i, NULL), GC_OK);
    }
    gc_contract c = {.domain_reads = dom, .n_domain_reads = 12};
    gc_ctx *ctx = NULL, *d = NULL;
    ck_assert_int_eq(gc_ctx_from_state(st, &c, NULL, 0, 1, &ctx, NULL), GC_OK);
    uint8_t buf[GC_WIRE_MSG_MAX];
    size_t len = 0;
    ck_assert_int_eq(gc_wire_encode(ctx, buf, sizeof buf, &len, NULL), GC_OK);
    ck_assert_int_eq(gc_wire_decode(buf, len, -1, -1, &d, NULL), GC_OK);
    ck_assert_int_eq(gc_wire_attach(d, NULL, 0, NULL, 0, NULL), GC_OK);
    gc_ctx *both[] = {ctx, d};
    for (int k = 0; k < 2; k++) {
        int64_t v;
        ck_assert_int_eq(gc_ctx_int(both[k], "zz", &v), GC_ECONTRACT);
        const char *msg = gc_ctx_last_error(both[k]);
        const char *list = strstr(msg, "(domain keys: ");
        ck_assert_ptr_nonnull(list);
        list += strlen("(domain keys: ");
        ck_assert_msg(strncmp(list, "a_rather_long_key_name_00, a_rather_long_key_name_01", 52) == 0,
                      "%s", msg);
        ck_assert_uint_eq(strlen(list), 159 + 1);   /* the cut list, then ")" */
        ck_assert_str_eq(list + 156, "...)");
    }
    gc_ctx_free(d);
    gc_ctx_free(ctx);
    gc_state_free(st);
}
END_TEST

Suite *suite_ctx(void)
{
    Suite *s = suite_create("ctx");
    TCase *tc = tcase_create("factory");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, factory_refuses_frozen_outputs);
    tcase_add_test(tc, factory_hands_heavy_zone_to_context_inc014);
    tcase_add_test(tc, factory_exposes_exactly_the_contract);
    tcase_add_test(tc, context_domain_values_are_copies);
    tcase_add_test(tc, undeclared_access_refused_and_counted);
    tcase_add_test(tc, contract_counts_saturate);
    tcase_add_test(tc, empty_contract_exposes_nothing);
    tcase_add_loop_test(tc, factory_errors, 0, (int)N(factory_cases));
    tcase_add_loop_test(tc, registration_refuses_what_the_factory_refuses, 0, (int)N(factory_cases));
    tcase_add_test(tc, registration_refuses_counts_past_the_limits);
    tcase_add_test(tc, registration_refuses_a_bad_name_or_no_function);
    tcase_add_test(tc, registration_stops_at_the_process_limit);
    tcase_add_test(tc, registered_return_key_is_kept_and_released);
    tcase_add_test(tc, refused_reads_leave_the_callers_variables);
    tcase_add_test(tc, builtin_list_names_every_builtin);
    tcase_add_test(tc, fd_census_reports_targets_up_to_their_buffer);
    tcase_add_test(tc, fd_census_text_accounts_for_its_value);
    tcase_add_test(tc, undeclared_refusal_marks_a_cut_list);
    tcase_add_test(tc, factory_null_arguments);
    tcase_add_test(tc, null_context_introspection_reads_as_empty);
    tcase_add_test(tc, factory_names_its_null_argument);
    tcase_add_test(tc, string_write_with_a_nul_is_refused);
    tcase_add_test(tc, sleep_ends_at_its_time_and_at_its_deadline);
    tcase_add_test(tc, fd_census_text_stays_inside_its_buffer);
    suite_add_tcase(s, tc);
    return s;
}
