/* The wire codec: round trips (compared with gc_wire_compare, and once across
 * a real fork with the descriptors), the format checked against an
 * independent test-side builder, and the decoder's rejects: every truncation,
 * every byte flip, a table of malformed fields and descriptor mismatches,
 * each with its status and reason, and no descriptor leaked or closed. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctx_int.h"
#include "engine_int.h"
#include "gapcheck/gapcheck.h"
#include "gapcheck/wire.h"
#include "state_int.h"
#include "suites.h"
#include "testutil.h"
#include "wset_int.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define DEADLINE 0x0102030405060708ull

static size_t page(void)
{
    return (size_t)sysconf(_SC_PAGESIZE);
}

/* ---- fixture: a state, its zone, a factory context and its encoding ------ */

struct fx {
    gc_state *st;
    gc_ctx *ctx;
    uint8_t msg[GC_WIRE_MSG_MAX];
    size_t len;
    int in_fd, out_fd;
    const gc_zone *z;
};

static const char *const FX_DOM[] = {"i", "s", "by"};
static const char *const FX_HEAVY[] = {"a"};
static const char *const FX_OUT[] = {"o"};
static const uint8_t FX_BYTES[] = {0, 0xFF, 7};

static gc_state *fx_state(void)
{
    gc_state *st = NULL;
    ck_assert_int_eq(gc_state_new(&st, NULL), GC_OK);
    ck_assert_int_eq(gc_state_set_int(st, "i", -7, NULL), GC_OK);
    ck_assert_int_eq(gc_state_set_str(st, "s", "hello", NULL), GC_OK);
    ck_assert_int_eq(gc_state_set_bytes(st, "by", FX_BYTES, 3, NULL), GC_OK);
    ck_assert_int_eq(gc_state_set_double(st, "d", -0.0, NULL), GC_OK);
    ck_assert_int_eq(gc_state_set_str(st, "es", "", NULL), GC_OK);
    ck_assert_int_eq(gc_state_set_bytes(st, "eb", NULL, 0, NULL), GC_OK);
    gc_zone *z = NULL;
    ck_assert_int_eq(gc_zone_new(&z, NULL), GC_OK);
    ck_assert_int_eq(gc_zone_declare(z, "a", 3 * page() + 1, 0, NULL), GC_OK);
    ck_assert_int_eq(gc_zone_declare(z, "e", 0, 0, NULL), GC_OK);
    ck_assert_int_eq(gc_zone_declare(z, "b", 100, 0, NULL), GC_OK);
    ck_assert_int_eq(gc_zone_declare(z, "o", 100, GC_ENTRY_OUTPUT, NULL), GC_OK);
    ck_assert_int_eq(gc_zone_declare(z, "p", 0, GC_ENTRY_OUTPUT, NULL), GC_OK);
    ck_assert_int_eq(gc_zone_allocate(z, NULL), GC_OK);
    void *p;
    size_t n;
    gc_pattern seq = {GC_PATTERN_SEQUENCE, 0};
    ck_assert_int_eq(gc_zone_fill(z, "a", &p, &n, NULL), GC_OK);
    gc_pattern_fill(&seq, p, n, 0);
    ck_assert_int_eq(gc_zone_publish(z, NULL), GC_OK);
    ck_assert_int_eq(gc_state_set_heavy(st, z, NULL), GC_OK);
    return st;
}

static void fx_init(struct fx *f)
{
    memset(f, 0, sizeof *f);
    f->st = fx_state();
    f->z = gc_state_heavy(f->st);
    gc_contract c = {FX_DOM, N(FX_DOM), FX_HEAVY, N(FX_HEAVY), FX_OUT, N(FX_OUT), NULL, 0, NULL, 0, 0};
    gc_err err;
    ck_assert_int_eq(gc_ctx_from_state(f->st, &c, NULL, 1, 3, &f->ctx, &err), GC_OK);
    gc_wire_set_deadline(f->ctx, DEADLINE);
    ck_assert_int_eq(gc_wire_encode(f->ctx, f->msg, sizeof f->msg, &f->len, &err), GC_OK);
    f->in_fd = gc_zone_input_fd(f->z);
    f->out_fd = gc_zone_output_fd(f->z);
}

static void fx_free(struct fx *f)
{
    gc_ctx_free(f->ctx);
    gc_state_free(f->st);
}

/* The decoded context d attached to the fixture zone's mappings, as a
 * process worker attaches the one it receives: gc_wire_attach's status. */
static int attach_to_zone(gc_ctx *d, const struct fx *f)
{
    gc_err err;
    return gc_wire_attach(d, gc_zone_input_base(f->z), gc_zone_input_size(f->z),
                          gc_zone_output_base(f->z), gc_zone_output_size(f->z), &err);
}

/* The fixture's message decoded and attached: the context a process worker
 * serves with. */
static gc_ctx *decoded_attached(const struct fx *f)
{
    gc_ctx *d = NULL;
    gc_err err;
    ck_assert_int_eq(gc_wire_decode(f->msg, f->len, f->in_fd, f->out_fd, &d, &err), GC_OK);
    ck_assert_int_eq(attach_to_zone(d, f), GC_OK);
    return d;
}


/* ---- round trips --------------------------------------------------------- */

