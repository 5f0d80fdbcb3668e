/* Seed generator for the context fuzz targets (make fuzz-seeds; run once,
 * output committed under fuzz/corpus/). context_decode seeds are real
 * messages: a state and a zone built through the engine's API, a context from
 * the factory, gc_wire_encode, and the zone's own manifest bytes, wrapped in
 * the target's input format (fz.h, FZD_*) with the descriptor choice a
 * dispatcher would make, plus a few with wrong descriptors. context_factory
 * seeds are operation sequences (FZF_*) for the INC-014 situations: heavy
 * data a worker must see, outputs, a contract naming what the state lacks,
 * reads and writes of the wrong kind. Seeds assume the build machine's page
 * size, as the targets do. Usage: gen_seeds OUTDIR */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fz.h"
#include "wset_int.h"
#include "gapcheck/gapcheck.h"
#include "gapcheck/wire.h"

static const char *outdir;

static void die(const char *what, const gc_err *err)
{
    fprintf(stderr, "gen_seeds: %s: %s\n", what, err ? err->msg : strerror(errno));
    exit(1);
}

static void write_seed(const char *target, const char *name, const uint8_t *p, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", outdir, target);
    mkdir(outdir, 0777);
    mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/%s/%s", outdir, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0)
        die(path, NULL);
    printf("%s (%zu bytes)\n", path, n);
}

/* ---- context_decode --------------------------------------------------------- */

struct entry_spec {
    const char *name;
    uint64_t size;
    int output;
};

struct decode_spec {
    const char *seed;
    const struct entry_spec *entries;   /* NULL-name terminated, or NULL: no zone */
    const char *const *heavy; size_t n_heavy;
    const char *const *outputs; size_t n_outputs;
    uint32_t task, ntasks;
    uint64_t deadline;
    unsigned ctl_override;              /* 0: what a dispatcher passes */
    int synth;                          /* FZD_SYNTH: the target makes the manifest */
};

static gc_state *make_state(const struct entry_spec *entries)
{
    gc_state *st = NULL;
    gc_err err;
    if (gc_state_new(&st, &err) || gc_state_set_int(st, "n", -5, &err) ||
        gc_state_set_double(st, "ratio", 1.5, &err) ||
        gc_state_set_str(st, "name", "hello world", &err) ||
        gc_state_set_bytes(st, "blob", "\x00\xff\x7a", 3, &err))
        die("state", &err);
    if (!entries)
        return st;
    gc_zone *z = NULL;
    if (gc_zone_new(&z, &err))
        die("zone", &err);
    for (const struct entry_spec *e = entries; e->name; e++)
        if (gc_zone_declare(z, e->name, e->size, e->output ? GC_ENTRY_OUTPUT : 0, &err))
            die("declare", &err);
    if (gc_zone_allocate(z, &err))
        die("allocate", &err);
    for (const struct entry_spec *e = entries; e->name; e++) {
        void *p;
        size_t len;
        gc_pattern pat = {GC_PATTERN_SEQUENCE, 0};
        if (!e->output) {
            if (gc_zone_fill(z, e->name, &p, &len, &err))
                die("fill", &err);
            gc_pattern_fill(&pat, p, len, 0);
        }
    }
    if (gc_zone_publish(z, &err) || gc_state_set_heavy(st, z, &err))
        die("publish", &err);
    return st;
}

