/* Fuzz target context_factory: a property test of the context factory
 * (gc_ctx_from_state) against the invariants INC-014 broke. The input is a
 * sequence of operations (fz.h, FZF_*) that set domain values, declare heavy
 * input and output entries of chosen sizes and contents, and write a
 * contract; the target builds the state and zone through the engine's public
 * API while keeping its own model of what it asked for. Then it checks that
 * the factory succeeds exactly when the model says the contract can be met
 * (and its context fits a message, else GC_ELIMIT in every mode),
 * and that the context it builds
 *   - exposes every declared domain value with the state's value (copied),
 *     every declared heavy entry as the zone's own bytes (same pointer:
 *     zero-copy; same checksum as written) and every output writable;
 *   - refuses everything the contract does not name (GC_ECONTRACT, counted);
 *   - agrees with its process twin: encode, decode with the zone's real
 *     descriptors, attach to fresh mappings, compare; the bytes a process
 *     worker sees are those of the thread context, and what it writes to an
 *     output is what the main process reads back.
 * Any violation aborts. Nothing may outlive an iteration: descriptors are
 * checked every time. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fz.h"
#include "gapcheck/gapcheck.h"
#include "gapcheck/wire.h"

static const char *const pool[] = {FZF_NAME_POOL};
#define POOL_N (sizeof pool / sizeof pool[0])
#define LIST_MAX 32

/* The target's own name rule (value.h), kept apart from the engine's. */
static int name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > GC_NAME_MAX || s[0] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return 0;
    }
    return 1;
}

struct dom {                 /* model of one domain key, by pool index */
    int set;
    gc_value_type type;
    int64_t i;
    double d;
    const uint8_t *p;        /* into the fuzz input; str: cut at a NUL */
    size_t len;
};

struct ent {                 /* model of one declared heavy entry */
    const char *name;
    uint64_t size;
    int output;
    gc_pattern pat;
    uint64_t sum;            /* checksum of what was written (inputs) */
};

struct list {
    const char *v[LIST_MAX];
    size_t n;
};

struct model {
    struct dom dom[POOL_N];
    struct ent ent[POOL_N];
    size_t n_ent;
    int want_zone;
    struct list reads, heavy, outputs;
    uint32_t task, ntasks;
};

static void list_add(struct list *l, const char *name)
{
    if (l->n < LIST_MAX)
        l->v[l->n++] = name;
}

static int list_has(const struct list *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], name) == 0)
            return 1;
    return 0;
}

static const struct ent *model_entry(const struct model *m, const char *name)
{
    for (size_t i = 0; i < m->n_ent; i++)
        if (strcmp(m->ent[i].name, name) == 0)
            return &m->ent[i];
    return NULL;
}

static size_t pool_index(const char *name)
{
    for (size_t i = 0; i < POOL_N; i++)
        if (strcmp(pool[i], name) == 0)
            return i;
    return POOL_N;
}

/* ---- building the state ------------------------------------------------- */

static void set_domain(gc_state *st, struct model *m, fz_in *in, unsigned op)
{
    size_t k = fz_u8(in) % POOL_N;
    struct dom d = {1, GC_VAL_INT, 0, 0, NULL, 0};
    int rc;
    char str[256];
    if (op == FZF_INT) {
        d.i = (int64_t)fz_u64(in);
        rc = gc_state_set_int(st, pool[k], d.i, NULL);
    } else if (op == FZF_DOUBLE) {
        uint64_t bits = fz_u64(in);
        d.type = GC_VAL_DOUBLE;
        memcpy(&d.d, &bits, sizeof d.d);
        rc = gc_state_set_double(st, pool[k], d.d, NULL);
    } else if (op == FZF_STR) {
        d.type = GC_VAL_STR;
        d.p = fz_bytes(in, fz_u8(in), &d.len);
        const uint8_t *nul = memchr(d.p, 0, d.len);
        if (nul)
            d.len = (size_t)(nul - d.p);
        memcpy(str, d.p, d.len);
        str[d.len] = '\0';
        rc = gc_state_set_str(st, pool[k], str, NULL);
    } else {
        size_t want = fz_u16(in) % (GC_VALUE_BYTES_MAX + 64);
        d.type = GC_VAL_BYTES;
        d.p = fz_bytes(in, want, &d.len);
        rc = gc_state_set_bytes(st, pool[k], d.p, d.len, NULL);
    }
    int ok = name_ok(pool[k]) && d.len <= GC_VALUE_BYTES_MAX;
    FZ_CHECK((rc == GC_OK) == ok, "gc_state_set '%s' (type %d, %zu bytes): %d, expected %s",
             pool[k], (int)d.type, d.len, rc, ok ? "success" : "a refusal");
    if (ok)
        m->dom[k] = d;
}