START_TEST(round_trip_with_zone)
{
    struct fx f;
    fx_init(&f);
    gc_ctx *d = NULL;
    gc_err err;
    ck_assert_int_eq(gc_wire_decode(f.msg, f.len, f.in_fd, f.out_fd, &d, &err), GC_OK);
    ck_assert_int_eq(gc_wire_compare(f.ctx, d, &err), GC_OK);
    ck_assert_int_eq(gc_ctx_mode_of(d), GC_CTX_PROCESS);
    ck_assert_uint_eq(gc_ctx_deadline_ns(d), DEADLINE);
    ck_assert_uint_eq(gc_wire_input_size(d), gc_zone_input_size(f.z));
    ck_assert_uint_eq(gc_wire_output_size(d), gc_zone_output_size(f.z));
    /* Unattached: no access at all, not even to domain values. */
    const void *data;
    size_t n;
    int64_t i64;
    ck_assert_int_eq(gc_ctx_heavy(d, "a", &data, &n), GC_ESTATE);
    ck_assert_int_eq(gc_ctx_int(d, "i", &i64), GC_ESTATE);
    ck_assert_ptr_nonnull(strstr(gc_ctx_last_error(d), "gc_wire_attach"));
    ck_assert_int_eq(attach_to_zone(d, &f), GC_OK);
    ck_assert_int_eq(attach_to_zone(d, &f), GC_ESTATE);
    ck_assert_int_eq(gc_ctx_heavy(d, "a", &data, &n), GC_OK);
    const void *zd;
    size_t zn;
    ck_assert_int_eq(gc_zone_read(f.z, "a", &zd, &zn, NULL), GC_OK);
    ck_assert_uint_eq(n, zn);
    ck_assert_uint_eq(gc_checksum(data, n, GC_CHECKSUM_SEED), gc_checksum(zd, zn, GC_CHECKSUM_SEED));
    ck_assert_int_eq(gc_ctx_int(d, "i", &i64), GC_OK);
    ck_assert_int_eq(i64, -7);
    const void *by;
    ck_assert_int_eq(gc_ctx_bytes(d, "by", &by, &n), GC_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_mem_eq(by, FX_BYTES, 3);
    ck_assert_int_eq(gc_ctx_heavy(d, "b", &data, &n), GC_ECONTRACT);   /* still the contract */
    ck_assert_uint_eq(gc_ctx_violations(d), 1);
    gc_ctx_free(d);
    fx_free(&f);
}
END_TEST

/* The heavy readers walk the entries through the context API, so a refused
 * access stops the walk and is their status: on an unattached context
 * (decoded, not yet mapped) each of them says ESTATE, not a checksum of
 * nothing reported as a success. */
START_TEST(heavy_readers_return_a_refused_access)
{
    struct fx f;
    fx_init(&f);
    gc_ctx *d = NULL;
    gc_engine *e = NULL;
    gc_err err;
    ck_assert_int_eq(gc_wire_decode(f.msg, f.len, f.in_fd, f.out_fd, &d, &err), GC_OK);
    ck_assert_int_eq(gc_engine_new(&e, &err), GC_OK);
    ck_assert_int_eq(gc_builtins_register(e, &err), GC_OK);
    static const char *const readers[] = {"checksum", "touch", "read_all"};
    for (size_t i = 0; i < N(readers); i++) {
        const gc__proc *p = gc__engine_find(e, readers[i]);
        ck_assert_ptr_nonnull(p);
        gc_proc_out out;
        memset(&out, 0, sizeof out);
        ck_assert_msg(p->fn(d, &out) == GC_ESTATE, "%s on an unattached context", readers[i]);
    }
    gc_engine_free(e);
    gc_ctx_free(d);
    fx_free(&f);
}
END_TEST

/* A decoded context is not attached until gc_wire_attach: before it, a write
 * to a declared key is refused like every access (GC_ESTATE, naming the
 * call to make) and the write set stays empty, so nothing of it can reach the
 * reply; a NULL context or value is refused, not followed. Attached, the same
 * write is taken. */
START_TEST(unattached_context_refuses_writes)
{
    static const char *const w[] = {"i"};
    gc_state *st;
    gc_err err;
    ck_assert_int_eq(gc_state_new(&st, &err), GC_OK);
    ck_assert_int_eq(gc_state_set_int(st, "i", 1, &err), GC_OK);
    gc_contract c = {.domain_writes = w, .n_domain_writes = 1};
    gc_ctx *ctx, *d = NULL;
    ck_assert_int_eq(gc_ctx_from_state(st, &c, NULL, 0, 1, &ctx, &err), GC_OK);
    static uint8_t buf[GC_WIRE_MSG_MAX];
    size_t len;
    ck_assert_int_eq(gc_wire_encode(ctx, buf, sizeof buf, &len, &err), GC_OK);
    ck_assert_int_eq(gc_wire_decode(buf, len, -1, -1, &d, &err), GC_OK);
    ck_assert_int_eq(gc_ctx_set_int(d, "i", 2), GC_ESTATE);
    ck_assert_ptr_nonnull(strstr(gc_ctx_last_error(d), "gc_wire_attach"));
    ck_assert_int_eq(gc_ctx_set_str(d, "i", "x"), GC_ESTATE);
    ck_assert_uint_eq(gc_ctx_pending_writes(d), 0);
    gc_value v = {.type = GC_VAL_INT, .i = 3};
    ck_assert_int_eq(gc_ctx_set_value(d, "i", NULL), GC_EINVAL);
    ck_assert_ptr_nonnull(strstr(gc_ctx_last_error(d), "NULL"));
    ck_assert_int_eq(gc_ctx_set_value(NULL, "i", &v), GC_EINVAL);
    ck_assert_int_eq(gc_wire_attach(d, NULL, 0, NULL, 0, &err), GC_OK);
    ck_assert_int_eq(gc_ctx_set_value(d, "i", &v), GC_OK);
    ck_assert_uint_eq(gc_ctx_pending_writes(d), 1);
    gc_ctx_free(d);
    gc_ctx_free(ctx);
    gc_state_free(st);
}
END_TEST

/* Events and messages follow the same rule as writes: a decoded context
 * that is not attached yet refuses both (GC_ESTATE, naming the call to
 * make) and holds none, so nothing of it can reach the reply; a NULL
 * context or topic is refused (EINVAL), not followed. Attached, the same
 * event and message are taken. */
START_TEST(unattached_context_refuses_events_and_messages)
{
    gc_state *st;
    gc_err err;
    ck_assert_int_eq(gc_state_new(&st, &err), GC_OK);
    gc_contract c = {.events = 1, .outbox = 1};
    gc_ctx *ctx, *d = NULL;
    ck_assert_int_eq(gc_ctx_from_state(st, &c, NULL, 0, 1, &ctx, &err), GC_OK);
    static uint8_t buf[GC_WIRE_MSG_MAX];
    size_t len;
    ck_assert_int_eq(gc_wire_encode(ctx, buf, sizeof buf, &len, &err), GC_OK);
    ck_assert_int_eq(gc_wire_decode(buf, len, -1, -1, &d, &err), GC_OK);
    ck_assert_int_eq(gc_ctx_emit(d, "changed", "x", 1), GC_ESTATE);
    ck_assert_ptr_nonnull(strstr(gc_ctx_last_error(d), "gc_wire_attach"));
    ck_assert_int_eq(gc_ctx_send(d, "outbox", "m1", "y", 1), GC_ESTATE);
    ck_assert_ptr_nonnull(strstr(gc_ctx_last_error(d), "gc_wire_attach"));
    ck_assert_uint_eq(gc_ctx_pending_events(d), 0);
    ck_assert_uint_eq(gc_ctx_pending_messages(d), 0);
    ck_assert_int_eq(gc_ctx_emit(NULL, "changed", "x", 1), GC_EINVAL);
    ck_assert_int_eq(gc_ctx_send(NULL, "outbox", "m1", "y", 1), GC_EINVAL);
    ck_assert_int_eq(gc_wire_attach(d, NULL, 0, NULL, 0, &err), GC_OK);
    ck_assert_int_eq(gc_ctx_emit(d, NULL, "x", 1), GC_EINVAL);
    ck_assert_str_eq(gc_ctx_last_error(d), "context access with a NULL name");
    ck_assert_int_eq(gc_ctx_emit(d, "changed", "x", 1), GC_OK);
    ck_assert_int_eq(gc_ctx_send(d, "outbox", "m1", "y", 1), GC_OK);
    ck_assert_uint_eq(gc_ctx_pending_events(d), 1);
    ck_assert_uint_eq(gc_ctx_pending_messages(d), 1);
    gc_ctx_free(d);
    gc_ctx_free(ctx);
    gc_state_free(st);
}
END_TEST

/* An output entry of a decoded context is out of reach until gc_wire_attach
 * maps the output file: ESTATE and no pointer, then the declared entry. */
START_TEST(unattached_context_refuses_outputs)
{
    struct fx f;
    fx_init(&f);
    gc_ctx *d = NULL;
    gc_err err;
    ck_assert_int_eq(gc_wire_decode(f.msg, f.len, f.in_fd, f.out_fd, &d, &err), GC_OK);
    void *w = NULL;
    size_t n = 0;
    ck_assert_int_eq(gc_ctx_output(d, "o", &w, &n), GC_ESTATE);
    ck_assert_ptr_null(w);
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_nonnull(strstr(gc_ctx_last_error(d), "gc_wire_attach"));
    ck_assert_int_eq(attach_to_zone(d, &f), GC_OK);
    ck_assert_int_eq(gc_ctx_output(d, "o", &w, &n), GC_OK);
    ck_assert_ptr_nonnull(w);
    ck_assert_uint_eq(n, gc_zone_find(f.z, "o")->length);
    gc_ctx_free(d);
    fx_free(&f);
}
END_TEST

/* gc_ctx_output with no place for the length or the pointer is refused
 * (EINVAL), never written through: an attached context, a declared output. */
START_TEST(output_access_without_a_result_place_is_refused)
{
    struct fx f;
    fx_init(&f);
    gc_ctx *d = decoded_attached(&f);
    void *w = NULL;
    size_t n = 0;
    ck_assert_int_eq(gc_ctx_output(d, "o", &w, NULL), GC_EINVAL);
    ck_assert_str_eq(gc_ctx_last_error(d), "context access with a NULL output");
    ck_assert_int_eq(gc_ctx_output(d, "o", NULL, &n), GC_EINVAL);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(gc_ctx_output(d, "o", &w, &n), GC_OK);
    ck_assert_ptr_nonnull(w);
    gc_ctx_free(d);
    fx_free(&f);
}
END_TEST

/* gc_ctx_heavy with no place for the length or the pointer is refused
 * (EINVAL, with the reason), never written through and not counted as a
 * contract breach: on the context a thread worker gets (the factory's) and
 * on the one a process worker gets (decoded, attached), the same answer. */
static void expect_heavy_needs_both_places(gc_ctx *c, const struct fx *f)
{
    const void *data = NULL;
    size_t n = 0;
    ck_assert_int_eq(gc_ctx_heavy(c, "a", &data, NULL), GC_EINVAL);
    ck_assert_str_eq(gc_ctx_last_error(c), "context access with a NULL output");
    ck_assert_ptr_null(data);
    ck_assert_int_eq(gc_ctx_heavy(c, "a", NULL, &n), GC_EINVAL);
    ck_assert_uint_eq(n, 0);
    ck_assert_uint_eq(gc_ctx_violations(c), 0);
    ck_assert_int_eq(gc_ctx_heavy(c, "a", &data, &n), GC_OK);
    ck_assert_ptr_nonnull(data);
    ck_assert_uint_eq(n, gc_zone_find(f->z, "a")->length);
}

START_TEST(heavy_access_without_a_result_place_is_refused)
{
    struct fx f;
    fx_init(&f);
    ck_assert_int_eq(gc_ctx_mode_of(f.ctx), GC_CTX_THREAD);
    expect_heavy_needs_both_places(f.ctx, &f);
    gc_ctx *d = decoded_attached(&f);
    ck_assert_int_eq(gc_ctx_mode_of(d), GC_CTX_PROCESS);
    expect_heavy_needs_both_places(d, &f);
    gc_ctx_free(d);
    fx_free(&f);
}
END_TEST

/* The empty name is no entry's (a zone refuses it), so no contract can
 * declare it: asking for it, as a heavy read or as an output, is an
 * undeclared access like any other, refused ECONTRACT and counted, and no
 * pointer comes back. On the factory's context and on the decoded one,
 * whose entry and key arrays both have a zeroed spare slot past the last. */
static void expect_empty_name_undeclared(gc_ctx *c)
{
    const void *data = NULL;
    void *w = NULL;
    size_t n = 7;
    uint32_t v0 = gc_ctx_violations(c);
    ck_assert_int_eq(gc_ctx_heavy(c, "", &data, &n), GC_ECONTRACT);
    ck_assert_str_eq(gc_ctx_last_error(c),
                     "'' is not declared by the contract (heavy reads: a)");
    ck_assert_int_eq(gc_ctx_output(c, "", &w, &n), GC_ECONTRACT);
    ck_assert_str_eq(gc_ctx_last_error(c), "'' is not declared by the contract (outputs: o)");
    ck_assert_ptr_null(data);
    ck_assert_ptr_null(w);
    ck_assert_uint_eq(n, 7);
    ck_assert_uint_eq(gc_ctx_violations(c), v0 + 2);
}

/* The same for domain keys: the empty key, which no state can hold, read
 * through any accessor is an undeclared read, refused ECONTRACT naming the
 * declared keys and counted, with no value handed out. */
static void expect_empty_key_undeclared(gc_ctx *c)
{
    const gc_value *v = NULL;
    int64_t i = 7;
    uint32_t v0 = gc_ctx_violations(c);
    ck_assert_int_eq(gc_ctx_value(c, "", &v), GC_ECONTRACT);
    ck_assert_str_eq(gc_ctx_last_error(c),
                     "'' is not declared by the contract (domain keys: i, s, by)");
    ck_assert_int_eq(gc_ctx_int(c, "", &i), GC_ECONTRACT);
    ck_assert_ptr_null(v);
    ck_assert_int_eq(i, 7);
    ck_assert_uint_eq(gc_ctx_violations(c), v0 + 2);
}

START_TEST(empty_entry_name_is_an_undeclared_access)
{
    struct fx f;
    fx_init(&f);
    expect_empty_name_undeclared(f.ctx);
    expect_empty_key_undeclared(f.ctx);
    gc_ctx *d = decoded_attached(&f);
    expect_empty_name_undeclared(d);
    expect_empty_key_undeclared(d);
    gc_ctx_free(d);
    fx_free(&f);
}
END_TEST

/* write_readonly is the probe the read-only cases (INC-014, fault-readonly)
 * rely on, so it must tell a protected heavy entry from an open one: on
 * the zone's sealed mapping the kernel refuses to make entry a writable
 * (EREADONLY, naming it and why) and its bytes stay; on a decoded context
 * attached to a private read-only copy of the same input file, which
 * mprotect may open, it reports the breach (OK, "read-only entry 'a'
 * became writable") and, with domain store = 1, its store lands: the
 * entry's first byte is flipped in the copy. */
static int write_readonly_on(gc_ctx *d, gc_proc_out *out)
{
    gc_engine *e = NULL;
    ck_assert_int_eq(gc_engine_new(&e, NULL), GC_OK);
    ck_assert_int_eq(gc_builtins_register(e, NULL), GC_OK);
    const gc__proc *p = gc__engine_find(e, "write_readonly");
    ck_assert_ptr_nonnull(p);
    memset(out, 0, sizeof *out);
    int rc = p->fn(d, out);
    gc_engine_free(e);
    return rc;
}

START_TEST(write_readonly_tells_an_open_entry_from_a_sealed_one)
{
    struct fx f;
    fx_init(&f);
    gc_err err;
    static const char *const store[] = {"store"};
    gc_contract c = {.domain_reads = store, .n_domain_reads = 1, .heavy_reads = FX_HEAVY,
                     .n_heavy_reads = 1};
    ck_assert_int_eq(gc_state_set_int(f.st, "store", 1, &err), GC_OK);
    gc_ctx *ctx = NULL, *d = NULL;
    ck_assert_int_eq(gc_ctx_from_state(f.st, &c, NULL, 0, 1, &ctx, &err), GC_OK);
    ck_assert_int_eq(gc_wire_encode(ctx, f.msg, sizeof f.msg, &f.len, &err), GC_OK);
    gc_ctx_free(ctx);
    const gc_zone_entry *a = gc_zone_find(f.z, "a");
    const uint8_t *zone = gc_zone_input_base(f.z);
    uint8_t first = zone[a->offset];
    gc_proc_out out;
    ck_assert_int_eq(gc_wire_decode(f.msg, f.len, f.in_fd, -1, &d, &err), GC_OK);
    ck_assert_int_eq(gc_wire_attach(d, zone, gc_zone_input_size(f.z), NULL, 0, &err), GC_OK);
    ck_assert_int_eq(write_readonly_on(d, &out), GC_EREADONLY);
    ck_assert_str_eq(out.text, "write to 'a' refused: mprotect: Permission denied");
    ck_assert_uint_eq(zone[a->offset], first);
    gc_ctx_free(d);
    /* The copy lies once at an even and once at an odd page, so that the
     * entry's page is each of the two: the probe must open the page it
     * stores to, wherever that lies. */
    size_t size = gc_zone_input_size(f.z), pg = page();
    uint8_t *region = mmap(NULL, size + pg, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(region, MAP_FAILED);
    for (size_t shift = 0; shift <= pg; shift += pg) {
        uint8_t *copy = region + shift;
        ck_assert_int_eq(mprotect(region, size + pg, PROT_READ | PROT_WRITE), 0);
        memcpy(copy, zone, size);
        ck_assert_int_eq(mprotect(copy, size, PROT_READ), 0);
        ck_assert_int_eq(gc_wire_decode(f.msg, f.len, f.in_fd, -1, &d, &err), GC_OK);
        ck_assert_int_eq(gc_wire_attach(d, copy, size, NULL, 0, &err), GC_OK);
        ck_assert_int_eq(write_readonly_on(d, &out), GC_OK);
        ck_assert_str_eq(out.text, "read-only entry 'a' became writable");
        ck_assert_uint_eq(copy[a->offset], first ^ 0xFF);
        ck_assert_uint_eq(zone[a->offset], first);
        gc_ctx_free(d);
    }
    ck_assert_int_eq(munmap(region, size + pg), 0);
    fx_free(&f);
}
END_TEST

/* A copy of the fixture's input file, sealed as the engine seals one, with
 * its manifest head replaced by mh. */
static int input_with_head(const struct fx *f, const struct gc__manifest_head *mh)
{
    uint64_t size = gc_zone_input_size(f->z);
    uint8_t *bytes = malloc(size);
    ck_assert_ptr_nonnull(bytes);
    ck_assert_int_eq(pread(f->in_fd, bytes, size, 0), (ssize_t)size);
    memcpy(bytes, mh, sizeof *mh);
    int fd = memfd_create("manifest-head", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, bytes, size), (ssize_t)size);
    ck_assert_int_eq(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE), 0);
    free(bytes);
    return fd;
}