static void decode_seed(const struct decode_spec *s)
{
    static const char *const reads[] = {"n", "ratio", "name", "blob"};
    gc_state *st = make_state(s->entries);
    gc_contract c = {.domain_reads = reads, .n_domain_reads = 4, .heavy_reads = s->heavy,
                     .n_heavy_reads = s->n_heavy, .outputs = s->outputs,
                     .n_outputs = s->n_outputs};
    gc_ctx *ctx = NULL;
    gc_err err;
    if (gc_ctx_from_state(st, &c, NULL, s->task, s->ntasks, &ctx, &err))
        die(s->seed, &err);
    gc_wire_set_deadline(ctx, s->deadline);
    static uint8_t msg[GC_WIRE_MSG_MAX];
    size_t len = 0;
    if (gc_wire_encode(ctx, msg, sizeof msg, &len, &err))
        die("encode", &err);
    const gc_zone *z = gc_state_heavy(st);
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    int has_in = s->n_heavy + s->n_outputs > 0, has_out = s->n_outputs > 0;
    uint8_t manifest[4096];
    size_t mlen = 0;
    if (has_in && !s->synth) {
        mlen = 48 + 88 * gc_zone_count(z);
        if (mlen > sizeof manifest || pread(gc_zone_input_fd(z), manifest, mlen, 0) != (ssize_t)mlen)
            die("manifest", NULL);
    }
    unsigned ctl = (has_in ? FZD_IN_SEALED : FZD_IN_NONE) |
                   (has_out ? FZD_OUT_RESIZE << FZD_OUT_SHIFT : 0);
    if (s->ctl_override)
        ctl = s->ctl_override;
    uint8_t *buf = malloc(FZD_HEAD + mlen + len);
    if (!buf)
        die("malloc", NULL);
    buf[0] = (uint8_t)ctl;
    buf[1] = has_in ? (uint8_t)(gc_zone_input_size(z) / page) : 0;
    buf[2] = has_out ? (uint8_t)(gc_zone_output_size(z) / page) : 0;
    buf[3] = (uint8_t)mlen;
    buf[4] = (uint8_t)((mlen | (s->synth ? FZD_SYNTH : 0)) >> 8);
    memcpy(buf + FZD_HEAD, manifest, mlen);
    memcpy(buf + FZD_HEAD + mlen, msg, len);
    write_seed("context_decode", s->seed, buf, FZD_HEAD + mlen + len);
    free(buf);
    gc_ctx_free(ctx);
    gc_state_free(st);
}

static void decode_seeds(void)
{
    static const struct entry_spec one[] = {{"large_data", 8192, 0}, {NULL, 0, 0}};
    static const struct entry_spec mixed[] = {
        {"large_data", 12288, 0}, {"small.odd-name_1", 4097, 0}, {"empty", 0, 0},
        {"result", 4096, 1}, {"out.2", 100, 1}, {NULL, 0, 0}};
    static const struct entry_spec many[] = {
        {"e0", 1, 0}, {"e1", 10, 0}, {"e2", 100, 0}, {"e3", 1000, 0}, {"e4", 4096, 0},
        {"e5", 4095, 0}, {"e6", 0, 0}, {"o0", 1, 1}, {"o1", 5000, 1}, {NULL, 0, 0}};
    static const char *const h1[] = {"large_data"};
    static const char *const h2[] = {"large_data", "small.odd-name_1", "empty"};
    static const char *const o2[] = {"result", "out.2"};
    static const char *const h3[] = {"e0", "e1", "e2", "e3", "e4", "e5", "e6"};
    static const char *const o3[] = {"o0", "o1"};
    const struct decode_spec specs[] = {
        {"domain-only", NULL, NULL, 0, NULL, 0, 0, 1, 0, 0, 0},
        {"zone-not-passed", one, NULL, 0, NULL, 0, 2, 4, 0, 0, 0},
        {"inc014-heavy-read", one, h1, 1, NULL, 0, 0, 1, 0, 0, 0},
        {"heavy-and-outputs", mixed, h2, 3, o2, 2, 3, 8, 123456789, 0, 0},
        {"outputs-only", mixed, NULL, 0, o2, 2, 0, 2, 0, 0, 0},
        {"many-entries", many, h3, 7, o3, 2, 15, 16, 1, 0, 0},
        /* The same message with the wrong descriptors: refused. */
        {"input-not-write-sealed", one, h1, 1, NULL, 0, 0, 1, 0, FZD_IN_RESIZE, 0},
        {"input-is-a-pipe", one, h1, 1, NULL, 0, 0, 1, 0, FZD_IN_SEALED | FZD_PIPE, 0},
        {"output-write-sealed", mixed, h2, 3, o2, 2, 0, 1, 0,
         FZD_IN_SEALED | FZD_OUT_RDONLY << FZD_OUT_SHIFT, 0},
        {"same-fd-twice", mixed, h2, 3, o2, 2, 0, 1, 0, FZD_IN_SEALED | FZD_SAME_FD, 0},
        /* The manifest made by the target from the message (FZD_SYNTH). */
        {"synth-heavy-and-outputs", mixed, h2, 3, o2, 2, 1, 2, 0, 0, 1},
        {"synth-many-entries", many, h3, 7, o3, 2, 0, 1, 0, 0, 1},
    };
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
        decode_seed(&specs[i]);
}