static void declare(gc_zone *z, struct model *m, fz_in *in, unsigned op)
{
    const char *name = pool[fz_u8(in) % POOL_N];
    struct ent e = {name, 0, op == FZF_OUTPUT, {GC_PATTERN_ZERO, 0}, 0};
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    e.size = fz_u16(in) % (3 * page + 1);
    if (!e.output) {
        static const gc_pattern_kind kinds[] = {GC_PATTERN_ZERO, GC_PATTERN_SEQUENCE,
                                                GC_PATTERN_RANDOM};
        e.pat.kind = kinds[fz_u8(in) % 3];
        e.pat.seed = fz_u8(in);
    }
    int rc = gc_zone_declare(z, name, e.size, e.output ? GC_ENTRY_OUTPUT : 0, NULL);
    int ok = name_ok(name) && !model_entry(m, name);
    FZ_CHECK((rc == GC_OK) == ok, "gc_zone_declare '%s': %d, expected %s", name, rc,
             ok ? "success" : "a refusal");
    if (ok)
        m->ent[m->n_ent++] = e;
}

/* Run the operations; returns the state (with its zone published when any
 * entry operation appeared). */
static gc_state *build(struct model *m, fz_in *in)
{
    gc_state *st = NULL;
    gc_zone *z = NULL;
    FZ_CHECK(gc_state_new(&st, NULL) == GC_OK && gc_zone_new(&z, NULL) == GC_OK, "out of memory");
    m->ntasks = 1;
    while (fz_left(in) > 0) {
        unsigned op = fz_u8(in) % FZF_OP_COUNT;
        switch (op) {
        case FZF_INT: case FZF_DOUBLE: case FZF_STR: case FZF_BYTES:
            set_domain(st, m, in, op);
            break;
        case FZF_HEAVY: case FZF_OUTPUT:
            m->want_zone = 1;
            declare(z, m, in, op);
            break;
        case FZF_READ_DOMAIN:
            list_add(&m->reads, pool[fz_u8(in) % POOL_N]);
            break;
        case FZF_READ_HEAVY:
            list_add(&m->heavy, pool[fz_u8(in) % POOL_N]);
            break;
        case FZF_WRITE_OUTPUT:
            list_add(&m->outputs, pool[fz_u8(in) % POOL_N]);
            break;
        default:
            m->task = fz_u8(in);
            m->ntasks = fz_u8(in);
            break;
        }
    }
    if (!m->want_zone) {
        gc_zone_free(z);
        return st;
    }
    gc_err err;
    FZ_CHECK(gc_zone_allocate(z, &err) == GC_OK, "gc_zone_allocate: %s", err.msg);
    for (size_t i = 0; i < m->n_ent; i++) {
        struct ent *e = &m->ent[i];
        if (e->output)
            continue;
        void *p = NULL;
        size_t len = 0;
        FZ_CHECK(gc_zone_fill(z, e->name, &p, &len, &err) == GC_OK && len == e->size,
                 "gc_zone_fill '%s': %s", e->name, err.msg);
        gc_pattern_fill(&e->pat, p, len, 0);
        e->sum = gc_checksum(p, len, GC_CHECKSUM_SEED);
    }
    FZ_CHECK(gc_zone_publish(z, &err) == GC_OK, "gc_zone_publish: %s", err.msg);
    FZ_CHECK(gc_state_set_heavy(st, z, &err) == GC_OK, "gc_state_set_heavy: %s", err.msg);
    return st;
}