static struct gc__manifest_head fx_manifest_head(const struct fx *f)
{
    struct gc__manifest_head mh;
    ck_assert_int_eq(pread(f->in_fd, &mh, sizeof mh, 0), (ssize_t)sizeof mh);
    return mh;
}

/* Its entry count changed: the manifest then claims more bytes than lie
 * before the data (need > data_offset, still inside the file). */
static int input_with_count(const struct fx *f, uint32_t count)
{
    struct gc__manifest_head mh = fx_manifest_head(f);
    mh.count = count;
    return input_with_head(f, &mh);
}

/* The manifest's entries must fit before the data: a count whose entries
 * would run past data_offset is refused, though data_offset itself is
 * page-aligned and inside the file. */
START_TEST(decoder_rejects_manifest_longer_than_its_pages)
{
    struct fx f;
    fx_init(&f);
    struct gc__manifest_head mh;
    ck_assert_int_eq(pread(f.in_fd, &mh, sizeof mh, 0), (ssize_t)sizeof mh);
    uint32_t fits = (uint32_t)((mh.data_offset - sizeof mh) / sizeof(struct gc__manifest_entry));
    ck_assert_uint_lt(fits + 1, GC_HEAVY_MAX);
    ck_assert_uint_le(mh.data_offset, gc_zone_input_size(f.z));
    gc_err err;
    gc_ctx *d = NULL;
    int fd = input_with_count(&f, fits + 1);
    ck_assert_int_eq(gc_wire_decode(f.msg, f.len, fd, f.out_fd, &d, &err), GC_EWIRE);
    ck_assert_ptr_null(d);
    char want[64];
    snprintf(want, sizeof want, "manifest (%u entries, data at %llu", fits + 1,
             (unsigned long long)mh.data_offset);
    ck_assert_msg(strstr(err.msg, want) != NULL, "%s", err.msg);
    close(fd);
    fx_free(&f);
}
END_TEST

/* A manifest that claims more entries than a zone can hold is refused as
 * such, its count named, even when its data offset leaves room for them:
 * a zone of one 128 KiB entry whose sealed copy says GC_HEAVY_MAX + 1
 * entries, data after them. */
START_TEST(decoder_refuses_a_manifest_count_past_the_limit)
{
    gc_state *st = NULL;
    gc_zone *z = NULL;
    gc_err err;
    ck_assert_int_eq(gc_state_new(&st, NULL), GC_OK);
    ck_assert_int_eq(gc_zone_new(&z, NULL), GC_OK);
    ck_assert_int_eq(gc_zone_declare(z, "big", 128 * 1024, 0, NULL), GC_OK);
    ck_assert_int_eq(gc_zone_allocate(z, NULL), GC_OK);
    ck_assert_int_eq(gc_zone_publish(z, NULL), GC_OK);
    ck_assert_int_eq(gc_state_set_heavy(st, z, NULL), GC_OK);
    static const char *const big[] = {"big"};
    gc_contract c = {.heavy_reads = big, .n_heavy_reads = 1};
    gc_ctx *ctx = NULL, *d = NULL;
    ck_assert_int_eq(gc_ctx_from_state(st, &c, NULL, 0, 1, &ctx, NULL), GC_OK);
    static uint8_t msg[GC_WIRE_MSG_MAX];
    size_t len = 0;
    ck_assert_int_eq(gc_wire_encode(ctx, msg, sizeof msg, &len, NULL), GC_OK);
    uint64_t size = gc_zone_input_size(z), pg = page();
    uint8_t *bytes = malloc(size);
    ck_assert_ptr_nonnull(bytes);
    ck_assert_int_eq(pread(gc_zone_input_fd(z), bytes, size, 0), (ssize_t)size);
    struct gc__manifest_head mh;
    memcpy(&mh, bytes, sizeof mh);
    mh.count = GC_HEAVY_MAX + 1;
    uint64_t need = sizeof mh + (uint64_t)mh.count * sizeof(struct gc__manifest_entry);
    mh.data_offset = (need + pg - 1) / pg * pg;
    ck_assert_uint_le(mh.data_offset, size);
    memcpy(bytes, &mh, sizeof mh);
    int fd = memfd_create("manifest-limit", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, bytes, size), (ssize_t)size);
    ck_assert_int_eq(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE), 0);
    free(bytes);
    ck_assert_int_eq(gc_wire_decode(msg, len, fd, -1, &d, &err), GC_EWIRE);
    ck_assert_ptr_null(d);
    char want[96];
    snprintf(want, sizeof want, "manifest (%d entries, data at %llu", GC_HEAVY_MAX + 1,
             (unsigned long long)mh.data_offset);
    ck_assert_msg(strstr(err.msg, want) != NULL, "%s", err.msg);
    close(fd);
    gc_ctx_free(ctx);
    gc_state_free(st);
}
END_TEST

/* The input file's manifest states the sizes of the zone's two files, and a
 * message naming that file must state the same: a manifest whose input size
 * alone, or whose output size alone, disagrees with the message (the file
 * itself as the message says) is refused, naming the sizes, and no context
 * is made. Either alone is a file of another zone or a forged one. */
START_TEST(decoder_refuses_a_manifest_whose_one_size_disagrees)
{
    struct fx f;
    fx_init(&f);
    const struct gc__manifest_head good = fx_manifest_head(&f);
    ck_assert_uint_gt(good.output_size, 0);   /* the message states an output file */
    for (int which = 0; which < 2; which++) {
        struct gc__manifest_head mh = good;
        if (which == 0)
            mh.input_size += page();
        else
            mh.output_size += page();
        int fd = input_with_head(&f, &mh);
        gc_ctx *d = NULL;
        gc_err err;
        ck_assert_int_eq(gc_wire_decode(f.msg, f.len, fd, f.out_fd, &d, &err), GC_EWIRE);
        ck_assert_ptr_null(d);
        char want[128];
        snprintf(want, sizeof want, "disagrees with the message");
        ck_assert_msg(strstr(err.msg, want) != NULL, "%s", err.msg);
        snprintf(want, sizeof want, "sizes %llu/%llu)", (unsigned long long)mh.input_size,
                 (unsigned long long)mh.output_size);
        ck_assert_msg(strstr(err.msg, want) != NULL, "%s", err.msg);
        close(fd);
        fd = input_with_head(&f, &good);   /* the same copy, sizes as they were */
        ck_assert_int_eq(gc_wire_decode(f.msg, f.len, fd, f.out_fd, &d, &err), GC_OK);
        gc_ctx_free(d);
        close(fd);
    }
    fx_free(&f);
}
END_TEST

/* Contracts of several shapes, including a state without a zone. */
START_TEST(round_trip_shapes)
{
    static const char *const dom_all[] = {"i", "s", "by", "d", "es", "eb"};
    static const char *const heavy2[] = {"e", "b", "a"}, *const outs2[] = {"p", "o"};
    const gc_contract shapes[] = {
        {0},
        {dom_all, N(dom_all), 0, 0, 0, 0, NULL, 0, NULL, 0, 0},
        {0, 0, heavy2, N(heavy2), 0, 0, NULL, 0, NULL, 0, 0},
        {0, 0, 0, 0, outs2, N(outs2), NULL, 0, NULL, 0, 0},
        {dom_all, N(dom_all), heavy2, N(heavy2), outs2, N(outs2), NULL, 0, NULL, 0, 0},
    };
    for (int zone = 0; zone < 2; zone++) {
        gc_state *st = fx_state();
        if (!zone) {   /* same domain, no zone */
            gc_state_free(st);
            ck_assert_int_eq(gc_state_new(&st, NULL), GC_OK);
            ck_assert_int_eq(gc_state_set_int(st, "i", 1, NULL), GC_OK);
            ck_assert_int_eq(gc_state_set_str(st, "s", "x", NULL), GC_OK);
            ck_assert_int_eq(gc_state_set_bytes(st, "by", "", 0, NULL), GC_OK);
            ck_assert_int_eq(gc_state_set_double(st, "d", 1e300, NULL), GC_OK);
            ck_assert_int_eq(gc_state_set_str(st, "es", "", NULL), GC_OK);
            ck_assert_int_eq(gc_state_set_bytes(st, "eb", "\0", 1, NULL), GC_OK);
        }
        const gc_zone *z = gc_state_heavy(st);
        for (size_t k = 0; k < N(shapes); k++) {
            if (!zone && (shapes[k].n_heavy_reads || shapes[k].n_outputs))
                continue;
            gc_ctx *ctx = NULL, *d = NULL;
            gc_err err;
            ck_assert_int_eq(gc_ctx_from_state(st, &shapes[k], NULL, 0, 1, &ctx, &err), GC_OK);
            uint8_t buf[4096];
            size_t len;
            ck_assert_int_eq(gc_wire_encode(ctx, buf, sizeof buf, &len, &err), GC_OK);
            /* As a dispatcher does: send the files the context names. */
            int in_fd = gc_wire_input_size(ctx) ? gc_zone_input_fd(z) : -1;
            int out_fd = gc_wire_output_size(ctx) ? gc_zone_output_fd(z) : -1;
            int rc = gc_wire_decode(buf, len, in_fd, out_fd, &d, &err);
            ck_assert_msg(rc == GC_OK, "zone %d shape %zu: %s", zone, k, err.msg);
            ck_assert_msg(gc_wire_compare(ctx, d, &err) == GC_OK, "shape %zu: %s", k, err.msg);
            gc_ctx_free(d);
            gc_ctx_free(ctx);
        }
        gc_state_free(st);
    }
}
END_TEST

/* The real boundary: a child receives the message and the descriptors (by
 * fork inheritance), maps the files itself, and reads and writes. */