/* ---- context_factory ---------------------------------------------------------- */

/* Pool indices (FZF_NAME_POOL). */
enum { N_N, N_RATIO, N_NAME, N_BLOB, N_LARGE, N_SMALL, N_A, N_B, N_RESULT, N_OUT2, N_XYZ,
       N_LONG63, N_EMPTY, N_HIDDEN, N_SPACE, N_LONG64 };

struct ops {
    uint8_t b[512];
    size_t n;
};

static void op(struct ops *o, int count, ...)
{
    va_list ap;
    va_start(ap, count);
    for (int i = 0; i < count; i++)
        o->b[o->n++] = (uint8_t)va_arg(ap, int);
    va_end(ap);
}

static void op_int(struct ops *o, int name, int64_t v)
{
    op(o, 2, FZF_INT, name);
    for (int i = 0; i < 8; i++)
        op(o, 1, (int)(((uint64_t)v >> (8 * i)) & 0xff));
}

static void op_double(struct ops *o, int name, double d)
{
    uint64_t bits;
    memcpy(&bits, &d, 8);
    op(o, 2, FZF_DOUBLE, name);
    for (int i = 0; i < 8; i++)
        op(o, 1, (int)((bits >> (8 * i)) & 0xff));
}

static void op_str(struct ops *o, int name, const char *s)
{
    op(o, 3, FZF_STR, name, (int)strlen(s));
    for (const char *p = s; *p; p++)
        op(o, 1, *p);
}

static void op_bytes(struct ops *o, int name, const uint8_t *p, size_t n)
{
    op(o, 4, FZF_BYTES, name, (int)(n & 0xff), (int)(n >> 8));
    for (size_t i = 0; i < n; i++)
        op(o, 1, p[i]);
}

static void op_heavy(struct ops *o, int name, unsigned size, int fill, int seed)
{
    op(o, 6, FZF_HEAVY, name, (int)(size & 0xff), (int)(size >> 8), fill, seed);
}

static void op_output(struct ops *o, int name, unsigned size)
{
    op(o, 4, FZF_OUTPUT, name, (int)(size & 0xff), (int)(size >> 8));
}