/* ---- what the factory must answer ------------------------------------------ */

static int list_valid(const struct list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        if (!name_ok(l->v[i]))
            return 0;
        for (size_t j = 0; j < i; j++)
            if (strcmp(l->v[i], l->v[j]) == 0)
                return 0;
    }
    return 1;
}

/* Bit set of the statuses the factory may return (1 << -status); 1 alone
 * means it must succeed. */
static size_t encoded_size(const struct model *m);

static unsigned expected(const struct model *m)
{
    unsigned may = 0;
#define MAY(s) (may |= 1u << -(s))
    if (m->ntasks == 0 || m->task >= m->ntasks)
        return MAY(GC_EINVAL);
    int valid = list_valid(&m->reads) && list_valid(&m->heavy) && list_valid(&m->outputs);
    for (size_t i = 0; i < m->outputs.n; i++)
        if (list_has(&m->heavy, m->outputs.v[i]))
            valid = 0;
    if (!valid)
        return MAY(GC_EINVAL);   /* the contract is checked before any lookup */
    for (size_t i = 0; i < m->reads.n; i++)
        if (!m->dom[pool_index(m->reads.v[i])].set)
            MAY(GC_ENOTFOUND);
    for (int out = 0; out <= 1; out++) {
        const struct list *l = out ? &m->outputs : &m->heavy;
        for (size_t i = 0; i < l->n; i++) {
            const struct ent *e = model_entry(m, l->v[i]);
            if (!e)
                MAY(GC_ENOTFOUND);
            else if (e->output != out)
                MAY(GC_ECONTRACT);
        }
    }
    /* A context no process worker could receive is refused in every mode. */
    if (!may && encoded_size(m) > GC_WIRE_MSG_MAX)
        MAY(GC_ELIMIT);
#undef MAY
    return may ? may : 1u;
}

/* ---- the invariants ------------------------------------------------------------ */

static void check_value(const char *key, const gc_value *got, const gc_value *want)
{
    FZ_CHECK(got->type == want->type, "'%s': type %d, the state has %d", key, (int)got->type,
             (int)want->type);
    if (want->type == GC_VAL_INT)
        FZ_CHECK(got->i == want->i, "'%s': int differs", key);
    else if (want->type == GC_VAL_DOUBLE)
        FZ_CHECK(memcmp(&got->d, &want->d, sizeof got->d) == 0, "'%s': double differs", key);
    else
        FZ_CHECK(got->len == want->len && (want->len == 0 || memcmp(got->ptr, want->ptr,
                                                                    want->len) == 0),
                 "'%s': %zu bytes, the state has %zu (or they differ)", key, got->len, want->len);
}

static void check_domain(gc_ctx *ctx, const gc_state *st, const struct model *m)
{
    FZ_CHECK(gc_ctx_domain_count(ctx) == m->reads.n, "context has %zu domain keys, contract %zu",
             gc_ctx_domain_count(ctx), m->reads.n);
    for (size_t i = 0; i < m->reads.n; i++) {
        const char *key = m->reads.v[i];
        const gc_value *got = NULL, *want = NULL;
        FZ_CHECK(strcmp(gc_ctx_domain_name(ctx, i), key) == 0, "domain %zu is '%s', not '%s'", i,
                 gc_ctx_domain_name(ctx, i), key);
        FZ_CHECK(gc_ctx_value(ctx, key, &got) == GC_OK, "declared key '%s' refused: %s", key,
                 gc_ctx_last_error(ctx));
        FZ_CHECK(gc_state_get(st, key, &want) == GC_OK, "'%s' vanished from the state", key);
        check_value(key, got, want);
        /* The model, not only the state: what the operations asked for. */
        const struct dom *d = &m->dom[pool_index(key)];
        gc_value mv = {d->type, d->i, d->d, d->p, d->len};
        check_value(key, got, &mv);
        if (got->type == GC_VAL_STR || got->type == GC_VAL_BYTES)
            FZ_CHECK(got->ptr != want->ptr, "'%s' shares the state's buffer (must be a copy)", key);
    }
}