START_TEST(round_trip_across_fork)
{
    struct fx f;
    fx_init(&f);
    const void *zd;
    size_t zn;
    ck_assert_int_eq(gc_zone_read(f.z, "a", &zd, &zn, NULL), GC_OK);
    uint64_t want = gc_checksum(zd, zn, GC_CHECKSUM_SEED);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        gc_ctx *d = NULL;
        if (gc_wire_decode(f.msg, f.len, f.in_fd, f.out_fd, &d, NULL) != GC_OK)
            _exit(10);
        size_t in_size = (size_t)gc_wire_input_size(d), out_size = (size_t)gc_wire_output_size(d);
        void *in = mmap(NULL, in_size, PROT_READ, MAP_SHARED, f.in_fd, 0);
        void *out = mmap(NULL, out_size, PROT_READ | PROT_WRITE, MAP_SHARED, f.out_fd, 0);
        if (in == MAP_FAILED || out == MAP_FAILED)
            _exit(11);
        if (mmap(NULL, in_size, PROT_READ | PROT_WRITE, MAP_SHARED, f.in_fd, 0) != MAP_FAILED)
            _exit(12);   /* the worker cannot map the input writable */
        if (gc_wire_attach(d, in, in_size, out, out_size, NULL) != GC_OK)
            _exit(13);
        const void *data;
        void *o;
        size_t n, on;
        if (gc_ctx_heavy(d, "a", &data, &n) != GC_OK || gc_checksum(data, n, GC_CHECKSUM_SEED) != want)
            _exit(14);
        if (gc_ctx_output(d, "o", &o, &on) != GC_OK || on != 100)
            _exit(15);
        memset(o, 0x77, on);
        gc_ctx_free(d);
        _exit(0);
    }
    int ws;
    ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
    ck_assert(WIFEXITED(ws));
    ck_assert_int_eq(WEXITSTATUS(ws), 0);
    const void *o;
    size_t on;
    ck_assert_int_eq(gc_zone_read(f.z, "o", &o, &on, NULL), GC_OK);
    ck_assert_uint_eq(((const uint8_t *)o)[0], 0x77);
    ck_assert_uint_eq(((const uint8_t *)o)[99], 0x77);
    fx_free(&f);
}
END_TEST

START_TEST(encode_limits)
{
    struct fx f;
    fx_init(&f);
    uint8_t buf[1024];
    size_t len = 0;
    gc_err err;
    for (size_t cap = 0; cap < f.len; cap++) {
        ck_assert_int_eq(gc_wire_encode(f.ctx, buf, cap, &len, &err), GC_ELIMIT);
        ck_assert_ptr_nonnull(strstr(err.msg, "buffer holds"));
    }
    ck_assert_int_eq(gc_wire_encode(f.ctx, buf, f.len, &len, &err), GC_OK);
    ck_assert_uint_eq(len, f.len);
    ck_assert_mem_eq(buf, f.msg, len);
    ck_assert_int_eq(gc_wire_encode(NULL, buf, sizeof buf, &len, &err), GC_EINVAL);
    ck_assert_int_eq(gc_wire_encode(f.ctx, buf, sizeof buf, NULL, &err), GC_EINVAL);
    ck_assert_int_eq(gc_wire_encode(f.ctx, NULL, sizeof buf, &len, &err), GC_EINVAL);
    ck_assert_str_eq(err.msg, "gc_wire_encode: NULL argument");
    fx_free(&f);
    /* A context larger than a message can carry. */
    gc_state *st = NULL;
    ck_assert_int_eq(gc_state_new(&st, NULL), GC_OK);
    char *big = malloc(GC_VALUE_BYTES_MAX + 1);
    memset(big, 'v', GC_VALUE_BYTES_MAX);
    big[GC_VALUE_BYTES_MAX] = '\0';
    const char *names[20];
    char store[20][16];
    for (int i = 0; i < 20; i++) {
        snprintf(store[i], sizeof store[i], "k%d", i);
        names[i] = store[i];
        ck_assert_int_eq(gc_state_set_str(st, names[i], big, NULL), GC_OK);
    }
    free(big);
    gc_contract c = {names, 20, 0, 0, 0, 0, NULL, 0, NULL, 0, 0};
    /* The factory refuses it for every mode, so that thread and process
     * workers never see different outcomes for one contract. */
    gc_ctx *ctx = NULL;
    ck_assert_int_eq(gc_ctx_from_state(st, &c, NULL, 0, 1, &ctx, &err), GC_ELIMIT);
    ck_assert_ptr_null(ctx);
    ck_assert_ptr_nonnull(strstr(err.msg, "message limit"));
    /* Fifteen such values still fit, and their size is what encode writes. */
    c.n_domain_reads = 15;
    ck_assert_int_eq(gc_ctx_from_state(st, &c, NULL, 0, 1, &ctx, &err), GC_OK);
    uint8_t *huge = malloc(GC_WIRE_MSG_MAX);
    ck_assert_int_eq(gc_wire_encode(ctx, huge, GC_WIRE_MSG_MAX, &len, &err), GC_OK);
    ck_assert_uint_eq(len, gc_wire_size(ctx));
    free(huge);
    gc_ctx_free(ctx);
    gc_state_free(st);
}
END_TEST

/* The factory's message limit, on both sides: a context whose encoding takes
 * exactly GC_WIRE_MSG_MAX bytes is made (and encodes into that many), one
 * byte more is refused with ELIMIT, in every mode alike. */
START_TEST(context_at_the_message_limit_is_made)
{
    gc_state *st = NULL;
    gc_err err;
    ck_assert_int_eq(gc_state_new(&st, NULL), GC_OK);
    static char big[GC_VALUE_BYTES_MAX + 1];
    memset(big, 'v', GC_VALUE_BYTES_MAX);
    const char *names[16];
    char store[16][16];
    for (int i = 0; i < 16; i++) {
        snprintf(store[i], sizeof store[i], i < 15 ? "k%d" : "pad", i);
        names[i] = store[i];
        ck_assert_int_eq(gc_state_set_str(st, names[i], i < 15 ? big : "", NULL), GC_OK);
    }
    gc_contract c = {.domain_reads = names, .n_domain_reads = 16};
    gc_ctx *ctx = NULL;
    ck_assert_int_eq(gc_ctx_from_state(st, &c, NULL, 0, 1, &ctx, &err), GC_OK);
    size_t room = GC_WIRE_MSG_MAX - gc_wire_size(ctx);
    gc_ctx_free(ctx);
    ck_assert_uint_le(room, GC_VALUE_BYTES_MAX - 1);
    for (size_t pad = room; pad <= room + 1; pad++) {
        ck_assert_int_eq(gc_state_set_bytes(st, "pad", big, pad, NULL), GC_OK);
        ctx = NULL;
        int rc = gc_ctx_from_state(st, &c, NULL, 0, 1, &ctx, &err);
        if (pad > room) {
            ck_assert_int_eq(rc, GC_ELIMIT);
            ck_assert_ptr_null(ctx);
            continue;
        }
        ck_assert_int_eq(rc, GC_OK);
        ck_assert_uint_eq(gc_wire_size(ctx), GC_WIRE_MSG_MAX);
        uint8_t *msg = malloc(GC_WIRE_MSG_MAX);
        size_t len = 0;
        ck_assert_int_eq(gc_wire_encode(ctx, msg, GC_WIRE_MSG_MAX, &len, &err), GC_OK);
        ck_assert_uint_eq(len, GC_WIRE_MSG_MAX);
        free(msg);
        gc_ctx_free(ctx);
    }
    gc_state_free(st);
}
END_TEST

/* ---- an independent builder of messages, per wire.h ---------------------- */

struct dspec {
    const char *name;
    int name_len;         /* -1: strlen */
    unsigned type;
    int64_t i;
    const char *bytes;
    int64_t len;          /* str/bytes: the length field; bytes written = min(len, blen) */
    size_t blen;
};

struct espec {
    const char *name;
    int name_len;
    uint32_t flags;
    uint64_t offset, length;
};

struct spec {
    uint32_t magic;
    uint16_t version, flags;
    int64_t total;        /* -1: the real length */
    uint32_t task, ntasks;
    uint64_t gen, deadline, in_size, out_size;
    int ndomain, nentries;   /* -1: nd / ne */
    struct dspec d[4];
    int nd;
    struct espec e[4];
    int ne;
    /* the commit section */
    uint64_t base;
    uint32_t attempt;
    unsigned cfg, allow;
    int declared;         /* -1: nd */
    uint64_t modified[4];
    const char *writes[4];
    int nw;
    int nwrites;          /* -1: nw */
    unsigned ret;
    int no_commit;        /* leave the commit section out */
    int trailing;
};

struct mb {
    uint8_t b[GC_WIRE_MSG_MAX + 256];
    size_t n;
};

static void mb_u(struct mb *m, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        m->b[m->n++] = (uint8_t)(v >> (8 * i));
}

static void mb_raw(struct mb *m, const void *p, size_t n)
{
    if (n == 0)
        return;
    memcpy(m->b + m->n, p, n);
    m->n += n;
}

/* len < 0: the name as it is. Otherwise len is the length byte, and at most
 * strlen + 1 bytes follow (so "i\0" with len 2 sends a NUL, and a short name
 * with a large len runs off the message). */
static void mb_name(struct mb *m, const char *name, int len)
{
    size_t n = len < 0 ? strlen(name) : (size_t)len;
    size_t avail = strlen(name) + (len < 0 ? 0 : 1);
    mb_u(m, n, 1);
    mb_raw(m, name, n < avail ? n : avail);
}

static void build(struct mb *m, const struct spec *s)
{
    m->n = 0;
    mb_u(m, s->magic, 4);
    mb_u(m, s->version, 2);
    mb_u(m, s->flags, 2);
    mb_u(m, 0, 4);
    mb_u(m, s->task, 4);
    mb_u(m, s->ntasks, 4);
    mb_u(m, s->gen, 8);
    mb_u(m, s->deadline, 8);
    mb_u(m, s->in_size, 8);
    mb_u(m, s->out_size, 8);
    mb_u(m, (uint64_t)(s->ndomain < 0 ? s->nd : s->ndomain), 2);
    mb_u(m, (uint64_t)(s->nentries < 0 ? s->ne : s->nentries), 2);
    for (int i = 0; i < s->nd; i++) {
        const struct dspec *d = &s->d[i];
        mb_name(m, d->name, d->name_len);
        mb_u(m, d->type, 1);
        if (d->type == GC_VAL_INT || d->type == GC_VAL_DOUBLE) {
            mb_u(m, (uint64_t)d->i, 8);
        } else {
            mb_u(m, (uint64_t)d->len, 4);
            mb_raw(m, d->bytes, d->blen);
        }
    }
    for (int i = 0; i < s->ne; i++) {
        const struct espec *e = &s->e[i];
        mb_name(m, e->name, e->name_len);
        mb_u(m, e->flags, 4);
        mb_u(m, e->offset, 8);
        mb_u(m, e->length, 8);
    }
    if (s->no_commit)
        goto end;
    mb_u(m, s->base, 8);
    mb_u(m, s->attempt, 4);
    mb_u(m, s->cfg, 1);
    mb_u(m, s->allow, 1);
    mb_u(m, (uint64_t)(s->declared < 0 ? s->nd : s->declared), 2);
    for (int i = 0; i < s->nd; i++)
        mb_u(m, s->modified[i], 8);
    mb_u(m, (uint64_t)(s->nwrites < 0 ? s->nw : s->nwrites), 2);
    for (int i = 0; i < s->nw; i++)
        mb_name(m, s->writes[i], -1);
    mb_u(m, s->ret, 2);
end:
    for (int i = 0; i < s->trailing; i++)
        mb_u(m, 0, 1);
    uint64_t total = s->total < 0 ? m->n : (uint64_t)s->total;
    for (int i = 0; i < 4; i++)
        m->b[8 + i] = (uint8_t)(total >> (8 * i));
}