static void factory_seeds(void)
{
    struct ops o;
    /* INC-014: the worker must see the heavy data, byte for byte. */
    o.n = 0;
    op_int(&o, N_N, 42);
    op_heavy(&o, N_LARGE, 12288, 1, 0);
    op(&o, 2, FZF_READ_DOMAIN, N_N);
    op(&o, 2, FZF_READ_HEAVY, N_LARGE);
    write_seed("context_factory", "inc014-heavy-visible", o.b, o.n);
    /* Heavy reads and outputs, several tasks. */
    o.n = 0;
    op_double(&o, N_RATIO, 1.5);
    op_str(&o, N_NAME, "hello world");
    op_heavy(&o, N_LARGE, 5000, 2, 7);
    op_heavy(&o, N_SMALL, 1, 1, 0);
    op_heavy(&o, N_A, 0, 0, 0);
    op_output(&o, N_RESULT, 4096);
    op_output(&o, N_OUT2, 10);
    op(&o, 2, FZF_READ_DOMAIN, N_RATIO);
    op(&o, 2, FZF_READ_DOMAIN, N_NAME);
    op(&o, 2, FZF_READ_HEAVY, N_SMALL);
    op(&o, 2, FZF_READ_HEAVY, N_LARGE);
    op(&o, 2, FZF_READ_HEAVY, N_A);
    op(&o, 2, FZF_WRITE_OUTPUT, N_OUT2);
    op(&o, 2, FZF_WRITE_OUTPUT, N_RESULT);
    op(&o, 3, FZF_TASK, 3, 8);
    write_seed("context_factory", "heavy-and-outputs", o.b, o.n);
    /* The contract names an entry the state lacks: GC_ENOTFOUND. */
    o.n = 0;
    op_heavy(&o, N_LARGE, 100, 1, 0);
    op(&o, 2, FZF_READ_HEAVY, N_B);
    write_seed("context_factory", "missing-entry", o.b, o.n);
    /* An output read as heavy, and a heavy entry written: GC_ECONTRACT. */
    o.n = 0;
    op_heavy(&o, N_LARGE, 100, 1, 0);
    op_output(&o, N_RESULT, 100);
    op(&o, 2, FZF_READ_HEAVY, N_RESULT);
    op(&o, 2, FZF_WRITE_OUTPUT, N_LARGE);
    write_seed("context_factory", "wrong-kind", o.b, o.n);
    /* Domain values, most undeclared; bytes with NULs; invalid names. */
    o.n = 0;
    static const uint8_t blob[] = {0, 0xff, 0x7a, 0, 1};
    op_int(&o, N_N, -5);
    op_int(&o, N_A, INT64_MIN);
    op_bytes(&o, N_BLOB, blob, sizeof blob);
    op_str(&o, N_XYZ, "");
    op_str(&o, N_LONG63, "long name");
    op_int(&o, N_HIDDEN, 1);
    op_int(&o, N_SPACE, 1);
    op_heavy(&o, N_LONG64, 10, 0, 0);
    op(&o, 2, FZF_READ_DOMAIN, N_BLOB);
    op(&o, 2, FZF_READ_DOMAIN, N_LONG63);
    write_seed("context_factory", "domain-undeclared", o.b, o.n);
    /* A contract declaring a key twice, and a bad task: GC_EINVAL. */
    o.n = 0;
    op_int(&o, N_N, 1);
    op(&o, 2, FZF_READ_DOMAIN, N_N);
    op(&o, 2, FZF_READ_DOMAIN, N_N);
    write_seed("context_factory", "declared-twice", o.b, o.n);
    o.n = 0;
    op(&o, 3, FZF_TASK, 4, 4);
    write_seed("context_factory", "task-out-of-range", o.b, o.n);
}

/* ---- writeset_decode --------------------------------------------------------- */

/* Real write sets as a worker encodes them; the first byte is the receiving
 * context's key count. */
static void writeset_seed(const char *name, const gc__wset *ws, const uint16_t *reads,
                          size_t nr, uint8_t n_domain)
{
    static uint8_t buf[1 + GC_WSET_MSG_MAX];
    size_t len = 0;
    gc_err err;
    buf[0] = n_domain;
    if (gc__wset_encode(ws, reads, nr, buf + 1, GC_WSET_MSG_MAX, &len, &err) != GC_OK)
        die("writeset seed", &err);
    write_seed("writeset_decode", name, buf, 1 + len);
}

static void writeset_seeds(void)
{
    gc__wset ws;
    gc_err err;
    memset(&ws, 0, sizeof ws);
    writeset_seed("empty", &ws, NULL, 0, 0);
    gc_value i = {.type = GC_VAL_INT, .i = 41}, d = {.type = GC_VAL_DOUBLE, .d = 2.5},
             s = {.type = GC_VAL_STR, .ptr = "hello", .len = 5},
             b = {.type = GC_VAL_BYTES, .ptr = "\0\1\2", .len = 3};
    if (gc__wset_put(&ws, "counter", GC__WRITE_SET, &i, &err) ||
        gc__wset_put(&ws, "ratio", GC__WRITE_SET, &d, &err) ||
        gc__wset_put(&ws, "name", GC__WRITE_SET, &s, &err) ||
        gc__wset_put(&ws, "blob", GC__WRITE_RETURN, &b, &err))
        die("writeset seed", &err);
    static const uint16_t reads[] = {0, 2, 3};
    writeset_seed("writes-every-type", &ws, reads, 3, 4);
    if (gc__wset_event(&ws, "changed", "task=0 attempt=1", 16, &err) ||
        gc__wset_msg(&ws, "outbox", "m0", "task=0 attempt=1", 16, &err) ||
        gc__wset_msg(&ws, "outbox", "m1", "", 0, &err))
        die("writeset seed", &err);
    writeset_seed("writes-events-messages", &ws, reads, 3, 4);
    gc__wset_free(&ws);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_seeds OUTDIR\n");
        return 2;
    }
    outdir = argv[1];
    decode_seeds();
    factory_seeds();
    writeset_seeds();
    return 0;
}