/* Declared entries are the zone's bytes, in contract order. */
static void check_entries(gc_ctx *ctx, const gc_zone *z, const struct model *m)
{
    FZ_CHECK(gc_ctx_entry_count(ctx) == m->heavy.n + m->outputs.n,
             "context has %zu entries, contract %zu", gc_ctx_entry_count(ctx),
             m->heavy.n + m->outputs.n);
    for (size_t i = 0; i < m->heavy.n + m->outputs.n; i++) {
        int out = i >= m->heavy.n;
        const char *name = out ? m->outputs.v[i - m->heavy.n] : m->heavy.v[i];
        const struct ent *e = model_entry(m, name);
        FZ_CHECK(strcmp(gc_ctx_entry_at(ctx, i)->name, name) == 0, "entry %zu is '%s', not '%s'",
                 i, gc_ctx_entry_at(ctx, i)->name, name);
        const void *data = NULL, *zdata = NULL;
        void *w = NULL;
        size_t len = 0, zlen = 0;
        int rc = out ? gc_ctx_output(ctx, name, &w, &len) : gc_ctx_heavy(ctx, name, &data, &len);
        if (out)
            data = w;
        FZ_CHECK(rc == GC_OK, "declared entry '%s' refused: %s", name, gc_ctx_last_error(ctx));
        FZ_CHECK(gc_zone_read(z, name, &zdata, &zlen, NULL) == GC_OK, "zone lost '%s'", name);
        FZ_CHECK(data == zdata && len == zlen && len == e->size,
                 "'%s' is not the zone's memory (%p+%zu vs %p+%zu): a copy or another zone", name,
                 data, len, zdata, zlen);
        if (!out)
            FZ_CHECK(gc_checksum(data, len, GC_CHECKSUM_SEED) == e->sum,
                     "'%s' bytes differ from what the state was given", name);
    }
    uint64_t gen = m->heavy.n + m->outputs.n ? gc_zone_generation(z) : 0;
    FZ_CHECK(gc_ctx_generation(ctx) == gen, "generation %llu, expected %llu",
             (unsigned long long)gc_ctx_generation(ctx), (unsigned long long)gen);
}

/* Everything the contract does not name is refused, and each refusal of a
 * breach is counted. */
static void check_undeclared(gc_ctx *ctx, const struct model *m)
{
    uint32_t before = gc_ctx_violations(ctx), breaches = 0;
    for (size_t k = 0; k < POOL_N; k++) {
        const char *name = pool[k];
        const gc_value *v;
        const void *data;
        void *w;
        size_t len;
        int is_heavy = list_has(&m->heavy, name), is_out = list_has(&m->outputs, name);
        if (!list_has(&m->reads, name)) {
            int rc = gc_ctx_value(ctx, name, &v);
            FZ_CHECK(rc == GC_ECONTRACT, "undeclared key '%s' answered %d", name, rc);
            breaches++;
        }
        int rc = gc_ctx_heavy(ctx, name, &data, &len);
        FZ_CHECK(rc == (is_heavy ? GC_OK : is_out ? GC_EINVAL : GC_ECONTRACT),
                 "gc_ctx_heavy('%s') answered %d", name, rc);
        breaches += !is_heavy && !is_out;
        rc = gc_ctx_output(ctx, name, &w, &len);
        FZ_CHECK(rc == (is_out ? GC_OK : is_heavy ? GC_EREADONLY : GC_ECONTRACT),
                 "gc_ctx_output('%s') answered %d", name, rc);
        breaches += !is_out;
    }
    FZ_CHECK(gc_ctx_violations(ctx) - before == breaches, "%u violations counted, %u made",
             gc_ctx_violations(ctx) - before, breaches);
}