/* The fixture's context, described field by field. */
static void base_spec(const struct fx *f, struct spec *s)
{
    const gc_zone_entry *a = gc_zone_find(f->z, "a"), *o = gc_zone_find(f->z, "o");
    memset(s, 0, sizeof *s);
    s->magic = GC_WIRE_MAGIC;
    s->version = GC_WIRE_VERSION;
    s->flags = 3;
    s->total = -1;
    s->task = 1;
    s->ntasks = 3;
    s->gen = gc_zone_generation(f->z);
    s->deadline = DEADLINE;
    s->in_size = gc_zone_input_size(f->z);
    s->out_size = gc_zone_output_size(f->z);
    s->ndomain = s->nentries = -1;
    s->nd = 3;
    s->d[0] = (struct dspec){"i", -1, GC_VAL_INT, -7, NULL, 0, 0};
    s->d[1] = (struct dspec){"s", -1, GC_VAL_STR, 0, "hello", 5, 5};
    s->d[2] = (struct dspec){"by", -1, GC_VAL_BYTES, 0, (const char *)FX_BYTES, 3, 3};
    s->ne = 2;
    s->e[0] = (struct espec){"a", -1, 0, a->offset, a->length};
    s->e[1] = (struct espec){"o", -1, GC_ENTRY_OUTPUT, o->offset, o->length};
    s->attempt = 1;
    s->cfg = 1;          /* strict contracts, smart commit: the default */
    s->declared = s->nwrites = -1;
    s->ret = 0xFFFF;
}

/* An encoder given too small a buffer reports the size it needs and writes
 * nothing past the end of the buffer it was given, whatever the size: a
 * caller's neighbouring memory (here a canary) stays as it was. */
START_TEST(encode_never_writes_past_its_buffer)
{
    struct fx f;
    fx_init(&f);
    static uint8_t buf[GC_WIRE_MSG_MAX];
    size_t len = 0;
    gc_err err;
    for (size_t cap = 0; cap < f.len; cap++) {
        memset(buf, 0xA5, f.len);
        ck_assert_int_eq(gc_wire_encode(f.ctx, buf, cap, &len, &err), GC_ELIMIT);
        for (size_t i = cap; i < f.len; i++)
            ck_assert_msg(buf[i] == 0xA5, "a buffer of %zu bytes: byte %zu past it written",
                          cap, i);
    }
    fx_free(&f);
}
END_TEST

START_TEST(encoder_matches_documented_format)
{
    struct fx f;
    fx_init(&f);
    struct spec s;
    static struct mb m;
    base_spec(&f, &s);
    build(&m, &s);
    ck_assert_uint_eq(m.n, f.len);
    ck_assert_mem_eq(m.b, f.msg, f.len);
    fx_free(&f);
}
END_TEST

/* Each refusal's whole reason, with the section, index, field and byte
 * offset it names; '#' stands for a number that depends on the machine or
 * the process (page-sized file sizes, offsets, zone generations). */
struct reject {
    const char *label;
    int status;
    const char *msg;
};

/* Does the reason equal the pattern, '#' matching one or more digits? */
static int reason_matches(const char *pat, const char *s)
{
    for (; *pat; pat++) {
        if (*pat == '#') {
            if (*s < '0' || *s > '9')
                return 0;
            while (*s >= '0' && *s <= '9')
                s++;
        } else if (*s++ != *pat) {
            return 0;
        }
    }
    return *s == '\0';
}

static const struct reject rejects[] = {
    /* 0 */ {"bad magic", GC_EWIRE,
     "wire: header magic at byte 0 is 0x31574247, not 0x31574347"},
    {"version 3", GC_EWIRE,
     "wire: header version at byte 4 is 3, this decoder reads 2"},
    {"reserved flag bit", GC_EWIRE,
     "wire: header flags at byte 6: reserved bits 0x4 are set (known: 0x3)"},
    {"total length too big", GC_EWIRE,
     "wire: header total length at byte 8 is 1000 but 178 bytes were received"},
    {"task >= ntasks", GC_EWIRE,
     "wire: header task at byte 12 is 3 of ntasks 3 at byte 16"},
    /* 5 */ {"ntasks 0", GC_EWIRE,
     "wire: header task at byte 12 is 0 of ntasks 0 at byte 16"},
    {"generation 0 with an input file", GC_EWIRE,
     "wire: header generation at byte 20 is 0 but flags at byte 6 declare an input file"},
    {"output file without input file", GC_EWIRE,
     "wire: header flags at byte 6 declare an output file without an input file"},
    {"input size not whole pages", GC_EWIRE,
     "wire: header input file size at byte 36 is # (flags: an input file; sizes are whole pages)"},
    {"input size differs from the file", GC_EWIRE,
     "wire: input file size at byte 36 is # but the descriptor's file has # bytes"},
    /* 10 */ {"output flag but size 0", GC_EWIRE,
     "wire: header output file size at byte 44 is 0 (flags: an output file; sizes are whole "
     "pages)"},
    {"domain count over limit", GC_ELIMIT,
     "wire: header domain count at byte 52 is 257 (limit 256)"},
    {"entry count over limit", GC_ELIMIT,
     "wire: header entry count at byte 54 is 1025 (limit 1024)"},
    {"domain count beyond the items", GC_EWIRE,
     "wire: domain[3] type at byte 92 is 0 (not int, double, str or bytes)"},
    {"empty name", GC_EWIRE,
     "wire: domain[0] name at byte 56: the name is empty"},
    /* 15 */ {"64-byte name", GC_EWIRE,
     "wire: domain[0] name at byte 56: the name is 64 bytes long (limit 63)"},
    {"name with '/'", GC_EWIRE,
     "wire: domain[1] name at byte 67: the name has byte 0x2f at position 1 (allowed: A-Z a-z "
     "0-9 _ . -)"},
    {"name starting with '.'", GC_EWIRE,
     "wire: entry[0] name at byte 90: the name '.a' starts with '.'"},
    {"duplicate domain name", GC_EWIRE,
     "wire: domain[2] name at byte 79 repeats domain[0] 'i'"},
    {"type 9", GC_EWIRE,
     "wire: domain[0] type at byte 58 is 9 (not int, double, str or bytes)"},
    /* 20 */ {"type 0", GC_EWIRE,
     "wire: domain[0] type at byte 58 is 0 (not int, double, str or bytes)"},
    {"string with NUL", GC_EWIRE,
     "wire: domain[1] string value at byte 74 contains a NUL byte"},
    {"value length over limit", GC_ELIMIT,
     "wire: domain[1] value length at byte 70 is 4097 (limit 4096)"},
    {"value length 0xffffffff", GC_ELIMIT,
     "wire: domain[2] value length at byte 83 is 4294967295 (limit 4096)"},
    {"entry flags 0x2", GC_EWIRE,
     "wire: entry[0] flags at byte 92 are 0x2 (known: 0x1)"},
    /* 25 */ {"entry flags high bit", GC_EWIRE,
     "wire: entry[0] flags at byte 92 are 0x80000000 (known: 0x1)"},
    {"offset not page-aligned", GC_EWIRE,
     "wire: entry[0] offset at byte 96 is #, not page-aligned"},
    {"offset + length overflow", GC_EWIRE,
     "wire: entry[0] offset # + length # at byte 96 pass the input file's # bytes"},
    {"length beyond the file", GC_EWIRE,
     "wire: entry[0] offset # + length # at byte 96 pass the input file's # bytes"},
    {"heavy read after output", GC_EWIRE,
     "wire: entry[1] at byte 114: a heavy read after an output (heavy reads come first)"},
    /* 30 */ {"output entry without output file", GC_EWIRE,
     "wire: entry[1] at byte 114: an output entry but the message has no output file"},
    {"duplicate entry name", GC_EWIRE,
     "wire: entry[1] name at byte 112 repeats entry[0] 'a'"},
    {"trailing byte", GC_EWIRE,
     "wire: 1 trailing bytes after the commit section at byte 178"},
    {"entry length not the manifest's", GC_EWIRE,
     "wire: entry[0] 'a' (offset #, length #, flags 0x0) is not in the input file's manifest"},
    {"entry name not in the manifest", GC_EWIRE,
     "wire: entry[0] 'b' (offset #, length #, flags 0x0) is not in the input file's manifest"},
    /* 35 */ {"entry in the manifest pages", GC_EWIRE,
     "wire: entry[0] 'a' offset 0 lies in the manifest"},
    {"generation of another zone", GC_EWIRE,
     "wire: generation at byte 20 is # but the input file is zone generation #"},
    {"name runs off the message", GC_EWIRE,
     "wire: entry[1] name at byte 112: the name has byte 0x00 at position 1 (allowed: A-Z a-z "
     "0-9 _ . -)"},
    {"output entry beyond the output file", GC_EWIRE,
     "wire: entry[1] offset # + length 1 at byte 118 pass the output file's # bytes"},
    {"total length too small", GC_EWIRE,
     "wire: header total length at byte 8 is 60 but 178 bytes were received"},
    /* 40 */ {"name byte 0x00", GC_EWIRE,
     "wire: domain[0] name at byte 56: the name has byte 0x00 at position 1 (allowed: A-Z a-z "
     "0-9 _ . -)"},
    {"value runs off the message", GC_EWIRE,
     "wire: domain[2] value at byte 87 needs 3 bytes but the message ends at byte 89"},
    {"attempt 0", GC_EWIRE,
     "wire: commit attempt at byte 142 is 0 (attempts count from 1)"},
    {"unknown config bit", GC_EWIRE,
     "wire: commit config at byte 146 has unknown bits 0x4"},
    {"unknown allow bit", GC_EWIRE,
     "wire: commit allow at byte 147 has unknown bits 0x4"},
    /* 45 */ {"undeclared keys with strict contracts", GC_EWIRE,
     "wire: commit declared count at byte 148 is 2 of 3 domain keys (undeclared keys ride "
     "only with strict contracts off)"},
    {"declared count past the keys", GC_EWIRE,
     "wire: commit declared count at byte 148 is 4 of 3 domain keys (undeclared keys ride "
     "only with strict contracts off)"},
    {"last-modified after the base", GC_EWIRE,
     "wire: commit last-modified version of 's' at byte 158 is 4, after the base version 3"},
    {"write count over limit", GC_ELIMIT,
     "wire: commit write count at byte 174 is 257 (limit 256)"},
    {"write named twice", GC_EWIRE,
     "wire: write[1] name at byte 178 repeats write[0] 'k'"},
    /* 50 */ {"return index past the writes", GC_EWIRE,
     "wire: commit return index at byte 178 is 1 of 1 writes"},
    {"bad write name", GC_EWIRE,
     "wire: write[0] name at byte 176: the name has byte 0x20 at position 1 (allowed: A-Z a-z "
     "0-9 _ . -)"},
};

static void mutate(int i, struct spec *s)
{
    uint64_t pg = page();
    switch (i) {
    case 0: s->magic ^= 0x100; break;
    case 1: s->version = 3; break;
    case 2: s->flags |= 4; break;
    case 3: s->total = 1000; break;
    case 4: s->task = 3; break;
    case 5: s->task = 0; s->ntasks = 0; break;
    case 6: s->gen = 0; break;
    case 7: s->flags = 2; s->gen = 0; s->in_size = 0; break;
    case 8: s->in_size += 1; break;
    case 9: s->in_size += pg; break;
    case 10: s->out_size = 0; break;
    case 11: s->ndomain = 257; break;
    case 12: s->nentries = 1025; break;
    case 13: s->ndomain = 4; break;
    case 14: s->d[0].name = ""; break;
    case 15: s->d[0].name = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"; break;
    case 16: s->d[1].name = "a/b"; break;
    case 17: s->e[0].name = ".a"; break;
    case 18: s->d[2].name = "i"; break;
    case 19: s->d[0].type = 9; break;
    case 20: s->d[0].type = 0; break;
    case 21: s->d[1].bytes = "he\0lo"; break;
    case 22: s->d[1].len = GC_VALUE_BYTES_MAX + 1; break;
    case 23: s->d[2].len = 0xFFFFFFFF; break;
    case 24: s->e[0].flags = 2; break;
    case 25: s->e[0].flags = 0x80000000u; break;
    case 26: s->e[0].offset += 1; break;
    case 27: s->e[0].offset = UINT64_MAX & ~(pg - 1); s->e[0].length = 2 * pg; break;
    case 28: s->e[0].length = s->in_size; break;
    case 29: { struct espec t = s->e[0]; s->e[0] = s->e[1]; s->e[1] = t; } break;
    case 30: s->flags = 1; s->out_size = 0; break;
    case 31: s->e[1].name = "a"; s->e[1].flags = 0; break;
    case 32: s->trailing = 1; break;
    case 33: s->e[0].length -= 1; break;
    case 34: s->e[0].name = "b"; break;
    case 35: s->e[0].offset = 0; s->e[0].length = 8; break;
    case 36: s->gen += 1000; break;
    case 37: s->e[1].name_len = 60; s->e[1].name = "o"; break;   /* claims 60, message ends */
    case 38: s->e[1].offset = s->out_size; s->e[1].length = 1; break;
    case 39: s->total = 60; break;
    case 40: s->d[0].name = "i\0"; s->d[0].name_len = 2; break;
    case 41: s->d[2].blen = 2; s->ne = 0; s->nentries = 0; s->no_commit = 1; break;   /* 3 claimed, 2 sent */
    case 42: s->attempt = 0; break;
    case 43: s->cfg = 5; break;
    case 44: s->allow = 4; break;
    case 45: s->declared = 2; break;
    case 46: s->declared = 4; break;
    case 47: s->base = 3; s->modified[1] = 4; break;
    case 48: s->nwrites = 257; break;
    case 49: s->nw = 2; s->writes[0] = "k"; s->writes[1] = "k"; break;
    case 50: s->nw = 1; s->writes[0] = "k"; s->ret = 1; break;
    case 51: s->nw = 1; s->writes[0] = "a b"; break;
    }
}

START_TEST(decoder_rejects_table)
{
    const struct reject *r = &rejects[_i];
    struct fx f;
    fx_init(&f);
    int fds = tu_fd_count();
    struct spec s;
    static struct mb m;
    base_spec(&f, &s);
    mutate(_i, &s);
    build(&m, &s);
    gc_ctx *d = (gc_ctx *)&f;   /* must be reset to NULL on failure */
    gc_err err;
    gc_err_clear(&err);
    int in_fd = (s.flags & 1) ? f.in_fd : -1, out_fd = (s.flags & 2) ? f.out_fd : -1;
    int rc = gc_wire_decode(m.b, m.n, in_fd, out_fd, &d, &err);
    ck_assert_msg(rc == r->status, "%s: %s (%s), expected %s", r->label, gc_status_name(rc),
                  err.msg, gc_status_name(r->status));
    ck_assert_msg(reason_matches(r->msg, err.msg), "%s: reason\n  '%s', expected\n  '%s'",
                  r->label, err.msg, r->msg);
    ck_assert_ptr_null(d);
    ck_assert_int_eq(tu_fd_count(), fds);
    ck_assert_int_ge(fcntl(f.in_fd, F_GETFD), 0);
    ck_assert_int_ge(fcntl(f.out_fd, F_GETFD), 0);
    fx_free(&f);
}
END_TEST

/* Sanity for the table: the unmutated spec decodes. */
START_TEST(decoder_accepts_base_spec)
{
    struct fx f;
    fx_init(&f);
    struct spec s;
    static struct mb m;
    base_spec(&f, &s);
    build(&m, &s);
    gc_ctx *d = NULL;
    gc_err err;
    ck_assert_int_eq(gc_wire_decode(m.b, m.n, f.in_fd, f.out_fd, &d, &err), GC_OK);
    ck_assert_int_eq(gc_wire_compare(f.ctx, d, &err), GC_OK);
    gc_ctx_free(d);
    fx_free(&f);
}
END_TEST

/* A contract may declare GC_DOMAIN_MAX writes: its context crosses the wire
 * with all of them, in order. */
START_TEST(round_trip_with_the_most_writes)
{
    gc_state *st;
    gc_err err;
    ck_assert_int_eq(gc_state_new(&st, &err), GC_OK);
    static char store[GC_DOMAIN_MAX][8];
    static const char *w[GC_DOMAIN_MAX];
    for (int i = 0; i < GC_DOMAIN_MAX; i++) {
        snprintf(store[i], sizeof store[i], "w%d", i);
        w[i] = store[i];
    }
    gc_contract c = {.domain_writes = w, .n_domain_writes = GC_DOMAIN_MAX};
    gc_ctx *ctx, *d = NULL;
    ck_assert_int_eq(gc_ctx_from_state(st, &c, NULL, 0, 1, &ctx, &err), GC_OK);
    static uint8_t buf[GC_WIRE_MSG_MAX];
    size_t len;
    ck_assert_int_eq(gc_wire_encode(ctx, buf, sizeof buf, &len, &err), GC_OK);
    ck_assert_int_eq(gc_wire_decode(buf, len, -1, -1, &d, &err), GC_OK);
    ck_assert_uint_eq(gc_ctx_write_count(d), GC_DOMAIN_MAX);
    for (size_t i = 0; i < GC_DOMAIN_MAX; i++)
        ck_assert_str_eq(gc_ctx_write_name(d, i), w[i]);
    ck_assert_int_eq(gc_wire_compare(ctx, d, &err), GC_OK);
    gc_ctx_free(d);
    gc_ctx_free(ctx);
    gc_state_free(st);
}
END_TEST

/* A write named twice is refused wherever the repeat is, naming the earlier
 * write it repeats (not only a repeat of the first). */
START_TEST(decoder_refuses_any_repeated_write_name)
{
    struct fx f;
    fx_init(&f);
    struct spec s;
    static struct mb m;
    base_spec(&f, &s);
    s.nw = 3;
    s.writes[0] = "k";
    s.writes[1] = "j";
    s.writes[2] = "j";
    build(&m, &s);
    gc_ctx *d = NULL;
    gc_err err;
    ck_assert_int_eq(gc_wire_decode(m.b, m.n, f.in_fd, f.out_fd, &d, &err), GC_EWIRE);
    ck_assert_str_eq(err.msg, "wire: write[2] name at byte 180 repeats write[1] 'j'");
    ck_assert_ptr_null(d);
    fx_free(&f);
}
END_TEST

START_TEST(decoder_rejects_every_truncation)
{
    struct fx f;
    fx_init(&f);
    int fds = tu_fd_count();
    uint8_t copy[GC_WIRE_MSG_MAX];
    gc_err err;
    for (size_t len = 0; len < f.len; len++) {
        gc_ctx *d = NULL;
        /* As received: the total length no longer matches. */
        ck_assert_int_eq(gc_wire_decode(f.msg, len, f.in_fd, f.out_fd, &d, &err), GC_EWIRE);
        ck_assert_ptr_null(d);
        /* Consistent total: the parser itself must stop at the end. */
        memcpy(copy, f.msg, len);
        if (len >= 12) {
            for (int b = 0; b < 4; b++)
                copy[8 + b] = (uint8_t)(len >> (8 * b));
        }
        int rc = gc_wire_decode(copy, len, f.in_fd, f.out_fd, &d, &err);
        ck_assert_msg(rc == GC_EWIRE, "len %zu: %s %s", len, gc_status_name(rc), err.msg);
        ck_assert_ptr_null(d);
    }
    ck_assert_int_eq(gc_wire_decode(NULL, 0, -1, -1, &(gc_ctx *){NULL}, &err), GC_EWIRE);
    ck_assert_int_eq(tu_fd_count(), fds);
    fx_free(&f);
}
END_TEST

/* A message that ends inside the commit section is refused naming the field
 * it ends in, that field's first byte and its size (wire.h's layout), not a
 * later field read over the gap: the reason a worker's broken message gets. */
START_TEST(decoder_names_the_commit_field_a_message_ends_in)
{
    static const struct {
        const char *field;
        size_t size;
    } commit[] = {{"base version", 8}, {"attempt", 4}, {"config", 1}, {"allow", 1},
                  {"declared count", 2}, {"last-modified version", 8},
                  {"last-modified version", 8}, {"last-modified version", 8},
                  {"write count", 2}, {"return index", 2}};
    struct fx f;
    fx_init(&f);
    size_t section = 0;
    for (size_t i = 0; i < N(commit); i++)
        section += commit[i].size;
    static uint8_t copy[GC_WIRE_MSG_MAX];
    size_t start = f.len - section;
    for (size_t i = 0; i < N(commit); i++) {
        for (size_t len = start; len < start + commit[i].size; len++) {
            memcpy(copy, f.msg, len);
            for (int b = 0; b < 4; b++)
                copy[8 + b] = (uint8_t)(len >> (8 * b));
            gc_ctx *d = NULL;
            gc_err err;
            int rc = gc_wire_decode(copy, len, f.in_fd, f.out_fd, &d, &err);
            char want[200];
            snprintf(want, sizeof want, "wire: commit %s at byte %zu needs %zu bytes but the "
                     "message ends at byte %zu", commit[i].field, start, commit[i].size, len);
            ck_assert_msg(rc == GC_EWIRE && strcmp(err.msg, want) == 0,
                          "len %zu: %s '%s', expected '%s'", len, gc_status_name(rc), err.msg, want);
            ck_assert_ptr_null(d);
        }
        start += commit[i].size;
    }
    ck_assert_uint_eq(start, f.len);
    fx_free(&f);
}
END_TEST

/* Wherever a message is cut (inside its header as it is, past it with its
 * total length made consistent), the reason names the field it ends in,
 * where that field begins and the byte the message ends at, so a worker's
 * broken message points at the place to look, never at a field read from
 * bytes that are not there. Every cut is
 * checked for that shape; the domain section's, field by field, against
 * wire.h's layout (name_len u8 | name | type u8 | value: 8 bytes, or value
 * length u32 | bytes) for the fixture's int "i", str "s" = "hello" and
 * bytes "by" of 3. */