static size_t encoded_size(const struct model *m)
{
    size_t n = 56;
    for (size_t i = 0; i < m->reads.n; i++) {
        const struct dom *d = &m->dom[pool_index(m->reads.v[i])];
        n += 2 + strlen(m->reads.v[i]) +
             (d->type == GC_VAL_INT || d->type == GC_VAL_DOUBLE ? 8 : 4 + d->len);
    }
    for (size_t i = 0; i < m->heavy.n; i++)
        n += 21 + strlen(m->heavy.v[i]);
    for (size_t i = 0; i < m->outputs.n; i++)
        n += 21 + strlen(m->outputs.v[i]);
    /* The commit section: base, attempt, config, allow, declared count, a
     * last-modified version per key, no writes, no return key. */
    return n + 8 + 4 + 1 + 1 + 2 + 8 * m->reads.n + 2 + 2;
}

static void *map_fd(int fd, uint64_t size, int prot)
{
    if (!size)
        return NULL;
    void *p = mmap(NULL, (size_t)size, prot, MAP_SHARED, fd, 0);
    FZ_CHECK(p != MAP_FAILED, "mmap: %s", strerror(errno));
    return p;
}

/* The process twin: what a worker process gets must equal the thread
 * context, in description and in bytes. */
static void check_process(gc_ctx *tctx, const gc_state *st, const struct model *m)
{
    static uint8_t buf[GC_WIRE_MSG_MAX];
    size_t len = 0;
    gc_err err;
    int rc = gc_wire_encode(tctx, buf, sizeof buf, &len, &err);
    FZ_CHECK(rc == GC_OK && len == encoded_size(m), "gc_wire_encode: %d, %zu bytes (expected %zu): "
             "%s", rc, len, encoded_size(m), rc ? err.msg : "");
    const gc_zone *z = gc_state_heavy(st);
    int has_in = m->heavy.n + m->outputs.n > 0, has_out = m->outputs.n > 0;
    int in_fd = has_in ? gc_zone_input_fd(z) : -1, out_fd = has_out ? gc_zone_output_fd(z) : -1;
    gc_ctx *pctx = NULL;
    rc = gc_wire_decode(buf, len, in_fd, out_fd, &pctx, &err);
    FZ_CHECK(rc == GC_OK, "the factory's own context does not decode: %s", err.msg);
    FZ_CHECK(gc_wire_compare(tctx, pctx, &err) == GC_OK, "thread and process differ: %s", err.msg);
    uint64_t in_size = gc_wire_input_size(pctx), out_size = gc_wire_output_size(pctx);
    FZ_CHECK(in_size == (has_in ? gc_zone_input_size(z) : 0) &&
                 out_size == (has_out ? gc_zone_output_size(z) : 0),
             "process context states file sizes %llu/%llu", (unsigned long long)in_size,
             (unsigned long long)out_size);
    uint8_t *in_base = map_fd(in_fd, in_size, PROT_READ);
    uint8_t *out_base = map_fd(out_fd, out_size, PROT_READ | PROT_WRITE);
    FZ_CHECK(gc_wire_attach(pctx, in_base, in_size, out_base, out_size, &err) == GC_OK,
             "gc_wire_attach: %s", err.msg);
    for (size_t i = 0; i < m->reads.n; i++) {
        const gc_value *a = NULL, *b = NULL;
        FZ_CHECK(gc_ctx_value(tctx, m->reads.v[i], &a) == GC_OK &&
                     gc_ctx_value(pctx, m->reads.v[i], &b) == GC_OK,
                 "'%s' missing on one side", m->reads.v[i]);
        check_value(m->reads.v[i], b, a);
    }
    for (size_t i = 0; i < m->heavy.n; i++) {
        const void *a = NULL, *b = NULL;
        size_t la = 0, lb = 0;
        FZ_CHECK(gc_ctx_heavy(tctx, m->heavy.v[i], &a, &la) == GC_OK &&
                     gc_ctx_heavy(pctx, m->heavy.v[i], &b, &lb) == GC_OK,
                 "'%s' missing on one side", m->heavy.v[i]);
        FZ_CHECK(la == lb && (la == 0 || memcmp(a, b, la) == 0),
                 "'%s': the process worker sees other bytes than the thread", m->heavy.v[i]);
    }
    for (size_t i = 0; i < m->outputs.n; i++) {
        void *a = NULL, *b = NULL;
        size_t la = 0, lb = 0;
        FZ_CHECK(gc_ctx_output(tctx, m->outputs.v[i], &a, &la) == GC_OK &&
                     gc_ctx_output(pctx, m->outputs.v[i], &b, &lb) == GC_OK && la == lb,
                 "output '%s' missing on one side", m->outputs.v[i]);
        if (lb) {
            /* A worker's write is the main process's data: shared, not copied. */
            memset(b, (int)(i + 1), lb);
            FZ_CHECK(((uint8_t *)a)[0] == (uint8_t)(i + 1) && ((uint8_t *)a)[la - 1] == (uint8_t)(i + 1),
                     "output '%s' written by the process worker is not seen by the main process",
                     m->outputs.v[i]);
        }
    }
    const void *data;
    size_t dlen;
    FZ_CHECK(gc_ctx_heavy(pctx, "fz-never-declared", &data, &dlen) == GC_ECONTRACT,
             "the process context shows an undeclared entry");
    if (in_base)
        munmap(in_base, (size_t)in_size);
    if (out_base)
        munmap(out_base, (size_t)out_size);
    gc_ctx_free(pctx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct model m;
    int mark = fz_fd_mark();
    fz_in in = {data, size, 0};
    memset(&m, 0, sizeof m);
    gc_state *st = build(&m, &in);
    gc_contract c = {m.reads.v, m.reads.n, m.heavy.v, m.heavy.n, m.outputs.v, m.outputs.n};
    gc_ctx *ctx = NULL;
    gc_err err;
    int rc = gc_ctx_from_state(st, &c, NULL, m.task, m.ntasks, &ctx, &err);
    unsigned may = expected(&m);
    if (fz_debug())
        fprintf(stderr, "context_factory: gc_ctx_from_state: %s %s (allowed mask 0x%x)\n",
                gc_status_name(rc), rc ? err.msg : "", may);
    if (may == 1u) {
        FZ_CHECK(rc == GC_OK, "the factory refused a valid contract (%d): %s", rc, err.msg);
    } else {
        FZ_CHECK(rc < 0 && (may & (1u << -rc)), "the factory answered %d to a contract it must "
                 "refuse (allowed mask 0x%x)%s%s", rc, may, rc ? ": " : "", rc ? err.msg : "");
        FZ_CHECK(ctx == NULL, "a refused contract left a context");
    }
    if (rc == GC_OK) {
        FZ_CHECK(gc_ctx_mode_of(ctx) == GC_CTX_THREAD && gc_ctx_task(ctx) == m.task &&
                     gc_ctx_task_count(ctx) == m.ntasks,
                 "context mode/task wrong");
        check_domain(ctx, st, &m);
        if (gc_state_heavy(st))
            check_entries(ctx, gc_state_heavy(st), &m);
        else
            FZ_CHECK(gc_ctx_entry_count(ctx) == 0, "entries without a heavy zone");
        check_process(ctx, st, &m);
        check_undeclared(ctx, &m);
        gc_ctx_free(ctx);
    }
    gc_state_free(st);
    fz_fd_check(mark, "context_factory");
    return 0;
}