START_TEST(decoder_names_where_every_truncation_ends)
{
    static const struct {
        int idx;
        const char *field;
        size_t size;
    } dom[] = {{0, "name_len", 1}, {0, "name", 1}, {0, "type", 1},         {0, "value", 8},
               {1, "name_len", 1}, {1, "name", 1}, {1, "type", 1},         {1, "value length", 4},
               {1, "value", 5},    {2, "name_len", 1}, {2, "name", 2},     {2, "type", 1},
               {2, "value length", 4}, {2, "value", 3}};
    struct fx f;
    fx_init(&f);
    static uint8_t copy[GC_WIRE_MSG_MAX];
    char (*reason)[GC_ERR_MSG_MAX] = calloc(f.len, sizeof *reason);   /* each cut's reason */
    ck_assert_ptr_nonnull(reason);
    size_t dom_start = 0;
    for (size_t len = 0; len < f.len; len++) {
        memcpy(copy, f.msg, len);
        for (int b = 0; b < 4 && len >= 12; b++)   /* a cut header keeps what it has */
            copy[8 + b] = (uint8_t)(len >> (8 * b));
        gc_ctx *d = NULL;
        gc_err err;
        ck_assert_int_eq(gc_wire_decode(copy, len, f.in_fd, f.out_fd, &d, &err), GC_EWIRE);
        /* "FIELD at byte P needs N bytes but the message ends at byte LEN",
         * P at most LEN: the field named begins inside what was received. */
        char want[64];
        snprintf(want, sizeof want, " bytes but the message ends at byte %zu", len);
        const char *needs = strstr(err.msg, " needs ");
        ck_assert_msg(needs && strstr(needs, want), "len %zu: '%s'", len, err.msg);
        const char *at = needs;
        while (at > err.msg && strncmp(at, " at byte ", 9) != 0)
            at--;
        size_t pos = SIZE_MAX;
        ck_assert_msg(sscanf(at, " at byte %zu", &pos) == 1 && pos <= len,
                      "len %zu: '%s' names a field past the end", len, err.msg);
        snprintf(reason[len], sizeof reason[len], "%s", err.msg);
        if (!dom_start && strncmp(err.msg, "wire: domain[0] name_len at", 27) == 0)
            dom_start = len;
    }
    ck_assert_uint_gt(dom_start, 12);
    size_t start = dom_start;
    for (size_t k = 0; k < N(dom); k++) {
        for (size_t len = start; len < start + dom[k].size; len++) {
            char want[GC_ERR_MSG_MAX];
            snprintf(want, sizeof want, "wire: domain[%d] %s at byte %zu needs %zu bytes but the "
                     "message ends at byte %zu", dom[k].idx, dom[k].field, start, dom[k].size,
                     len);
            ck_assert_msg(strcmp(reason[len], want) == 0, "len %zu: '%s', expected '%s'", len,
                          reason[len], want);
        }
        start += dom[k].size;
    }
    free(reason);
    fx_free(&f);
}
END_TEST

/* Any single-byte change is refused or decodes to a context that differs:
 * never a crash, never the same context. */
START_TEST(decoder_every_byte_flip)
{
    struct fx f;
    fx_init(&f);
    int fds = tu_fd_count();
    static const uint8_t masks[] = {0x01, 0x80, 0xFF, 0x20};
    uint8_t copy[GC_WIRE_MSG_MAX];
    int refused = 0;
    for (size_t i = 0; i < f.len; i++) {
        for (size_t k = 0; k < N(masks); k++) {
            memcpy(copy, f.msg, f.len);
            copy[i] ^= masks[k];
            gc_ctx *d = NULL;
            gc_err err;
            int rc = gc_wire_decode(copy, f.len, f.in_fd, f.out_fd, &d, &err);
            ck_assert_msg(rc == GC_OK || rc == GC_EWIRE || rc == GC_ELIMIT,
                          "byte %zu ^ 0x%02x: %s", i, masks[k], gc_status_name(rc));
            if (rc == GC_OK) {
                ck_assert_msg(gc_wire_compare(f.ctx, d, &err) == GC_EINVAL,
                              "byte %zu ^ 0x%02x decoded to the same context", i, masks[k]);
                gc_ctx_free(d);
            } else {
                ck_assert_ptr_null(d);
                refused++;
            }
        }
    }
    ck_assert_int_gt(refused, 0);
    ck_assert_int_eq(tu_fd_count(), fds);
    fx_free(&f);
}
END_TEST

START_TEST(decoder_limits_and_arguments)
{
    static uint8_t big[GC_WIRE_MSG_MAX + 1];
    gc_ctx *d = NULL;
    gc_err err;
    ck_assert_int_eq(gc_wire_decode(big, sizeof big, -1, -1, &d, &err), GC_ELIMIT);
    ck_assert_int_eq(gc_wire_decode(big, 10, -1, -1, NULL, &err), GC_EINVAL);
    ck_assert_int_eq(gc_wire_decode(NULL, 10, -1, -1, &d, &err), GC_EINVAL);
}
END_TEST

/* ---- descriptors --------------------------------------------------------------- */

static int memfd_sized(uint64_t size, int seals)
{
    int fd = memfd_create("test-file", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, (off_t)size), 0);
    if (seals)
        ck_assert_int_eq(fcntl(fd, F_ADD_SEALS, seals), 0);
    return fd;
}

static void expect_fd_reject(const struct fx *f, const uint8_t *msg, size_t len, int in_fd,
                             int out_fd, const char *why)
{
    gc_ctx *d = NULL;
    gc_err err;
    gc_err_clear(&err);
    int rc = gc_wire_decode(msg, len, in_fd, out_fd, &d, &err);
    ck_assert_msg(rc == GC_EWIRE, "fds %d/%d: %s (%s)", in_fd, out_fd, gc_status_name(rc), err.msg);
    ck_assert_msg(strstr(err.msg, why), "reason '%s' lacks '%s'", err.msg, why);
    ck_assert_ptr_null(d);
    (void)f;
}

START_TEST(decoder_rejects_descriptor_mismatches)
{
    struct fx f;
    fx_init(&f);
    uint64_t in_size = gc_zone_input_size(f.z), out_size = gc_zone_output_size(f.z);
    int wseal = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
    int unsealed = memfd_sized(in_size, 0);
    int resize_only = memfd_sized(in_size, F_SEAL_SHRINK | F_SEAL_GROW);
    int out_wsealed = memfd_sized(out_size, wseal);
    int pipefd[2];
    ck_assert_int_eq(pipe(pipefd), 0);
    FILE *tmp = tmpfile();
    ck_assert_ptr_nonnull(tmp);
    ck_assert_int_eq(ftruncate(fileno(tmp), (off_t)in_size), 0);
    /* Another zone of the same layout: right sizes and seals, other generation. */
    gc_state *other = fx_state();
    const gc_zone *oz = gc_state_heavy(other);
    int fds = tu_fd_count();

    expect_fd_reject(&f, f.msg, f.len, -1, f.out_fd, "declares an input file but no descriptor");
    expect_fd_reject(&f, f.msg, f.len, f.in_fd, -1, "declares an output file but no descriptor");
    expect_fd_reject(&f, f.msg, f.len, f.out_fd, f.in_fd, "input file size");
    expect_fd_reject(&f, f.msg, f.len, unsealed, f.out_fd, "not sealed against resizing");
    expect_fd_reject(&f, f.msg, f.len, resize_only, f.out_fd, "not sealed against writing");
    expect_fd_reject(&f, f.msg, f.len, f.in_fd, out_wsealed, "output file is sealed against writing");
    expect_fd_reject(&f, f.msg, f.len, pipefd[0], f.out_fd, "not a file");
    expect_fd_reject(&f, f.msg, f.len, fileno(tmp), f.out_fd, "sealed");
    expect_fd_reject(&f, f.msg, f.len, 1000, f.out_fd, "fstat");
    expect_fd_reject(&f, f.msg, f.len, gc_zone_input_fd(oz), gc_zone_output_fd(oz),
                     "zone generation");
    /* A message without files must not receive any. */
    gc_state *st = NULL;
    ck_assert_int_eq(gc_state_new(&st, NULL), GC_OK);
    gc_contract none = {0};
    gc_ctx *ctx = NULL;
    ck_assert_int_eq(gc_ctx_from_state(st, &none, NULL, 0, 1, &ctx, NULL), GC_OK);
    uint8_t buf[256];
    size_t len;
    ck_assert_int_eq(gc_wire_encode(ctx, buf, sizeof buf, &len, NULL), GC_OK);
    expect_fd_reject(&f, buf, len, f.in_fd, -1, "declares no input file but descriptor");
    expect_fd_reject(&f, buf, len, -1, f.out_fd, "declares no output file but descriptor");
    gc_ctx_free(ctx);
    gc_state_free(st);

    ck_assert_int_eq(tu_fd_count(), fds);   /* nothing opened, nothing closed */
    int all[] = {f.in_fd, f.out_fd, unsealed, resize_only, out_wsealed, pipefd[0]};
    for (size_t i = 0; i < N(all); i++)
        ck_assert_int_ge(fcntl(all[i], F_GETFD), 0);
    close(unsealed);
    close(resize_only);
    close(out_wsealed);
    close(pipefd[0]);
    close(pipefd[1]);
    fclose(tmp);
    gc_state_free(other);
    fx_free(&f);
}
END_TEST

/* ---- attach and compare ------------------------------------------------------------ */

START_TEST(attach_checks_mappings)
{
    struct fx f;
    fx_init(&f);
    gc_ctx *d = NULL;
    gc_err err;
    ck_assert_int_eq(gc_wire_decode(f.msg, f.len, f.in_fd, f.out_fd, &d, &err), GC_OK);
    const void *in = gc_zone_input_base(f.z);
    void *out = gc_zone_output_base(f.z);
    uint64_t is = gc_zone_input_size(f.z), os = gc_zone_output_size(f.z);
    ck_assert_int_eq(gc_wire_attach(d, in, is - page(), out, os, &err), GC_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "input mapping"));
    ck_assert_int_eq(gc_wire_attach(d, NULL, is, out, os, &err), GC_EINVAL);
    ck_assert_int_eq(gc_wire_attach(d, in, is, NULL, os, &err), GC_EINVAL);
    ck_assert_int_eq(gc_wire_attach(d, in, is, out, 0, &err), GC_EINVAL);
    ck_assert_int_eq(gc_wire_attach(d, (const uint8_t *)in + 1, is, out, os, &err), GC_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "page-aligned"));
    ck_assert_int_eq(gc_wire_attach(f.ctx, in, is, out, os, &err), GC_ESTATE);   /* factory's */
    ck_assert_int_eq(gc_wire_attach(NULL, in, is, out, os, &err), GC_EINVAL);
    ck_assert_int_eq(gc_wire_attach(d, in, is, out, os, &err), GC_OK);
    gc_ctx_free(d);
    fx_free(&f);
}
END_TEST

START_TEST(compare_names_first_difference)
{
    struct fx f;
    fx_init(&f);
    gc_contract c = {FX_DOM, N(FX_DOM), FX_HEAVY, N(FX_HEAVY), FX_OUT, N(FX_OUT), NULL, 0, NULL, 0, 0};
    gc_ctx *b = NULL;
    gc_err err;
    ck_assert_int_eq(gc_ctx_from_state(f.st, &c, NULL, 1, 3, &b, NULL), GC_OK);
    ck_assert_int_eq(gc_wire_compare(f.ctx, b, &err), GC_EINVAL);   /* deadline not set */
    ck_assert_ptr_nonnull(strstr(err.msg, "deadline_ns differs"));
    gc_wire_set_deadline(b, DEADLINE);
    ck_assert_int_eq(gc_wire_compare(f.ctx, b, &err), GC_OK);
    gc_ctx_free(b);
    ck_assert_int_eq(gc_ctx_from_state(f.st, &c, NULL, 0, 3, &b, NULL), GC_OK);
    ck_assert_int_eq(gc_wire_compare(f.ctx, b, &err), GC_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "task differs: 1 vs 0"));
    gc_ctx_free(b);
    ck_assert_int_eq(gc_state_set_bytes(f.st, "by", "\0\xFF\x08", 3, NULL), GC_OK);
    ck_assert_int_eq(gc_ctx_from_state(f.st, &c, NULL, 1, 3, &b, NULL), GC_OK);
    gc_wire_set_deadline(b, DEADLINE);
    ck_assert_int_eq(gc_wire_compare(f.ctx, b, &err), GC_EINVAL);
    ck_assert_str_eq(err.msg, "domain 'by' value differs");
    gc_ctx_free(b);
    static const char *const other_heavy[] = {"b"};
    gc_contract c2 = {FX_DOM, N(FX_DOM), other_heavy, 1, FX_OUT, N(FX_OUT), NULL, 0, NULL, 0, 0};
    ck_assert_int_eq(gc_state_set_bytes(f.st, "by", FX_BYTES, 3, NULL), GC_OK);
    ck_assert_int_eq(gc_ctx_from_state(f.st, &c2, NULL, 1, 3, &b, NULL), GC_OK);
    gc_wire_set_deadline(b, DEADLINE);
    ck_assert_int_eq(gc_wire_compare(f.ctx, b, &err), GC_EINVAL);
    ck_assert_str_eq(err.msg, "entry[0] name differs: 'a' vs 'b'");
    gc_ctx_free(b);
    ck_assert_int_eq(gc_wire_compare(f.ctx, NULL, &err), GC_EINVAL);
    fx_free(&f);
}
END_TEST

/* gc_wire_compare names the first difference of the commit section and of
 * the domain count too: two contexts that differ only in the name of their
 * one declared write, and two that differ only in how many keys they read. */
START_TEST(compare_names_a_differing_write_or_domain_count)
{
    gc_state *st = fx_state();
    static const char *const wi[] = {"i"}, *const ws[] = {"s"}, *const di[] = {"i"},
                             *const dis[] = {"i", "s"};
    gc_contract ca = {.domain_writes = wi, .n_domain_writes = 1};
    gc_contract cb = {.domain_writes = ws, .n_domain_writes = 1};
    gc_contract c1 = {.domain_reads = di, .n_domain_reads = 1};
    gc_contract c2 = {.domain_reads = dis, .n_domain_reads = 2};
    gc_ctx *a = NULL, *b = NULL;
    gc_err err;
    ck_assert_int_eq(gc_ctx_from_state(st, &ca, NULL, 0, 1, &a, NULL), GC_OK);
    ck_assert_int_eq(gc_ctx_from_state(st, &cb, NULL, 0, 1, &b, NULL), GC_OK);
    ck_assert_int_eq(gc_wire_compare(a, b, &err), GC_EINVAL);
    ck_assert_str_eq(err.msg, "write[0] differs: 'i' vs 's'");
    gc_ctx_free(a);
    gc_ctx_free(b);
    ck_assert_int_eq(gc_ctx_from_state(st, &c1, NULL, 0, 1, &a, NULL), GC_OK);
    ck_assert_int_eq(gc_ctx_from_state(st, &c2, NULL, 0, 1, &b, NULL), GC_OK);
    ck_assert_int_eq(gc_wire_compare(a, b, &err), GC_EINVAL);
    ck_assert_str_eq(err.msg, "domain count differs: 1 vs 2");
    ck_assert_int_eq(gc_wire_compare(a, a, &err), GC_OK);
    gc_ctx_free(a);
    gc_ctx_free(b);
    gc_state_free(st);
}
END_TEST

/* The last-modified version of each key a context reads is what a commit's
 * conflict check compares, so gc_wire_compare names it when it differs: two
 * states with the same keys, values and version 1, where one commit rewrote
 * i and the other s (each with its own value). A round trip that lost or
 * swapped those versions is not "the same context". */
static gc_state *rewritten(const char *key)
{
    gc_state *st = NULL;
    gc_err err;
    ck_assert_int_eq(gc_state_new(&st, NULL), GC_OK);
    ck_assert_int_eq(gc_state_set_int(st, "i", 5, NULL), GC_OK);
    ck_assert_int_eq(gc_state_set_str(st, "s", "x", NULL), GC_OK);
    gc__wset ws;
    memset(&ws, 0, sizeof ws);
    gc_value i = {.type = GC_VAL_INT, .i = 5}, s = {.type = GC_VAL_STR, .ptr = "x", .len = 1};
    ck_assert_int_eq(gc__wset_put(&ws, key, GC__WRITE_SET, key[0] == 'i' ? &i : &s, &err), GC_OK);
    uint64_t ver = 0;
    ck_assert_int_eq(gc__state_install(st, &ws, &ver, &err), GC_OK);
    ck_assert_uint_eq(ver, 1);
    gc__wset_free(&ws);
    return st;
}

START_TEST(compare_names_a_differing_last_modified_version)
{
    gc_state *s1 = rewritten("i"), *s2 = rewritten("s");
    static const char *const dom[] = {"s", "i"};
    gc_contract c = {.domain_reads = dom, .n_domain_reads = 2};
    gc_ctx *a = NULL, *b = NULL;
    gc_err err;
    ck_assert_int_eq(gc_ctx_from_state(s1, &c, NULL, 0, 1, &a, NULL), GC_OK);
    ck_assert_int_eq(gc_ctx_from_state(s2, &c, NULL, 0, 1, &b, NULL), GC_OK);
    ck_assert_int_eq(gc_wire_compare(a, b, &err), GC_EINVAL);
    ck_assert_str_eq(err.msg, "s differs: 0 vs 1");
    ck_assert_int_eq(gc_wire_compare(b, a, &err), GC_EINVAL);
    ck_assert_str_eq(err.msg, "s differs: 1 vs 0");
    ck_assert_int_eq(gc_wire_compare(a, a, &err), GC_OK);
    gc_ctx_free(a);
    gc_ctx_free(b);
    gc_state_free(s1);
    gc_state_free(s2);
}
END_TEST

/* A heavy entry is mapped by its flags, offset and length, so gc_wire_compare
 * names an entry that differs in any one of them: a decoded copy of the
 * fixture's context with one field changed is "entry 'a' differs", and with
 * the field put back it is the same context again. */
START_TEST(compare_names_a_differing_entry_field)
{
    struct fx f;
    fx_init(&f);
    gc_ctx *d = NULL;
    gc_err err;
    ck_assert_int_eq(gc_wire_decode(f.msg, f.len, f.in_fd, f.out_fd, &d, &err), GC_OK);
    ck_assert_int_eq(gc_wire_compare(f.ctx, d, &err), GC_OK);
    gc_zone_entry *e = &d->entries[0];
    ck_assert_str_eq(e->name, "a");
    const gc_zone_entry keep = *e;
    for (int field = 0; field < 3; field++) {
        if (field == 0)
            e->flags ^= GC_ENTRY_OUTPUT;
        else if (field == 1)
            e->offset += page();
        else
            e->length += 1;
        ck_assert_int_eq(gc_wire_compare(f.ctx, d, &err), GC_EINVAL);
        char want[160];
        snprintf(want, sizeof want, "entry 'a' differs: flags 0x%x/0x%x offset %llu/%llu "
                 "length %llu/%llu", keep.flags, e->flags, (unsigned long long)keep.offset,
                 (unsigned long long)e->offset, (unsigned long long)keep.length,
                 (unsigned long long)e->length);
        ck_assert_str_eq(err.msg, want);
        *e = keep;
        ck_assert_int_eq(gc_wire_compare(f.ctx, d, &err), GC_OK);
    }
    gc_ctx_free(d);
    fx_free(&f);
}
END_TEST

/* A process worker's task reads the same gc_value a thread's task reads: the
 * decoder gives every field of each domain value as the factory does, the
 * fields of the other types zero (an int's ptr and len, a string's i and d),
 * whatever value came before it in the message: the fixture's int -7 is
 * followed by a string and a bytes value. */
START_TEST(decoded_values_equal_the_factorys_field_by_field)
{
    struct fx f;
    fx_init(&f);
    gc_ctx *d = NULL;
    gc_err err;
    ck_assert_int_eq(gc_wire_decode(f.msg, f.len, f.in_fd, f.out_fd, &d, &err), GC_OK);
    ck_assert_uint_eq(d->n_domain, N(FX_DOM));
    for (size_t i = 0; i < d->n_domain; i++) {
        const gc_value *a = &f.ctx->domain[i].v, *b = &d->domain[i].v;
        ck_assert_str_eq(d->domain[i].name, FX_DOM[i]);
        ck_assert_int_eq(b->type, a->type);
        ck_assert_msg(b->i == a->i, "%s: i %lld, factory %lld", FX_DOM[i], (long long)b->i,
                      (long long)a->i);
        ck_assert_mem_eq(&b->d, &a->d, sizeof a->d);
        ck_assert_uint_eq(b->len, a->len);
        if (a->ptr == NULL)
            ck_assert_ptr_null(b->ptr);
        else
            ck_assert_mem_eq(b->ptr, a->ptr, a->len);
    }
    ck_assert_int_eq(f.ctx->domain[0].v.type, GC_VAL_INT);
    ck_assert_int_eq(f.ctx->domain[0].v.i, -7);
    gc_ctx_free(d);
    fx_free(&f);
}
END_TEST

Suite *suite_wire(void)
{
    Suite *s = suite_create("wire");
    TCase *rt = tcase_create("round_trip");
    tcase_set_timeout(rt, 20);
    tcase_add_test(rt, round_trip_with_zone);
    tcase_add_test(rt, heavy_readers_return_a_refused_access);
    tcase_add_test(rt, round_trip_shapes);
    tcase_add_test(rt, round_trip_across_fork);
    tcase_add_test(rt, encode_limits);
    tcase_add_test(rt, encode_never_writes_past_its_buffer);
    tcase_add_test(rt, encoder_matches_documented_format);
    tcase_add_test(rt, attach_checks_mappings);
    tcase_add_test(rt, unattached_context_refuses_writes);
    tcase_add_test(rt, unattached_context_refuses_events_and_messages);
    tcase_add_test(rt, empty_entry_name_is_an_undeclared_access);
    tcase_add_test(rt, write_readonly_tells_an_open_entry_from_a_sealed_one);
    tcase_add_test(rt, unattached_context_refuses_outputs);
    tcase_add_test(rt, output_access_without_a_result_place_is_refused);
    tcase_add_test(rt, heavy_access_without_a_result_place_is_refused);
    tcase_add_test(rt, context_at_the_message_limit_is_made);
    tcase_add_test(rt, round_trip_with_the_most_writes);
    tcase_add_test(rt, compare_names_first_difference);
    tcase_add_test(rt, compare_names_a_differing_write_or_domain_count);
    tcase_add_test(rt, compare_names_a_differing_last_modified_version);
    tcase_add_test(rt, compare_names_a_differing_entry_field);
    tcase_add_test(rt, decoded_values_equal_the_factorys_field_by_field);
    suite_add_tcase(s, rt);
    TCase *rj = tcase_create("rejects");
    tcase_set_timeout(rj, 60);   /* valgrind runs the flip loop too */
    tcase_add_test(rj, decoder_accepts_base_spec);
    tcase_add_test(rj, decoder_rejects_manifest_longer_than_its_pages);
    tcase_add_test(rj, decoder_refuses_a_manifest_count_past_the_limit);
    tcase_add_test(rj, decoder_refuses_a_manifest_whose_one_size_disagrees);
    tcase_add_loop_test(rj, decoder_rejects_table, 0, (int)N(rejects));
    tcase_add_test(rj, decoder_rejects_every_truncation);
    tcase_add_test(rj, decoder_names_the_commit_field_a_message_ends_in);
    tcase_add_test(rj, decoder_names_where_every_truncation_ends);
    tcase_add_test(rj, decoder_refuses_any_repeated_write_name);
    tcase_add_test(rj, decoder_every_byte_flip);
    tcase_add_test(rj, decoder_limits_and_arguments);
    tcase_add_test(rj, decoder_rejects_descriptor_mismatches);
    suite_add_tcase(s, rj);
    return s;
}
