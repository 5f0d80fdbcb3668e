/* The commit path: versions, write sets (context API and reply codec),
 * configuration on the wire, and end to end in both modes: real concurrent
 * increments, retries, validation, delivery after install, the two write
 * paths, failed attempts that leave nothing, and the attempt history. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

static const gc_mode modes[] = {GC_MODE_THREAD, GC_MODE_PROCESS};

/* ---- recorders ------------------------------------------------------------- */

#define REC_MAX 256

/* What subscribers and the outbox sink saw. */
typedef struct recorder {
    int n;
    char id[REC_MAX][GC_NAME_MAX + 1];
    uint64_t version[REC_MAX];
    int64_t seen[REC_MAX];        /* the value of "k" in the state at delivery */
    uint32_t task[REC_MAX];
} recorder;

static void record(const gc_delivery *d, void *arg)
{
    recorder *r = arg;
    if (r->n >= REC_MAX)
        return;
    snprintf(r->id[r->n], sizeof r->id[r->n], "%s", d->id);
    r->version[r->n] = d->version;
    r->task[r->n] = d->task;
    const gc_value *v;
    r->seen[r->n] = gc_state_get(d->state, "k", &v) == GC_OK && v->type == GC_VAL_INT ? v->i : -999;
    r->n++;
}

typedef struct fixture {
    gc_engine *e;
    gc_state *st;
    gc_result res[64];
    recorder events, msgs;
} fixture;

static void fx_open(fixture *f)
{
    gc_err err;
    memset(f, 0, sizeof *f);
    ck_assert_int_eq(gc_engine_new(&f->e, &err), GC_OK);
    ck_assert_int_eq(gc_builtins_register(f->e, &err), GC_OK);
    ck_assert_int_eq(gc_engine_subscribe(f->e, "changed", record, &f->events, &err), GC_OK);
    ck_assert_int_eq(gc_engine_set_outbox(f->e, record, &f->msgs, &err), GC_OK);
    ck_assert_int_eq(gc_state_new(&f->st, &err), GC_OK);
    ck_assert_int_eq(gc_state_set_int(f->st, "k", 0, &err), GC_OK);
    ck_assert_int_eq(gc_state_set_int(f->st, "sib", 7, &err), GC_OK);
    ck_assert_int_eq(gc_state_set_int(f->st, "ms", 0, &err), GC_OK);
    ck_assert_int_eq(gc_state_set_int(f->st, "only_task", -1, &err), GC_OK);
}

static void fx_close(fixture *f)
{
    gc_engine_free(f->e);
    gc_state_free(f->st);
}

static int fx_run(fixture *f, const char *proc, gc_mode mode, uint32_t workers, uint32_t tasks,
                  uint32_t retries, const gc_contract *c, gc_history *h)
{
    gc_exec_opts o = {.process = proc, .mode = mode, .workers = workers, .tasks = tasks,
                      .contract = c, .retries = retries, .history = h};
    gc_err err;
    gc_err_clear(&err);
    int rc = gc_execute_parallel(f->e, f->st, &o, f->res, &err);
    if (rc != GC_OK)
        fprintf(stderr, "execute_parallel: %s\n", err.msg);
    return rc;
}

static int64_t key_int(const gc_state *st, const char *key)
{
    const gc_value *v;
    ck_assert_int_eq(gc_state_get(st, key, &v), GC_OK);
    ck_assert_int_eq(v->type, GC_VAL_INT);
    return v->i;
}

static uint64_t key_version(const gc_state *st, const char *key)
{
    uint64_t v = 0;
    ck_assert_int_eq(gc_state_key_version(st, key, &v), GC_OK);
    return v;
}

static const char *const K[] = {"k"}, *const K_MS[] = {"k", "ms"};

/* ---- versions and the write set API -------------------------------------------- */

START_TEST(state_versions_start_at_zero_and_only_commits_make_one)
{
    gc_state *st;
    gc_err err;
    ck_assert_int_eq(gc_state_new(&st, &err), GC_OK);
    ck_assert_uint_eq(gc_state_version(st), 0);
    ck_assert_int_eq(gc_state_set_int(st, "a", 1, &err), GC_OK);
    ck_assert_uint_eq(gc_state_version(st), 0);
    ck_assert_uint_eq(key_version(st, "a"), 0);
    uint64_t v;
    ck_assert_int_eq(gc_state_key_version(st, "nope", &v), GC_ENOTFOUND);
    gc__wset ws;
    memset(&ws, 0, sizeof ws);
    gc_value two = {.type = GC_VAL_INT, .i = 2}, s = {.type = GC_VAL_STR, .ptr = "x", .len = 1};
    ck_assert_int_eq(gc__wset_put(&ws, "a", GC__WRITE_SET, &two, &err), GC_OK);
    ck_assert_int_eq(gc__wset_put(&ws, "new", GC__WRITE_SET, &s, &err), GC_OK);
    uint64_t ver = 0;
    ck_assert_int_eq(gc__state_install(st, &ws, &ver, &err), GC_OK);
    ck_assert_uint_eq(ver, 1);
    ck_assert_uint_eq(gc_state_version(st), 1);
    ck_assert_uint_eq(key_version(st, "a"), 1);
    ck_assert_uint_eq(key_version(st, "new"), 1);
    ck_assert_int_eq(key_int(st, "a"), 2);
    gc__wset_free(&ws);
    gc_state_free(st);
}
END_TEST

START_TEST(write_set_api_refuses_what_the_contract_does_not_declare)
{
    gc_state *st;
    gc_err err;
    ck_assert_int_eq(gc_state_new(&st, &err), GC_OK);
    ck_assert_int_eq(gc_state_set_int(st, "k", 1, &err), GC_OK);
    static const char *const w[] = {"k", "s", "d", "b"};
    gc_contract c = {.domain_reads = K, .n_domain_reads = 1, .domain_writes = w,
                     .n_domain_writes = 4, .outbox = 1};
    gc_ctx *ctx;
    ck_assert_int_eq(gc_ctx_from_state(st, &c, NULL, 0, 1, &ctx, &err), GC_OK);
    ck_assert_uint_eq(gc_ctx_base_version(ctx), 0);
    ck_assert_uint_eq(gc_ctx_attempt(ctx), 1);
    ck_assert_uint_eq(gc_ctx_pending_writes(ctx), 0);   /* a pending set starts empty */
    ck_assert_int_eq(gc_ctx_set_int(ctx, "k", 5), GC_OK);
    ck_assert_int_eq(gc_ctx_set_int(ctx, "k", 6), GC_OK);   /* replaces */
    ck_assert_int_eq(gc_ctx_set_str(ctx, "s", "hi"), GC_OK);
    ck_assert_int_eq(gc_ctx_set_double(ctx, "d", 0.5), GC_OK);
    ck_assert_int_eq(gc_ctx_set_bytes(ctx, "b", "\0\1", 2), GC_OK);
    ck_assert_uint_eq(gc_ctx_pending_writes(ctx), 4);
    int64_t k;
    ck_assert_int_eq(gc_ctx_int(ctx, "k", &k), GC_OK);
    ck_assert_int_eq(k, 1);   /* reads see the base, not the pending set */
    ck_assert_uint_eq(gc_ctx_violations(ctx), 0);
    ck_assert_int_eq(gc_ctx_set_int(ctx, "other", 1), GC_ECONTRACT);
    ck_assert_ptr_nonnull(strstr(gc_ctx_last_error(ctx), "domain writes: k, s, d, b"));
    ck_assert_int_eq(gc_ctx_emit(ctx, "changed", "x", 1), GC_ECONTRACT);
    ck_assert_uint_eq(gc_ctx_violations(ctx), 2);
    ck_assert_int_eq(gc_ctx_send(ctx, "outbox", "m1", "x", 1), GC_OK);
    ck_assert_int_eq(gc_ctx_send(ctx, "outbox", "m1", "y", 1), GC_EEXIST);
    static char big[GC_PAYLOAD_MAX + 1];
    ck_assert_int_eq(gc_ctx_send(ctx, "outbox", "m2", big, sizeof big), GC_ELIMIT);
    ck_assert_int_eq(gc_ctx_send(ctx, "bad topic", "m3", "", 0), GC_EINVAL);
    ck_assert_uint_eq(gc_ctx_pending_messages(ctx), 1);
    const struct gc__write *wr = gc__wset_find(&ctx->ws, "k");
    ck_assert_int_eq(wr->v.i, 6);
    gc_ctx_free(ctx);
    gc_state_free(st);
}
END_TEST

/* The write set's size limits hold at their exact maximum: a value of
 * GC_VALUE_BYTES_MAX bytes and a payload of GC_PAYLOAD_MAX bytes are kept,
 * one byte more is refused with ELIMIT and leaves the set as it was. */
START_TEST(write_set_limits_at_their_exact_maximum)
{
    gc__wset ws;
    gc_err err;
    memset(&ws, 0, sizeof ws);
    static char big[GC_VALUE_BYTES_MAX + 1];
    memset(big, 'v', sizeof big);
    gc_value at = {.type = GC_VAL_BYTES, .ptr = big, .len = GC_VALUE_BYTES_MAX};
    gc_value over = {.type = GC_VAL_STR, .ptr = big, .len = GC_VALUE_BYTES_MAX + 1};
    ck_assert_int_eq(gc__wset_put(&ws, "at", GC__WRITE_SET, &at, &err), GC_OK);
    ck_assert_int_eq(gc__wset_put(&ws, "over", GC__WRITE_SET, &over, &err), GC_ELIMIT);
    ck_assert_uint_eq(ws.n_writes, 1);
    ck_assert_uint_eq(gc__wset_find(&ws, "at")->v.len, GC_VALUE_BYTES_MAX);
    static char payload[GC_PAYLOAD_MAX + 1];
    ck_assert_int_eq(gc__wset_event(&ws, "changed", payload, GC_PAYLOAD_MAX, &err), GC_OK);
    ck_assert_int_eq(gc__wset_event(&ws, "changed", payload, GC_PAYLOAD_MAX + 1, &err), GC_ELIMIT);
    ck_assert_int_eq(gc__wset_msg(&ws, "outbox", "m0", payload, GC_PAYLOAD_MAX, &err), GC_OK);
    ck_assert_int_eq(gc__wset_msg(&ws, "outbox", "m1", payload, GC_PAYLOAD_MAX + 1, &err),
                     GC_ELIMIT);
    ck_assert_uint_eq(ws.n_events, 1);
    ck_assert_uint_eq(ws.n_msgs, 1);
    gc__wset_free(&ws);
    /* A reply's write set longer than GC_WSET_MSG_MAX is refused for its size
     * before any byte of it is read. */
    static uint8_t huge[GC_WSET_MSG_MAX + 1];
    ck_assert_int_eq(gc__wset_decode(huge, sizeof huge, 0, &ws, &err), GC_ELIMIT);
    ck_assert_str_eq(err.msg, "write set: message of 65537 bytes (limit 65536)");
}
END_TEST

/* A write set holds at most GC_DOMAIN_MAX writes and values of at most
 * GC_VALUE_BYTES_MAX bytes: the write at each limit is taken, the one past it
 * refused with GC_ELIMIT and a reason that names the limit, the set unchanged
 * (not "out of memory": nothing ran out). */
START_TEST(write_set_refusals_name_their_limits)
{
    gc__wset ws;
    gc_err err;
    memset(&ws, 0, sizeof ws);
    gc_value v = {.type = GC_VAL_INT, .i = 1};
    char name[16];
    for (int i = 0; i < GC_DOMAIN_MAX; i++) {
        snprintf(name, sizeof name, "k%d", i);
        ck_assert_int_eq(gc__wset_put(&ws, name, GC__WRITE_SET, &v, &err), GC_OK);
    }
    size_t size = gc__wset_size(&ws, 0);
    ck_assert_int_eq(gc__wset_put(&ws, "one_more", GC__WRITE_SET, &v, &err), GC_ELIMIT);
    ck_assert_str_eq(err.msg, "write set: more than 256 writes");
    ck_assert_uint_eq(ws.n_writes, GC_DOMAIN_MAX);
    ck_assert_uint_eq(gc__wset_size(&ws, 0), size);
    ck_assert_ptr_null(gc__wset_find(&ws, "one_more"));
    ck_assert_int_eq(gc__wset_put(&ws, "k0", GC__WRITE_SET, &v, &err), GC_OK);   /* a replace */
    gc__wset_free(&ws);
    static char big[GC_VALUE_BYTES_MAX + 1];
    gc_value over = {.type = GC_VAL_BYTES, .ptr = big, .len = GC_VALUE_BYTES_MAX + 1};
    ck_assert_int_eq(gc__wset_put(&ws, "big", GC__WRITE_SET, &over, &err), GC_ELIMIT);
    ck_assert_str_eq(err.msg, "write of 'big': bytes value of 4097 bytes (limit 4096)");
    ck_assert_uint_eq(ws.n_writes, 0);
}
END_TEST

/* A task's outbox takes the messages of each write set handed to it after
 * those it holds, in order and intact, with room for all of them; each write
 * set is left without messages and its encoded size shrinks to what its
 * write still takes. Clearing keeps the room for the next attempt. (The
 * commit clears a task's outbox at each attempt, so it takes once per
 * attempt; appending is what the outbox itself promises.) */
START_TEST(outbox_take_appends_each_write_set_in_order)
{
    gc__outbox ob;
    gc_err err;
    memset(&ob, 0, sizeof ob);
    uint32_t next = 0;
    for (uint32_t round = 1; round <= 6; round++) {
        gc__wset ws;
        memset(&ws, 0, sizeof ws);
        gc_value v = {.type = GC_VAL_INT, .i = round};
        ck_assert_int_eq(gc__wset_put(&ws, "k", GC__WRITE_SET, &v, &err), GC_OK);
        size_t writes_only = gc__wset_size(&ws, 0);
        for (uint32_t j = 0; j < round; j++) {
            char id[16];
            snprintf(id, sizeof id, "m%u", next + j);
            ck_assert_int_eq(gc__wset_msg(&ws, "outbox", id, id, strlen(id), &err), GC_OK);
        }
        ck_assert_int_eq(gc__outbox_take(&ob, &ws), GC_OK);
        next += round;
        ck_assert_uint_eq(ws.n_msgs, 0);
        ck_assert_uint_eq(ws.n_writes, 1);
        ck_assert_uint_eq(gc__wset_size(&ws, 0), writes_only);
        ck_assert_uint_eq(ob.n, next);
        ck_assert_uint_ge(ob.cap, ob.n);
        for (uint32_t i = 0; i < ob.n; i++) {
            char id[16];
            snprintf(id, sizeof id, "m%u", i);
            ck_assert_str_eq(ob.msgs[i].topic, "outbox");
            ck_assert_str_eq(ob.msgs[i].id, id);
            ck_assert_uint_eq(ob.msgs[i].len, strlen(id));
            ck_assert_int_eq(memcmp(ob.msgs[i].payload, id, strlen(id)), 0);
        }
        gc__wset_free(&ws);
    }
    size_t room = ob.cap;
    gc__outbox_clear(&ob);
    ck_assert_uint_eq(ob.n, 0);
    ck_assert_uint_eq(ob.cap, room);
    gc__outbox_free(&ob);
    ck_assert_ptr_null(ob.msgs);
}
END_TEST

/* A string or bytes write with a length but no data is refused (EINVAL,
 * "NULL data", the key named) before any byte is read: no crash, nothing
 * pending, and no contract breach (the key is declared). No data with
 * length 0 is an empty value and is kept. */
START_TEST(context_refuses_a_sized_write_without_data)
{
    gc_state *st;
    gc_err err;
    ck_assert_int_eq(gc_state_new(&st, &err), GC_OK);
    static const char *const w[] = {"s", "b"};
    gc_contract c = {.domain_writes = w, .n_domain_writes = 2};
    gc_ctx *ctx;
    ck_assert_int_eq(gc_ctx_from_state(st, &c, NULL, 0, 1, &ctx, &err), GC_OK);
    ck_assert_int_eq(gc_ctx_set_bytes(ctx, "b", NULL, 5), GC_EINVAL);
    ck_assert_str_eq(gc_ctx_last_error(ctx), "write of 'b': NULL data");
    gc_value nostr = {.type = GC_VAL_STR, .ptr = NULL, .len = 3};
    ck_assert_int_eq(gc_ctx_set_value(ctx, "s", &nostr), GC_EINVAL);
    ck_assert_str_eq(gc_ctx_last_error(ctx), "write of 's': NULL data");
    ck_assert_uint_eq(gc_ctx_pending_writes(ctx), 0);
    ck_assert_uint_eq(gc_ctx_violations(ctx), 0);
    ck_assert_int_eq(gc_ctx_set_bytes(ctx, "b", NULL, 0), GC_OK);
    ck_assert_uint_eq(gc__wset_find(&ctx->ws, "b")->v.len, 0);
    gc_ctx_free(ctx);
    gc_state_free(st);
}
END_TEST

/* The factory refuses a configuration whose commit mode is neither smart
 * nor strict (EINVAL naming the mode, no context), and the context API
 * refuses a write of a value type it does not know (EINVAL naming the key
 * and the type, nothing pending, no breach). */
START_TEST(context_refuses_unknown_commit_mode_and_value_type)
{
    gc_state *st;
    gc_err err;
    ck_assert_int_eq(gc_state_new(&st, &err), GC_OK);
    static const char *const w[] = {"k"};
    gc_contract c = {.domain_writes = w, .n_domain_writes = 1};
    gc_config bad = gc_config_default();
    bad.commit = (gc_commit_mode)7;
    gc_ctx *ctx = NULL;
    gc_err_clear(&err);
    ck_assert_int_eq(gc_ctx_from_state(st, &c, &bad, 0, 1, &ctx, &err), GC_EINVAL);
    ck_assert_ptr_null(ctx);
    ck_assert_str_eq(err.msg, "gc_ctx_from_state: commit mode 7 is neither smart nor strict");
    ck_assert_int_eq(gc_ctx_from_state(st, &c, NULL, 0, 1, &ctx, &err), GC_OK);
    gc_value odd = {.type = (gc_value_type)99, .i = 1};
    ck_assert_int_eq(gc_ctx_set_value(ctx, "k", &odd), GC_EINVAL);
    ck_assert_str_eq(gc_ctx_last_error(ctx), "write of 'k': value type 99");
    ck_assert_uint_eq(gc_ctx_pending_writes(ctx), 0);
    ck_assert_uint_eq(gc_ctx_violations(ctx), 0);
    gc_ctx_free(ctx);
    gc_state_free(st);
}
END_TEST

/* Installing a write set may fill the state to exactly GC_DOMAIN_MAX keys;
 * new keys past it are refused whole (ELIMIT, nothing installed, no version). */
START_TEST(install_fills_the_domain_to_its_exact_maximum)
{
    gc_state *st;
    gc_err err;
    char name[16];
    ck_assert_int_eq(gc_state_new(&st, &err), GC_OK);
    for (int i = 0; i < GC_DOMAIN_MAX - 1; i++) {
        snprintf(name, sizeof name, "k%d", i);
        ck_assert_int_eq(gc_state_set_int(st, name, i, &err), GC_OK);
    }
    gc__wset two, one;
    memset(&two, 0, sizeof two);
    memset(&one, 0, sizeof one);
    gc_value v = {.type = GC_VAL_INT, .i = 9};
    ck_assert_int_eq(gc__wset_put(&two, "k0", GC__WRITE_SET, &v, &err), GC_OK);   /* not new */
    ck_assert_int_eq(gc__wset_put(&two, "new1", GC__WRITE_SET, &v, &err), GC_OK);
    ck_assert_int_eq(gc__wset_put(&two, "new2", GC__WRITE_SET, &v, &err), GC_OK);
    ck_assert_int_eq(gc__wset_put(&one, "k1", GC__WRITE_SET, &v, &err), GC_OK);
    ck_assert_int_eq(gc__wset_put(&one, "new1", GC__WRITE_SET, &v, &err), GC_OK);
    uint64_t version = 0;
    ck_assert_int_eq(gc__state_install(st, &two, &version, &err), GC_ELIMIT);
    ck_assert_ptr_nonnull(strstr(err.msg, "2 new domain keys"));
    ck_assert_uint_eq(gc_state_domain_count(st), GC_DOMAIN_MAX - 1);
    ck_assert_uint_eq(gc_state_version(st), 0);
    ck_assert_int_eq(key_int(st, "k0"), 0);
    ck_assert_int_eq(gc__state_install(st, &one, &version, &err), GC_OK);
    ck_assert_uint_eq(version, 1);
    ck_assert_uint_eq(gc_state_domain_count(st), GC_DOMAIN_MAX);
    ck_assert_int_eq(key_int(st, "new1"), 9);
    ck_assert_int_eq(key_int(st, "k1"), 9);
    ck_assert_int_eq(gc__state_install(st, &two, &version, &err), GC_ELIMIT);
    ck_assert_ptr_nonnull(strstr(err.msg, "1 new domain keys"));
    ck_assert_uint_eq(gc_state_domain_count(st), GC_DOMAIN_MAX);
    ck_assert_uint_eq(gc_state_version(st), 1);
    gc__wset_free(&two);
    gc__wset_free(&one);
    gc_state_free(st);
}
END_TEST

/* A write is refused when the write set could pass GC_WSET_MSG_MAX: an int
 * or double counts 80 bytes of room plus its 8, whatever its value. Filled
 * to 84 bytes short of the limit, one more int no longer fits. */
START_TEST(write_set_room_counts_eight_bytes_for_a_number)
{
    static const char *const w[] = {"b00", "b01", "b02", "b03", "b04", "b05", "b06", "b07",
                                    "b08", "b09", "b10", "b11", "b12", "b13", "b14", "b15",
                                    "b16", "b17", "i"};
    gc_state *st;
    gc_err err;
    ck_assert_int_eq(gc_state_new(&st, &err), GC_OK);
    gc_contract c = {.domain_writes = w, .n_domain_writes = 19};
    gc_ctx *ctx;
    ck_assert_int_eq(gc_ctx_from_state(st, &c, NULL, 0, 1, &ctx, &err), GC_OK);
    static char fill[GC_VALUE_BYTES_MAX];
    const size_t target = GC_WSET_MSG_MAX - 84;
    size_t now = gc__wset_size(&ctx->ws, ctx->n_domain);
    for (int k = 0; k < 18 && now < target; k++) {
        size_t len = target - now > 10 + GC_VALUE_BYTES_MAX ? GC_VALUE_BYTES_MAX : target - now - 10;
        ck_assert_int_eq(gc_ctx_set_bytes(ctx, w[k], fill, len), GC_OK);
        now = gc__wset_size(&ctx->ws, ctx->n_domain);
    }
    ck_assert_uint_eq(now, target);
    ck_assert_int_eq(gc_ctx_set_int(ctx, "i", 0), GC_ELIMIT);
    ck_assert_ptr_nonnull(strstr(gc_ctx_last_error(ctx), "would take over 65536 bytes"));
    ck_assert_uint_eq(gc__wset_size(&ctx->ws, ctx->n_domain), target);
    gc_ctx_free(ctx);
    gc_state_free(st);
}
END_TEST

/* The room rule's boundary, on both sides: a write is taken while the write
 * set's size plus 80 plus the value's bytes (8 for a number) stays within
 * GC_WSET_MSG_MAX, and refused one byte past it, the set unchanged. */
static gc_ctx *room_ctx(gc_state *st, size_t room)
{
    static const char *const w[] = {"b00", "b01", "b02", "b03", "b04", "b05", "b06", "b07",
                                    "b08", "b09", "b10", "b11", "b12", "b13", "b14", "b15",
                                    "b16", "b17", "i", "s"};
    gc_contract c = {.domain_writes = w, .n_domain_writes = 20};
    gc_ctx *ctx;
    ck_assert_int_eq(gc_ctx_from_state(st, &c, NULL, 0, 1, &ctx, NULL), GC_OK);
    static char fill[GC_VALUE_BYTES_MAX];
    const size_t target = GC_WSET_MSG_MAX - room;
    size_t now = gc__wset_size(&ctx->ws, ctx->n_domain);
    for (int k = 0; k < 18 && now < target; k++) {
        size_t len = target - now > 10 + GC_VALUE_BYTES_MAX ? GC_VALUE_BYTES_MAX : target - now - 10;
        ck_assert_int_eq(gc_ctx_set_bytes(ctx, w[k], fill, len), GC_OK);
        now = gc__wset_size(&ctx->ws, ctx->n_domain);
    }
    ck_assert_uint_eq(now, target);
    return ctx;
}

START_TEST(write_set_room_is_exact_at_its_boundary)
{
    gc_state *st;
    ck_assert_int_eq(gc_state_new(&st, NULL), GC_OK);
    for (size_t room = 87; room <= 88; room++) {
        gc_ctx *ctx = room_ctx(st, room);
        size_t before = gc_ctx_pending_writes(ctx), fits = room >= 80 + 8;
        ck_assert_int_eq(gc_ctx_set_int(ctx, "i", 1), fits ? GC_OK : GC_ELIMIT);
        ck_assert_uint_eq(gc_ctx_pending_writes(ctx), before + fits);
        gc_ctx_free(ctx);
    }
    for (size_t room = 84; room <= 85; room++) {
        gc_ctx *ctx = room_ctx(st, room);
        size_t before = gc_ctx_pending_writes(ctx), fits = room >= 80 + 5;
        ck_assert_int_eq(gc_ctx_set_bytes(ctx, "s", "12345", 5), fits ? GC_OK : GC_ELIMIT);
        ck_assert_uint_eq(gc_ctx_pending_writes(ctx), before + fits);
        gc_ctx_free(ctx);
    }
    gc_state_free(st);
}
END_TEST

/* INC-026: writing the returned value back rebuilds the write set (the
 * return first, then the sets); the size it keeps is still its encoding's
 * length, which the reply limit is judged on. */
START_TEST(return_write_back_keeps_the_size_exact)
{
    static const char *const w[] = {"k", "s"};
    gc_state *st;
    gc_err err;
    ck_assert_int_eq(gc_state_new(&st, &err), GC_OK);
    gc_contract c = {.domain_writes = w, .n_domain_writes = 2, .return_key = "k"};
    gc_ctx *ctx;
    ck_assert_int_eq(gc_ctx_from_state(st, &c, NULL, 0, 1, &ctx, &err), GC_OK);
    ck_assert_int_eq(gc_ctx_set_str(ctx, "s", "hello"), GC_OK);
    ck_assert_int_eq(gc_ctx_set_int(ctx, "k", 1), GC_OK);
    ck_assert_int_eq(gc__ctx_return(ctx, 7, &err), GC_OK);
    ck_assert_uint_eq(ctx->ws.n_writes, 2);
    ck_assert_int_eq(gc__wset_find(&ctx->ws, "k")->v.i, 7);
    static uint8_t buf[GC_WSET_MSG_MAX];
    size_t len = 0;
    ck_assert_int_eq(gc__wset_encode(&ctx->ws, NULL, 0, buf, sizeof buf, &len, &err), GC_OK);
    ck_assert_uint_eq(len, gc__wset_size(&ctx->ws, 0));
    gc_ctx_free(ctx);
    gc_state_free(st);
}
END_TEST

/* INC-026: the returned value is written back after the process ran, past
 * the room rule's check, so the reply's limit is checked again then: the
 * write set with it may take exactly GC_WSET_MSG_MAX bytes; one byte more is
 * refused with ELIMIT. A 63-byte return key makes its write 74 bytes. */
START_TEST(returned_value_fits_the_reply_exactly)
{
    static char rk[GC_NAME_MAX + 1];
    memset(rk, 'r', GC_NAME_MAX);
    const char *w[19];
    char store[18][8];
    for (int k = 0; k < 18; k++) {
        snprintf(store[k], sizeof store[k], "b%02d", k);
        w[k] = store[k];
    }
    w[18] = rk;
    gc_contract c = {.domain_writes = w, .n_domain_writes = 19, .return_key = rk};
    gc_state *st;
    ck_assert_int_eq(gc_state_new(&st, NULL), GC_OK);
    static char fill[GC_VALUE_BYTES_MAX];
    for (size_t room = 73; room <= 74; room++) {
        gc_ctx *ctx;
        ck_assert_int_eq(gc_ctx_from_state(st, &c, NULL, 0, 1, &ctx, NULL), GC_OK);
        const size_t target = GC_WSET_MSG_MAX - room;
        size_t now = gc__wset_size(&ctx->ws, ctx->n_domain);
        for (int k = 0; k < 18 && now < target; k++) {
            size_t len = target - now > 10 + GC_VALUE_BYTES_MAX ? GC_VALUE_BYTES_MAX
                                                                 : target - now - 10;
            ck_assert_int_eq(gc_ctx_set_bytes(ctx, w[k], fill, len), GC_OK);
            now = gc__wset_size(&ctx->ws, ctx->n_domain);
        }
        ck_assert_uint_eq(now, target);
        gc_err err;
        int rc = gc__ctx_return(ctx, 5, &err);
        if (room >= 74) {
            ck_assert_int_eq(rc, GC_OK);
            ck_assert_uint_eq(gc__wset_size(&ctx->ws, ctx->n_domain), GC_WSET_MSG_MAX);
        } else {
            ck_assert_int_eq(rc, GC_ELIMIT);
            ck_assert_str_eq(err.msg, "the write set with the returned value passes 65536 bytes");
        }
        gc_ctx_free(ctx);
    }
    gc_state_free(st);
}
END_TEST

/* ---- the reply codec --------------------------------------------------------------- */

static size_t sample_wset(uint8_t *buf, size_t cap)
{
    gc__wset ws;
    gc_err err;
    memset(&ws, 0, sizeof ws);
    gc_value i = {.type = GC_VAL_INT, .i = -3}, s = {.type = GC_VAL_STR, .ptr = "ab", .len = 2};
    ck_assert_int_eq(gc__wset_put(&ws, "k", GC__WRITE_SET, &i, &err), GC_OK);
    ck_assert_int_eq(gc__wset_put(&ws, "s", GC__WRITE_RETURN, &s, &err), GC_OK);
    ck_assert_int_eq(gc__wset_event(&ws, "changed", "p", 1, &err), GC_OK);
    ck_assert_int_eq(gc__wset_msg(&ws, "outbox", "m0", "q", 1, &err), GC_OK);
    static const uint16_t reads[] = {0, 2};
    size_t len = 0;
    ck_assert_int_eq(gc__wset_encode(&ws, reads, 2, buf, cap, &len, &err), GC_OK);
    ck_assert_uint_eq(len, gc__wset_size(&ws, 2));
    gc__wset_free(&ws);
    return len;
}

START_TEST(write_set_round_trip)
{
    static uint8_t buf[GC_WSET_MSG_MAX], again[GC_WSET_MSG_MAX];
    size_t len = sample_wset(buf, sizeof buf), len2 = 0;
    gc__wset ws;
    gc_err err;
    ck_assert_int_eq(gc__wset_decode(buf, len, 3, &ws, &err), GC_OK);
    ck_assert_uint_eq(ws.n_writes, 2);
    ck_assert_int_eq(ws.writes[0].v.i, -3);
    ck_assert_uint_eq(ws.writes[1].source, GC__WRITE_RETURN);
    ck_assert_str_eq(ws.writes[1].v.ptr, "ab");
    ck_assert_str_eq(ws.msgs[0].id, "m0");
    ck_assert_uint_eq(ws.n_reads, 2);
    ck_assert_int_eq(gc__wset_encode(&ws, ws.reads, ws.n_reads, again, sizeof again, &len2, &err),
                     GC_OK);
    ck_assert_uint_eq(len2, len);
    ck_assert_mem_eq(again, buf, len);
    gc__wset_free(&ws);
}
END_TEST

/* Offsets in the sample: header 20; write "k" at 20 (name 2, source 1,
 * type 1, value 8 = 32); write "s" at 32 (2 + 1 + 1 + 4 + 2 = 42); event at
 * 42 (8 + 2 + 1 = 53); message at 53 (7 + 3 + 2 + 1 = 66); reads at 66. */
struct wreject {
    const char *label;
    size_t at;            /* byte to change */
    int value;            /* new byte, or -1: cut the message at `at` */
    size_t n_domain;
    int status;
    const char *msg;
};

static const struct wreject wrejects[] = {
    {"bad magic", 0, 'X', 3, GC_EWIRE, "magic at byte 0"},
    {"version 2", 4, 2, 3, GC_EWIRE, "version at byte 4 is 2"},
    {"flags", 6, 1, 3, GC_EWIRE, "flags at byte 6"},
    {"total length", 8, 0, 3, GC_EWIRE, "total length at byte 8"},
    {"write count over limit", 13, 0x10, 3, GC_ELIMIT, "write count at byte 12 is 4098"},
    {"event count over limit", 15, 1, 3, GC_ELIMIT, "event count at byte 14 is 257"},
    {"message count over limit", 17, 1, 3, GC_ELIMIT, "message count at byte 16 is 257"},
    {"bad key name", 21, '/', 3, GC_EWIRE, "write[0] name at byte 20"},
    {"bad source", 22, 3, 3, GC_EWIRE, "source at byte 22 is 3"},
    {"bad type", 23, 9, 3, GC_EWIRE, "type at byte 23 is 9"},
    {"key written twice", 33, 'k', 3, GC_EWIRE,
     "write set: write[1] name at byte 32 repeats write[0] 'k'"},
    {"string with a NUL", 40, 0, 3, GC_EWIRE, "contains a NUL byte"},
    {"value length over limit", 37, 0x20, 3, GC_ELIMIT, "value length at byte 36"},
    {"payload over limit", 51, 0x10, 3, GC_ELIMIT, "payload length at byte 50"},
    {"read index past the keys", 66, 5, 3, GC_EWIRE, "index at byte 66 is 5"},
    {"reads not increasing", 68, 0, 3, GC_EWIRE, "index at byte 68 is 0"},
    {"read index past a smaller context", 66, 0, 2, GC_EWIRE, "index at byte 68 is 2"},
    {"truncated", 60, -1, 3, GC_EWIRE, "total length"},
};

START_TEST(write_set_decoder_rejects)
{
    const struct wreject *w = &wrejects[_i];
    static uint8_t buf[GC_WSET_MSG_MAX];
    size_t len = sample_wset(buf, sizeof buf);
    ck_assert_uint_eq(len, 70);
    if (w->value < 0)
        len = w->at;
    else
        buf[w->at] = (uint8_t)w->value;
    gc__wset ws;
    gc_err err;
    gc_err_clear(&err);
    int rc = gc__wset_decode(buf, len, w->n_domain, &ws, &err);
    ck_assert_msg(rc == w->status, "%s: %s (%s)", w->label, gc_status_name(rc), err.msg);
    ck_assert_msg(strstr(err.msg, w->msg), "%s: '%s' lacks '%s'", w->label, err.msg, w->msg);
    ck_assert_ptr_null(ws.writes);
    ck_assert_ptr_null(ws.reads);
}
END_TEST

/* The codec's shared refusals, as whole texts: a repeated message id names
 * both messages; an encoding that does not fit names the buffer's room. */
START_TEST(write_set_refusals_name_the_repeat_and_the_room)
{
    gc__wset ws;
    gc_err err;
    memset(&ws, 0, sizeof ws);
    ck_assert_int_eq(gc__wset_msg(&ws, "outbox", "m0", "q", 1, &err), GC_OK);
    ck_assert_int_eq(gc__wset_msg(&ws, "outbox", "m1", "q", 1, &err), GC_OK);
    static uint8_t buf[GC_WSET_MSG_MAX];
    size_t len = 0, need = gc__wset_size(&ws, 0);
    ck_assert_int_eq(gc__wset_encode(&ws, NULL, 0, buf, need - 1, &len, &err), GC_ELIMIT);
    char want[160];
    snprintf(want, sizeof want, "write set needs %zu bytes, buffer holds %zu", need, need - 1);
    ck_assert_str_eq(err.msg, want);
    ck_assert_int_eq(gc__wset_encode(&ws, NULL, 0, buf, sizeof buf, &len, &err), GC_OK);
    gc__wset_free(&ws);
    uint8_t *id = memmem(buf, len, "m1", 2);
    ck_assert_ptr_nonnull(id);
    id[1] = '0';
    ck_assert_int_eq(gc__wset_decode(buf, len, 0, &ws, &err), GC_EWIRE);
    snprintf(want, sizeof want, "write set: message[1] id at byte %zu repeats message[0] 'm0'",
             (size_t)(id - 1 - buf));
    ck_assert_str_eq(err.msg, want);
    ck_assert_ptr_null(ws.msgs);
}
END_TEST

/* A reply that repeats a message id is malformed wherever the repeat is: the
 * decoder refuses it (EWIRE, so the pool replaces the worker) naming the
 * earlier message it repeats, here the second of three, not only the first. */
START_TEST(write_set_decoder_refuses_any_repeated_message_id)
{
    gc__wset ws;
    gc_err err;
    memset(&ws, 0, sizeof ws);
    ck_assert_int_eq(gc__wset_msg(&ws, "outbox", "m0", "q", 1, &err), GC_OK);
    ck_assert_int_eq(gc__wset_msg(&ws, "outbox", "m1", "q", 1, &err), GC_OK);
    ck_assert_int_eq(gc__wset_msg(&ws, "outbox", "m2", "q", 1, &err), GC_OK);
    static uint8_t buf[GC_WSET_MSG_MAX];
    size_t len = 0;
    ck_assert_int_eq(gc__wset_encode(&ws, NULL, 0, buf, sizeof buf, &len, &err), GC_OK);
    gc__wset_free(&ws);
    uint8_t *id = memmem(buf, len, "m2", 2);
    ck_assert_ptr_nonnull(id);
    id[1] = '1';
    ck_assert_int_eq(gc__wset_decode(buf, len, 0, &ws, &err), GC_EWIRE);
    char want[160];
    snprintf(want, sizeof want, "write set: message[2] id at byte %zu repeats message[1] 'm1'",
             (size_t)(id - 1 - buf));
    ck_assert_str_eq(err.msg, want);
    ck_assert_ptr_null(ws.msgs);
}
END_TEST

/* The main process's copy of a context refuses a reply that writes what the
 * attempt may not (a hostile or broken worker). */
START_TEST(adopt_refuses_undeclared_writes_from_a_reply)
{
    gc_state *st;
    gc_err err;
    ck_assert_int_eq(gc_state_new(&st, &err), GC_OK);
    gc_contract c = {.domain_writes = K, .n_domain_writes = 1};
    gc_ctx *ctx;
    ck_assert_int_eq(gc_ctx_from_state(st, &c, NULL, 0, 1, &ctx, &err), GC_OK);
    static const char *const what[] = {"undeclared", "return", "events", "messages"};
    static const char *const why[] = {"does not declare", "not the contract's return key",
                                      "allows none", "allows none"};
    for (int i = 0; i < 4; i++) {
        gc__wset ws;
        memset(&ws, 0, sizeof ws);
        gc_value v = {.type = GC_VAL_INT, .i = 1};
        if (i == 0)
            gc__wset_put(&ws, "other", GC__WRITE_SET, &v, &err);
        if (i == 1)
            gc__wset_put(&ws, "k", GC__WRITE_RETURN, &v, &err);
        if (i == 2)
            gc__wset_event(&ws, "changed", "", 0, &err);
        if (i == 3)
            gc__wset_msg(&ws, "outbox", "m", "", 0, &err);
        gc_err_clear(&err);
        ck_assert_msg(gc__ctx_adopt(ctx, &ws, &err) == GC_EWIRE, "%s", what[i]);
        ck_assert_msg(strstr(err.msg, why[i]), "%s: %s", what[i], err.msg);
        ck_assert_ptr_null(ws.writes);
        ck_assert(gc__wset_empty(&ctx->ws));
    }
    gc_ctx_free(ctx);
    gc_state_free(st);
}
END_TEST

/* A reply may read only the context's domain keys: one naming the key one
 * past the last (an index equal to the domain's count) is refused EWIRE
 * naming it, and the context keeps its empty write set; the last key itself
 * is adopted. The read set decides which keys a commit checks for conflict,
 * so a hostile worker's index must never reach past the domain. */
START_TEST(adopt_refuses_a_read_one_past_the_domain)
{
    gc_state *st;
    gc_err err;
    ck_assert_int_eq(gc_state_new(&st, &err), GC_OK);
    ck_assert_int_eq(gc_state_set_int(st, "k", 1, &err), GC_OK);
    gc_contract c = {.domain_reads = K, .n_domain_reads = 1, .domain_writes = K,
                     .n_domain_writes = 1};
    gc_ctx *ctx;
    ck_assert_int_eq(gc_ctx_from_state(st, &c, NULL, 0, 1, &ctx, &err), GC_OK);
    ck_assert_uint_eq(ctx->n_domain, 1);
    for (uint16_t key = 0; key < 2; key++) {
        gc__wset ws;
        memset(&ws, 0, sizeof ws);
        ws.reads = malloc(sizeof *ws.reads);
        ck_assert_ptr_nonnull(ws.reads);
        ws.reads[0] = key;
        ws.n_reads = 1;
        gc_err_clear(&err);
        if (key == 0) {
            ck_assert_int_eq(gc__ctx_adopt(ctx, &ws, &err), GC_OK);
            continue;
        }
        ck_assert_int_eq(gc__ctx_adopt(ctx, &ws, &err), GC_EWIRE);
        ck_assert_str_eq(err.msg, "reply reads key 1 of 1");
        ck_assert_ptr_null(ws.reads);
        ck_assert(gc__wset_empty(&ctx->ws));
    }
    gc_ctx_free(ctx);
    gc_state_free(st);
}
END_TEST

/* ---- configuration -------------------------------------------------------------------- */

START_TEST(configuration_crosses_the_wire)
{
    gc_state *st;
    gc_err err;
    ck_assert_int_eq(gc_state_new(&st, &err), GC_OK);
    ck_assert_int_eq(gc_state_set_int(st, "k", 1, &err), GC_OK);
    ck_assert_int_eq(gc_state_set_int(st, "hidden", 42, &err), GC_OK);
    gc_contract c = {.domain_reads = K, .n_domain_reads = 1, .domain_writes = K,
                     .n_domain_writes = 1, .return_key = "k", .events = 1};
    for (int strict = 0; strict <= 1; strict++) {
        gc_config cfg = {.strict_contracts = strict,
                         .commit = strict ? GC_COMMIT_SMART : GC_COMMIT_STRICT};
        gc_ctx *ctx, *d;
        ck_assert_int_eq(gc_ctx_from_state(st, &c, &cfg, 0, 1, &ctx, &err), GC_OK);
        static uint8_t buf[GC_WIRE_MSG_MAX];
        size_t len;
        ck_assert_int_eq(gc_wire_encode(ctx, buf, sizeof buf, &len, &err), GC_OK);
        ck_assert_int_eq(gc_wire_decode(buf, len, -1, -1, &d, &err), GC_OK);
        ck_assert_int_eq(gc_wire_compare(ctx, d, &err), GC_OK);
        gc_config got = gc_ctx_config(d);
        ck_assert_int_eq(got.strict_contracts, strict);
        ck_assert_int_eq(got.commit, cfg.commit);
        ck_assert_uint_eq(gc_ctx_write_count(d), 1);
        ck_assert(gc_ctx_may_emit(d) && !gc_ctx_may_send(d));
        ck_assert_int_eq(gc_wire_attach(d, NULL, 0, NULL, 0, &err), GC_OK);
        int64_t v = 0;
        ck_assert_int_eq(gc_ctx_int(d, "hidden", &v), strict ? GC_ECONTRACT : GC_OK);
        ck_assert_int_eq(v, strict ? 0 : 42);
        ck_assert_uint_eq(gc_ctx_undeclared_reads(d), strict ? 0 : 1);
        ck_assert_uint_eq(gc_ctx_violations(d), strict ? 1 : 0);
        ck_assert_uint_eq(gc_ctx_domain_count(d), 1);   /* lax extras are not listed */
        gc_ctx_free(ctx);
        gc_ctx_free(d);
    }
    gc_state_free(st);
}
END_TEST

/* INC-011: a change between two runs reaches the warm workers of the next. */
START_TEST(configuration_change_reaches_warm_workers)
{
    fixture f;
    fx_open(&f);
    gc_err err;
    ck_assert_int_eq(gc_state_set_str(f.st, "key", "sib", &err), GC_OK);
    static const char *const dom[] = {"key"};
    gc_contract c = {.domain_reads = dom, .n_domain_reads = 1};
    ck_assert_int_eq(fx_run(&f, "peek", modes[_i], 2, 2, 0, &c, NULL), GC_OK);
    ck_assert_int_eq(f.res[0].status, GC_ECONTRACT);
    gc_engine_stats before, after;
    gc_engine_stats_get(f.e, &before);
    gc_config lax = {.strict_contracts = 0, .commit = GC_COMMIT_SMART};
    ck_assert_int_eq(gc_engine_configure(f.e, &lax, &err), GC_OK);
    ck_assert_int_eq(gc_engine_config_get(f.e).strict_contracts, 0);
    ck_assert_int_eq(fx_run(&f, "peek", modes[_i], 2, 2, 0, &c, NULL), GC_OK);
    gc_engine_stats_get(f.e, &after);
    ck_assert_uint_eq(after.workers_started, before.workers_started);   /* warm */
    for (int t = 0; t < 2; t++) {
        ck_assert_msg(f.res[t].status == GC_OK, "%s %s", gc_status_name(f.res[t].status),
                      f.res[t].text);
        ck_assert_int_eq(f.res[t].value, 7);
        ck_assert_uint_eq(f.res[t].undeclared_reads, 1);
        ck_assert_uint_eq(f.res[t].violations, 0);
    }
    fx_close(&f);
}
END_TEST

/* INC-011: strict commit refuses a stale write to a disjoint key; smart merges. */
START_TEST(strict_commit_refuses_stale_disjoint_writes)
{
    static const char *const w[] = {"a", "b"}, *const dom[] = {"own"};
    for (int strict = 0; strict <= 1; strict++) {
        fixture f;
        fx_open(&f);
        gc_err err;
        ck_assert_int_eq(gc_state_set_int(f.st, "own", 1, &err), GC_OK);
        gc_config cfg = {.strict_contracts = 1, .commit = strict ? GC_COMMIT_STRICT
                                                                  : GC_COMMIT_SMART};
        ck_assert_int_eq(gc_engine_configure(f.e, &cfg, &err), GC_OK);
        gc_contract c = {.domain_reads = dom, .n_domain_reads = 1, .domain_writes = w,
                         .n_domain_writes = 2};
        ck_assert_int_eq(fx_run(&f, "increment", modes[_i], 2, 2, 0, &c, NULL), GC_OK);
        int ok = (f.res[0].status == GC_OK) + (f.res[1].status == GC_OK);
        ck_assert_int_eq(ok, strict ? 1 : 2);
        ck_assert_uint_eq(gc_state_version(f.st), strict ? 1 : 2);
        if (strict) {
            int loser = f.res[0].status == GC_OK ? 1 : 0;
            ck_assert_int_eq(f.res[loser].status, GC_ECONFLICT);
            ck_assert_ptr_nonnull(strstr(f.res[loser].text, "strict commit"));
        }
        fx_close(&f);
    }
}
END_TEST

/* ---- end to end --------------------------------------------------------------------------- */

/* INC-028: N concurrent increments of one key from version 0 end at N. */
START_TEST(concurrent_increments_end_at_n)
{
    fixture f;
    fx_open(&f);
    gc_err err;
    ck_assert_int_eq(gc_state_set_int(f.st, "ms", 2, &err), GC_OK);
    gc_contract c = {.domain_reads = K_MS, .n_domain_reads = 2, .domain_writes = K,
                     .n_domain_writes = 1};
    const uint32_t n = 8;
    ck_assert_int_eq(fx_run(&f, "increment", modes[_i], 4, n, n, &c, NULL), GC_OK);
    uint32_t executions = 0;
    int seen[9] = {0};
    for (uint32_t t = 0; t < n; t++) {
        ck_assert_msg(f.res[t].status == GC_OK, "task %u: %s %s", t,
                      gc_status_name(f.res[t].status), f.res[t].text);
        executions += f.res[t].attempts;
        ck_assert_uint_ge(f.res[t].committed_version, 1);
        ck_assert_uint_le(f.res[t].committed_version, n);
        seen[f.res[t].committed_version]++;
        ck_assert_uint_lt(f.res[t].base_version, f.res[t].committed_version);
    }
    for (uint32_t v = 1; v <= n; v++)
        ck_assert_int_eq(seen[v], 1);   /* one commit per version */
    ck_assert_uint_ge(executions, n + 1);   /* one base: conflicts happened */
    ck_assert_int_eq(key_int(f.st, "k"), n);
    ck_assert_uint_eq(gc_state_version(f.st), n);
    ck_assert_uint_eq(key_version(f.st, "k"), n);
    ck_assert_int_eq(key_int(f.st, "sib"), 7);
    ck_assert_uint_eq(key_version(f.st, "sib"), 0);
    fx_close(&f);
}
END_TEST

/* A task's wall time runs from its first dispatch to its final result, so a
 * task run again after a conflict counts every attempt: each waits 20 ms.
 * Every first attempt is built from the run's base, so the second task to
 * commit conflicts and runs again. */
START_TEST(wall_time_spans_every_attempt)
{
    fixture f;
    fx_open(&f);
    gc_err err;
    ck_assert_int_eq(gc_state_set_int(f.st, "ms", 20, &err), GC_OK);
    gc_contract c = {.domain_reads = K_MS, .n_domain_reads = 2, .domain_writes = K,
                     .n_domain_writes = 1};
    ck_assert_int_eq(fx_run(&f, "increment", modes[_i], 2, 2, 2, &c, NULL), GC_OK);
    uint32_t most = 0;
    for (int t = 0; t < 2; t++) {
        ck_assert_msg(f.res[t].status == GC_OK, "task %d: %s", t, f.res[t].text);
        ck_assert_msg(f.res[t].wall_ns >= f.res[t].attempts * 20000000ull,
                      "task %d: %u attempts of 20 ms in %llu ns", t, f.res[t].attempts,
                      (unsigned long long)f.res[t].wall_ns);
        most = f.res[t].attempts > most ? f.res[t].attempts : most;
    }
    ck_assert_uint_ge(most, 2);
    ck_assert_int_eq(key_int(f.st, "k"), 2);
    fx_close(&f);
}
END_TEST

START_TEST(no_retries_exactly_one_commits)
{
    fixture f;
    fx_open(&f);
    gc_contract c = {.domain_reads = K, .n_domain_reads = 1, .domain_writes = K,
                     .n_domain_writes = 1};
    ck_assert_int_eq(fx_run(&f, "increment", modes[_i], 4, 6, 0, &c, NULL), GC_OK);
    int ok = 0, conflicts = 0;
    for (int t = 0; t < 6; t++) {
        ck_assert_uint_eq(f.res[t].attempts, 1);
        ok += f.res[t].status == GC_OK;
        conflicts += f.res[t].status == GC_ECONFLICT;
        if (f.res[t].status == GC_ECONFLICT) {
            ck_assert_uint_eq(f.res[t].committed_version, 0);
            ck_assert_ptr_nonnull(strstr(f.res[t].text, "'k' was modified at version 1"));
        }
    }
    ck_assert_int_eq(ok, 1);
    ck_assert_int_eq(conflicts, 5);
    ck_assert_int_eq(key_int(f.st, "k"), 1);
    ck_assert_uint_eq(gc_state_version(f.st), 1);
    fx_close(&f);
}
END_TEST

/* No false conflicts: disjoint keys from one base all land, first try. */
START_TEST(disjoint_keys_never_conflict)
{
    fixture f;
    fx_open(&f);
    gc_err err;
    static const char *const w[] = {"d0", "d1", "d2", "d3", "d4", "d5"}, *const dom[] = {"own"};
    ck_assert_int_eq(gc_state_set_int(f.st, "own", 1, &err), GC_OK);
    gc_contract c = {.domain_reads = dom, .n_domain_reads = 1, .domain_writes = w,
                     .n_domain_writes = 6};
    ck_assert_int_eq(fx_run(&f, "increment", modes[_i], 3, 6, 0, &c, NULL), GC_OK);
    for (int t = 0; t < 6; t++) {
        ck_assert_int_eq(f.res[t].status, GC_OK);
        ck_assert_uint_eq(f.res[t].attempts, 1);
        ck_assert_uint_eq(f.res[t].base_version, 0);
        ck_assert_int_eq(key_int(f.st, w[t]), 1);
    }
    ck_assert_uint_eq(gc_state_version(f.st), 6);
    fx_close(&f);
}
END_TEST

static int64_t count_id(const recorder *r, const char *id)
{
    int64_t n = 0;
    for (int i = 0; i < r->n; i++)
        n += strcmp(r->id[i], id) == 0;
    return n;
}

/* INC-023: a write that fails validation delivers nothing and changes nothing;
 * a valid one delivers once, after install, seeing the committed version. */
START_TEST(validation_failure_delivers_nothing)
{
    fixture f;
    fx_open(&f);
    gc_err err;
    ck_assert_int_eq(gc_engine_rule_int_range(f.e, "k", 0, 100, &err), GC_OK);
    gc_contract c = {.domain_reads = K, .n_domain_reads = 1, .domain_writes = K,
                     .n_domain_writes = 1, .events = 1, .outbox = 1};
    ck_assert_int_eq(fx_run(&f, "fail_validation", modes[_i], 1, 1, 3, &c, NULL), GC_OK);
    ck_assert_int_eq(f.res[0].status, GC_EVALIDATE);
    ck_assert_ptr_nonnull(strstr(f.res[0].text, "validation of 'k': -1 is outside [0, 100]"));
    ck_assert_uint_eq(f.res[0].attempts, 1);   /* validation is not retried */
    ck_assert_int_eq(f.events.n + f.msgs.n, 0);
    ck_assert_uint_eq(gc_state_version(f.st), 0);
    ck_assert_int_eq(key_int(f.st, "k"), 0);
    ck_assert_int_eq(fx_run(&f, "increment", modes[_i], 1, 1, 0, &c, NULL), GC_OK);
    ck_assert_int_eq(f.res[0].status, GC_OK);
    ck_assert_int_eq(f.events.n, 1);
    ck_assert_int_eq(f.msgs.n, 1);
    ck_assert_uint_eq(f.res[0].events_delivered, 1);
    ck_assert_uint_eq(f.res[0].messages_delivered, 1);
    ck_assert_uint_eq(f.events.version[0], 1);
    ck_assert_uint_eq(f.events.version[0], f.res[0].committed_version);
    ck_assert_int_eq(f.events.seen[0], 1);   /* the subscriber reads the new value */
    ck_assert_uint_eq(f.msgs.version[0], f.res[0].committed_version);
    ck_assert_int_eq(f.msgs.seen[0], 1);
    fx_close(&f);
}
END_TEST

/* An int range rule includes both ends: writing exactly the maximum commits,
 * one more is refused and leaves the state at the maximum. */
START_TEST(int_range_rule_includes_its_maximum)
{
    fixture f;
    fx_open(&f);
    gc_err err;
    ck_assert_int_eq(gc_engine_rule_int_range(f.e, "k", 0, 1, &err), GC_OK);
    gc_contract c = {.domain_reads = K, .n_domain_reads = 1, .domain_writes = K,
                     .n_domain_writes = 1};
    ck_assert_int_eq(fx_run(&f, "increment", modes[_i], 1, 1, 0, &c, NULL), GC_OK);
    ck_assert_int_eq(f.res[0].status, GC_OK);   /* 0 + 1 = 1: the maximum */
    ck_assert_int_eq(key_int(f.st, "k"), 1);
    ck_assert_int_eq(fx_run(&f, "increment", modes[_i], 1, 1, 0, &c, NULL), GC_OK);
    ck_assert_int_eq(f.res[0].status, GC_EVALIDATE);
    ck_assert_ptr_nonnull(strstr(f.res[0].text, "validation of 'k': 2 is outside [0, 1]"));
    ck_assert_int_eq(key_int(f.st, "k"), 1);
    fx_close(&f);
}
END_TEST

/* A rule may name any key a state may hold, the longest (GC_NAME_MAX bytes)
 * too, and then it is enforced like any other: writing its maximum commits,
 * one more is refused naming the key. A name one byte longer is no key, and
 * a rule on it is refused (EINVAL), none added. */
START_TEST(int_range_rule_on_a_longest_key_is_enforced)
{
    fixture f;
    fx_open(&f);
    char key[GC_NAME_MAX + 2];
    memset(key, 'r', GC_NAME_MAX + 1);
    key[GC_NAME_MAX + 1] = '\0';
    gc_err err;
    ck_assert_int_eq(gc_engine_rule_int_range(f.e, key, 0, 1, &err), GC_EINVAL);
    ck_assert_uint_eq(f.e->nrules, 0);
    key[GC_NAME_MAX] = '\0';
    ck_assert_int_eq(gc_engine_rule_int_range(f.e, key, 0, 1, &err), GC_OK);
    ck_assert_int_eq(gc_state_set_int(f.st, key, 0, &err), GC_OK);
    const char *const kk[] = {key};
    gc_contract c = {.domain_reads = kk, .n_domain_reads = 1, .domain_writes = kk,
                     .n_domain_writes = 1};
    ck_assert_int_eq(fx_run(&f, "increment", modes[_i], 1, 1, 0, &c, NULL), GC_OK);
    ck_assert_int_eq(f.res[0].status, GC_OK);   /* 0 + 1 = 1: the maximum */
    ck_assert_int_eq(key_int(f.st, key), 1);
    ck_assert_int_eq(fx_run(&f, "increment", modes[_i], 1, 1, 0, &c, NULL), GC_OK);
    ck_assert_int_eq(f.res[0].status, GC_EVALIDATE);
    char want[GC_NAME_MAX + 64];
    snprintf(want, sizeof want, "validation of '%s': 2 is outside [0, 1]", key);
    ck_assert_msg(strstr(f.res[0].text, want) != NULL, "%s", f.res[0].text);
    ck_assert_int_eq(key_int(f.st, key), 1);
    fx_close(&f);
}
END_TEST

static int odd_only(const char *key, const gc_value *v, void *arg, char *reason, size_t cap)
{
    (void)key;
    (void)arg;
    if (v->type == GC_VAL_INT && v->i % 2 == 1)
        return GC_OK;
    snprintf(reason, cap, "not odd");
    return GC_EVALIDATE;
}

START_TEST(check_function_rule)
{
    fixture f;
    fx_open(&f);
    gc_err err;
    ck_assert_int_eq(gc_engine_rule_check(f.e, "k", odd_only, NULL, &err), GC_OK);
    gc_contract c = {.domain_reads = K, .n_domain_reads = 1, .domain_writes = K,
                     .n_domain_writes = 1};
    ck_assert_int_eq(fx_run(&f, "increment", modes[_i], 1, 1, 0, &c, NULL), GC_OK);
    ck_assert_int_eq(f.res[0].status, GC_OK);   /* 0 + 1 = 1: odd */
    ck_assert_int_eq(fx_run(&f, "increment", modes[_i], 1, 1, 0, &c, NULL), GC_OK);
    ck_assert_int_eq(f.res[0].status, GC_EVALIDATE);   /* 2 */
    ck_assert_ptr_nonnull(strstr(f.res[0].text, "not odd"));
    ck_assert_int_eq(key_int(f.st, "k"), 1);
    fx_close(&f);
}
END_TEST

/* A rule that fills all the room it is given: the refusal sentence keeps
 * its head and the whole reason, because the room offered leaves space for
 * the longest name in a result text. */
static size_t long_reason_cap;
static int long_reason(const char *key, const gc_value *v, void *arg, char *reason, size_t cap)
{
    (void)key;
    (void)v;
    (void)arg;
    long_reason_cap = cap;
    memset(reason, 'x', cap - 1);
    reason[cap - 1] = '\0';
    return GC_EVALIDATE;
}

START_TEST(long_rule_reason_is_kept_whole)
{
    fixture f;
    fx_open(&f);
    gc_err err;
    ck_assert_int_eq(gc_engine_rule_check(f.e, "k", long_reason, NULL, &err), GC_OK);
    gc_contract c = {.domain_reads = K, .n_domain_reads = 1, .domain_writes = K,
                     .n_domain_writes = 1};
    ck_assert_int_eq(fx_run(&f, "increment", modes[_i], 1, 1, 0, &c, NULL), GC_OK);
    ck_assert_int_eq(f.res[0].status, GC_EVALIDATE);
    const char *head = "validation of 'k': ";
    ck_assert_uint_ge(long_reason_cap, 64);
    ck_assert_uint_le(strlen(head) + GC_NAME_MAX + long_reason_cap, GC_RESULT_TEXT_MAX);
    ck_assert_int_eq(strncmp(f.res[0].text, head, strlen(head)), 0);
    ck_assert_uint_eq(strlen(f.res[0].text), strlen(head) + long_reason_cap - 1);
    ck_assert_int_eq(key_int(f.st, "k"), 0);
    fx_close(&f);
}
END_TEST

/* INC-023/INC-016: a conflict then a successful retry delivers exactly once
 * per task, and every message id once. */
START_TEST(retry_after_conflict_delivers_once)
{
    fixture f;
    fx_open(&f);
    gc_contract c = {.domain_writes = K, .n_domain_writes = 1, .events = 1, .outbox = 1};
    ck_assert_int_eq(fx_run(&f, "conflict", modes[_i], 4, 4, 3, &c, NULL), GC_OK);
    uint32_t attempts = 0;
    for (int t = 0; t < 4; t++) {
        ck_assert_int_eq(f.res[t].status, GC_OK);
        attempts += f.res[t].attempts;
        ck_assert_uint_eq(f.res[t].events_delivered, 1);
        ck_assert_uint_eq(f.res[t].messages_delivered, 1);
        char id[16];
        snprintf(id, sizeof id, "m%d", t);
        ck_assert_int_eq(count_id(&f.msgs, id), 1);
    }
    ck_assert_uint_ge(attempts, 5);   /* at least three conflicted first */
    ck_assert_int_eq(f.events.n, 4);
    ck_assert_int_eq(f.msgs.n, 4);
    for (int i = 0; i < f.events.n; i++)
        ck_assert_uint_eq(f.events.version[i], (uint64_t)i + 1);
    fx_close(&f);
}
END_TEST

/* INC-016: attempt A of a task sends A - quiet messages (domain "quiet", ids
 * naming the task, the attempt and the message), so a retry sends more than
 * the attempt before it, or with quiet past every attempt none at all though
 * the contract allows them. Only the last attempt's messages are delivered,
 * all of them and each once: the task's outbox makes room for a retry's
 * larger set, and an attempt without messages needs none. */
static int send_per_attempt(gc_ctx *ctx, gc_proc_out *out)
{
    uint32_t t = gc_ctx_task(ctx), a = gc_ctx_attempt(ctx);
    int64_t quiet = 0;
    int rc = gc_ctx_int(ctx, "quiet", &quiet);
    if (rc == GC_OK)
        rc = gc_ctx_set_int(ctx, "k", (int64_t)t);
    for (int64_t j = 1; rc == GC_OK && j <= (int64_t)a - quiet; j++) {
        char id[32];
        snprintf(id, sizeof id, "t%ua%un%lld", t, a, (long long)j);
        rc = gc_ctx_send(ctx, "outbox", id, id, strlen(id));
    }
    out->value = a;
    return rc;
}

START_TEST(retry_with_more_messages_delivers_the_last_attempts)
{
    fixture f;
    fx_open(&f);
    gc_err err;
    ck_assert_int_eq(gc_engine_register(f.e, "send_per_attempt", send_per_attempt, NULL, &err),
                     GC_OK);
    static const char *const q[] = {"quiet"};
    gc_contract c = {.domain_reads = q, .n_domain_reads = 1, .domain_writes = K,
                     .n_domain_writes = 1, .outbox = 1};
    for (int64_t quiet = 0; quiet <= 100; quiet += 100) {
        ck_assert_int_eq(gc_state_set_int(f.st, "quiet", quiet, &err), GC_OK);
        f.msgs.n = 0;
        ck_assert_int_eq(fx_run(&f, "send_per_attempt", modes[_i], 4, 4, 6, &c, NULL), GC_OK);
        uint32_t most = 0;
        int total = 0;
        for (uint32_t t = 0; t < 4; t++) {
            const gc_result *r = &f.res[t];
            ck_assert_msg(r->status == GC_OK, "quiet %lld task %u: %s %s", (long long)quiet, t,
                          gc_status_name(r->status), r->text);
            uint32_t sent = quiet ? 0 : r->attempts;
            ck_assert_uint_eq(r->messages_delivered, sent);
            for (uint32_t j = 1; j <= sent; j++) {
                char id[32];
                snprintf(id, sizeof id, "t%ua%un%u", t, r->attempts, j);
                ck_assert_int_eq(count_id(&f.msgs, id), 1);
            }
            most = r->attempts > most ? r->attempts : most;
            total += (int)sent;
        }
        ck_assert_uint_ge(most, 2);          /* tasks share a base: all but one retry */
        ck_assert_int_eq(f.msgs.n, total);   /* nothing of an earlier attempt */
    }
    fx_close(&f);
}
END_TEST

/* INC-016: a task that fails after writing delivers nothing; others deliver. */
/* INC-010: a pure context (no declared write) refuses every write, loudly,
 * also when the process ignores the refusal; the same write declared commits. */
START_TEST(pure_context_refuses_every_write)
{
    fixture f;
    fx_open(&f);
    gc_err err;
    ck_assert_int_eq(gc_state_set_str(f.st, "key", "k", &err), GC_OK);
    ck_assert_int_eq(gc_state_set_int(f.st, "to", 9, &err), GC_OK);
    ck_assert_int_eq(gc_state_set_int(f.st, "swallow", 0, &err), GC_OK);
    static const char *const dom[] = {"key", "to", "swallow"};
    gc_contract pure = {.domain_reads = dom, .n_domain_reads = 3};
    for (int swallow = 0; swallow <= 1; swallow++) {
        ck_assert_int_eq(gc_state_set_int(f.st, "swallow", swallow, &err), GC_OK);
        uint64_t v0 = gc_state_version(f.st);
        ck_assert_int_eq(fx_run(&f, "poke", modes[_i], 2, 2, 0, &pure, NULL), GC_OK);
        for (int t = 0; t < 2; t++) {
            ck_assert_int_eq(f.res[t].status, GC_ECONTRACT);
            ck_assert_uint_eq(f.res[t].violations, 1);
            ck_assert_ptr_nonnull(strstr(f.res[t].text, "'k' is not declared"));
            ck_assert_uint_eq(f.res[t].committed_version, 0);
        }
        ck_assert_int_eq(key_int(f.st, "k"), 0);
        ck_assert_uint_eq(gc_state_version(f.st), v0);
    }
    ck_assert_int_eq(gc_state_set_int(f.st, "swallow", 0, &err), GC_OK);
    gc_contract declared = pure;
    declared.domain_writes = K;
    declared.n_domain_writes = 1;
    ck_assert_int_eq(fx_run(&f, "poke", modes[_i], 1, 1, 0, &declared, NULL), GC_OK);
    ck_assert_int_eq(f.res[0].status, GC_OK);
    ck_assert_int_eq(key_int(f.st, "k"), 9);
    fx_close(&f);
}
END_TEST

START_TEST(failed_attempt_leaves_nothing)
{
    fixture f;
    fx_open(&f);
    gc_err err;
    ck_assert_int_eq(gc_state_set_int(f.st, "only_task", 1, &err), GC_OK);
    static const char *const dom[] = {"k", "only_task"};
    gc_contract c = {.domain_reads = dom, .n_domain_reads = 2, .domain_writes = K,
                     .n_domain_writes = 1, .events = 1, .outbox = 1};
    ck_assert_int_eq(fx_run(&f, "fail_after_write", modes[_i], 3, 5, 10, &c, NULL), GC_OK);
    int committed = 0;
    for (int t = 0; t < 5; t++) {
        if (t == 1) {
            ck_assert_int_eq(f.res[t].status, GC_EPROC);
            ck_assert_uint_eq(f.res[t].committed_version, 0);
            ck_assert_uint_eq(f.res[t].messages_delivered, 0);
            ck_assert_uint_eq(f.res[t].events_delivered, 0);
        } else {
            ck_assert_int_eq(f.res[t].status, GC_OK);
            committed++;
        }
    }
    ck_assert_int_eq(f.msgs.n, committed);
    ck_assert_int_eq(count_id(&f.msgs, "m1"), 0);
    for (int t = 0; t < 5; t++)
        if (t != 1) {
            char id[16];
            snprintf(id, sizeof id, "m%d", t);
            ck_assert_int_eq(count_id(&f.msgs, id), 1);
        }
    ck_assert_int_eq(key_int(f.st, "k"), committed);
    fx_close(&f);
}
END_TEST

/* The history records an attempt's outbox messages as deliveries too: each
 * committed task's one message (kind, id, version), none for the task whose
 * process failed. */
START_TEST(history_records_message_deliveries)
{
    fixture f;
    fx_open(&f);
    gc_history *h;
    ck_assert_int_eq(gc_history_new(&h, NULL), GC_OK);
    ck_assert_int_eq(gc_state_set_int(f.st, "only_task", 1, NULL), GC_OK);
    static const char *const dom[] = {"k", "only_task"};
    gc_contract c = {.domain_reads = dom, .n_domain_reads = 2, .domain_writes = K,
                     .n_domain_writes = 1, .outbox = 1};
    ck_assert_int_eq(fx_run(&f, "fail_after_write", modes[_i], 3, 5, 10, &c, h), GC_OK);
    int seen[5] = {0};
    for (size_t i = 0; i < gc_history_count(h); i++) {
        const gc_attempt *a = gc_history_at(h, i);
        size_t msgs = 0;
        for (size_t d = 0; d < a->n_deliveries; d++) {
            if (a->deliveries[d].kind != GC_DELIVERY_MESSAGE)
                continue;
            char id[16];
            snprintf(id, sizeof id, "m%u", a->task);
            ck_assert_str_eq(a->deliveries[d].id, id);
            ck_assert_uint_eq(a->deliveries[d].version, a->version);
            msgs++;
        }
        ck_assert_uint_eq(msgs, (a->outcome == GC_OK ? 1u : 0u));
        if (a->outcome == GC_OK)
            seen[a->task]++;
    }
    for (int t = 0; t < 5; t++)
        ck_assert_int_eq(seen[t], t == 1 ? 0 : 1);
    gc_history_free(h);
    fx_close(&f);
}
END_TEST

/* A timed-out attempt installs nothing (the thread finishes late; the
 * process is killed). */
START_TEST(timed_out_attempt_leaves_nothing)
{
    fixture f;
    fx_open(&f);
    gc_err err;
    ck_assert_int_eq(gc_state_set_int(f.st, "ms", 300, &err), GC_OK);
    gc_contract c = {.domain_reads = K_MS, .n_domain_reads = 2, .domain_writes = K,
                     .n_domain_writes = 1, .events = 1};
    gc_exec_opts o = {.process = "increment", .mode = modes[_i], .workers = 1, .tasks = 1,
                      .contract = &c, .timeout_ms = 50};
    ck_assert_int_eq(gc_execute_parallel(f.e, f.st, &o, f.res, &err), GC_OK);
    ck_assert_int_eq(f.res[0].status, GC_ETIMEOUT);
    ck_assert_uint_eq(f.res[0].committed_version, 0);
    ck_assert_int_eq(f.events.n, 0);
    ck_assert_uint_eq(gc_state_version(f.st), 0);
    ck_assert_int_eq(key_int(f.st, "k"), 0);
    fx_close(&f);
}
END_TEST

/* INC-026: two write paths. The value returned at the end wins over a set of
 * the same key during the run; a return-only process commits its return;
 * siblings stay. */
static int set_then_return(gc_ctx *ctx, gc_proc_out *out)
{
    int64_t setv = 0;
    gc_ctx_int(ctx, "setv", &setv);
    if (setv) {
        int rc = gc_ctx_set_int(ctx, "k", setv);
        if (rc == GC_OK)
            rc = gc_ctx_set_int(ctx, "other", setv);
        if (rc != GC_OK)
            return rc;
    }
    out->value = 70;
    return GC_OK;
}

START_TEST(returned_value_wins_over_a_set)
{
    fixture f;
    fx_open(&f);
    gc_err err;
    ck_assert_int_eq(gc_engine_register(f.e, "set_then_return", set_then_return, NULL, &err),
                     GC_OK);
    static const char *const dom[] = {"setv"}, *const w[] = {"k", "other"};
    gc_contract c = {.domain_reads = dom, .n_domain_reads = 1, .domain_writes = w,
                     .n_domain_writes = 2, .return_key = "k"};
    ck_assert_int_eq(gc_state_set_int(f.st, "setv", 0, &err), GC_OK);   /* return only */
    ck_assert_int_eq(fx_run(&f, "set_then_return", modes[_i], 1, 1, 0, &c, NULL), GC_OK);
    ck_assert_int_eq(f.res[0].status, GC_OK);
    ck_assert_int_eq(key_int(f.st, "k"), 70);
    ck_assert_int_eq(gc_state_get(f.st, "other", &(const gc_value *){0}), GC_ENOTFOUND);
    ck_assert_int_eq(gc_state_set_int(f.st, "setv", 5, &err), GC_OK);    /* both paths */
    ck_assert_int_eq(fx_run(&f, "set_then_return", modes[_i], 1, 1, 0, &c, NULL), GC_OK);
    ck_assert_int_eq(f.res[0].status, GC_OK);
    ck_assert_int_eq(key_int(f.st, "k"), 70);
    ck_assert_int_eq(key_int(f.st, "other"), 5);
    ck_assert_int_eq(key_int(f.st, "sib"), 7);
    gc_contract no_ret = c;
    no_ret.return_key = NULL;                                            /* set only */
    ck_assert_int_eq(fx_run(&f, "set_then_return", modes[_i], 1, 1, 0, &no_ret, NULL), GC_OK);
    ck_assert_int_eq(key_int(f.st, "k"), 5);
    fx_close(&f);
}
END_TEST

/* A process that writes an int and a double through gc_ctx_set_value with
 * only the fields of their type meaningful: ptr and len hold what a reused
 * or unset gc_value may hold, here a page nobody may read and a length. */
static int set_by_number(gc_ctx *ctx, gc_proc_out *out)
{
    long pg = sysconf(_SC_PAGESIZE);
    void *none = mmap(NULL, (size_t)pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (none == MAP_FAILED) {
        snprintf(out->text, sizeof out->text, "set_by_number: mmap failed");
        return GC_ESYS;
    }
    gc_value i = {.type = GC_VAL_INT, .i = 42, .ptr = none, .len = 64};
    gc_value d = {.type = GC_VAL_DOUBLE, .d = 2.5, .ptr = none, .len = 64};
    int rc = gc_ctx_set_value(ctx, "k", &i);
    if (rc == GC_OK)
        rc = gc_ctx_set_value(ctx, "dbl", &d);
    munmap(none, (size_t)pg);
    return rc;
}

/* An int or a double is written by its number alone: the ptr and len of the
 * gc_value (meant for strings and bytes) are neither read nor kept, so a
 * caller need fill only the fields of the value's type. Committed in
 * thread and process mode, the state holds 42 and 2.5 with no data. */
START_TEST(numbers_are_written_by_their_value_alone)
{
    fixture f;
    fx_open(&f);
    gc_err err;
    ck_assert_int_eq(gc_engine_register(f.e, "set_by_number", set_by_number, NULL, &err), GC_OK);
    static const char *const w[] = {"k", "dbl"};
    gc_contract c = {.domain_writes = w, .n_domain_writes = 2};
    ck_assert_int_eq(fx_run(&f, "set_by_number", modes[_i], 1, 1, 0, &c, NULL), GC_OK);
    ck_assert_msg(f.res[0].status == GC_OK, "%s %s", gc_status_name(f.res[0].status),
                  f.res[0].text);
    const gc_value *k, *d;
    ck_assert_int_eq(gc_state_get(f.st, "k", &k), GC_OK);
    ck_assert_int_eq(gc_state_get(f.st, "dbl", &d), GC_OK);
    ck_assert_int_eq(k->type, GC_VAL_INT);
    ck_assert_int_eq(k->i, 42);
    ck_assert_int_eq(d->type, GC_VAL_DOUBLE);
    ck_assert_double_eq(d->d, 2.5);
    ck_assert_ptr_null(k->ptr);
    ck_assert_ptr_null(d->ptr);
    ck_assert_uint_eq(k->len, 0);
    ck_assert_uint_eq(d->len, 0);
    fx_close(&f);
}
END_TEST

/* INC-021/INC-026: five sequential saves keep five. */
START_TEST(five_sequential_appends_keep_five)
{
    fixture f;
    fx_open(&f);
    gc_err err;
    ck_assert_int_eq(gc_state_set_bytes(f.st, "list", "", 0, &err), GC_OK);
    static const char *const l[] = {"list"};
    gc_contract c = {.domain_reads = l, .n_domain_reads = 1, .domain_writes = l,
                     .n_domain_writes = 1};
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(fx_run(&f, "append", modes[_i], 1, 1, 0, &c, NULL), GC_OK);
        ck_assert_int_eq(f.res[0].status, GC_OK);
    }
    const gc_value *v;
    ck_assert_int_eq(gc_state_get(f.st, "list", &v), GC_OK);
    ck_assert_uint_eq(v->len, 10);
    ck_assert_mem_eq(v->ptr, "0;0;0;0;0;", 10);
    ck_assert_uint_eq(gc_state_version(f.st), 5);
    fx_close(&f);
}
END_TEST

START_TEST(outbox_without_sink_is_refused_before_any_worker_runs)
{
    gc_engine *e;
    gc_state *st;
    gc_err err;
    gc_result r;
    ck_assert_int_eq(gc_engine_new(&e, &err), GC_OK);
    ck_assert_int_eq(gc_builtins_register(e, &err), GC_OK);
    ck_assert_int_eq(gc_state_new(&st, &err), GC_OK);
    gc_contract c = {.outbox = 1};
    gc_exec_opts o = {.process = "send", .mode = GC_MODE_THREAD, .workers = 1, .tasks = 1,
                      .contract = &c};
    ck_assert_int_eq(gc_execute_parallel(e, st, &o, &r, &err), GC_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "no outbox sink"));
    gc_engine_stats s;
    gc_engine_stats_get(e, &s);
    ck_assert_uint_eq(s.dispatches, 0);
    gc_engine_free(e);
    gc_state_free(st);
}
END_TEST

/* The history: every attempt in commit order, what it read and wrote, its
 * outcome and its deliveries; a run without one records nothing. */
START_TEST(history_records_every_attempt)
{
    fixture f;
    fx_open(&f);
    gc_err err;
    gc_history *h;
    ck_assert_int_eq(gc_history_new(&h, &err), GC_OK);
    gc_contract c = {.domain_reads = K, .n_domain_reads = 1, .domain_writes = K,
                     .n_domain_writes = 1, .events = 1};
    ck_assert_int_eq(fx_run(&f, "increment", modes[_i], 3, 5, 5, &c, h), GC_OK);
    uint32_t attempts = 0;
    for (int t = 0; t < 5; t++)
        attempts += f.res[t].attempts;
    ck_assert_uint_eq(gc_history_count(h), attempts);
    ck_assert_uint_eq(gc_history_incomplete(h), 0);
    uint64_t last = 0;
    size_t installed = 0, conflicts = 0;
    for (size_t i = 0; i < gc_history_count(h); i++) {
        const gc_attempt *a = gc_history_at(h, i);
        ck_assert_uint_eq(a->n_reads, 1);
        ck_assert_str_eq(a->reads[0].key, "k");
        ck_assert_uint_le(a->reads[0].version, a->base);
        ck_assert_uint_eq(a->n_writes, 1);
        ck_assert_str_eq(a->writes[0], "k");
        ck_assert_int_eq(a->values[0].type, GC_VAL_INT);
        /* what it wrote: one more than the value at the version it read */
        ck_assert_int_eq(a->values[0].i, (int64_t)a->reads[0].version + 1);
        if (a->outcome == GC_OK) {
            ck_assert_uint_eq(a->version, last + 1);   /* versions in commit order */
            last = a->version;
            installed++;
            ck_assert_uint_eq(a->n_deliveries, 1);
            ck_assert_uint_eq(a->deliveries[0].version, a->version);
            ck_assert_str_eq(a->deliveries[0].topic, "changed");
        } else {
            ck_assert_int_eq(a->outcome, GC_ECONFLICT);
            ck_assert_uint_eq(a->n_deliveries, 0);
            conflicts++;
        }
    }
    ck_assert_uint_eq(installed, 5);
    ck_assert_uint_eq(conflicts, attempts - 5);
    ck_assert_ptr_null(gc_history_at(h, gc_history_count(h)));
    size_t before = gc_history_count(h);
    ck_assert_int_eq(fx_run(&f, "increment", modes[_i], 1, 1, 0, &c, NULL), GC_OK);
    ck_assert_uint_eq(gc_history_count(h), before);
    gc_history_clear(h);
    ck_assert_uint_eq(gc_history_count(h), 0);
    gc_history_free(h);
    fx_close(&f);
}
END_TEST

/* list_append, the history checker's workload: every installed write is the
 * value its attempt read plus that attempt's own element, the history holds
 * copies of the bytes written, and a reader's value is the checksum of what
 * it read. */
START_TEST(history_records_written_bytes)
{
    fixture f;
    fx_open(&f);
    gc_err err;
    gc_history *h;
    ck_assert_int_eq(gc_state_set_bytes(f.st, "l0", "", 0, &err), GC_OK);
    ck_assert_int_eq(gc_state_set_bytes(f.st, "l1", "x;", 2, &err), GC_OK);
    ck_assert_int_eq(gc_history_new(&h, &err), GC_OK);
    static const char *const L[] = {"l0", "l1"};
    gc_contract c = {.domain_reads = L, .n_domain_reads = 2, .domain_writes = L,
                     .n_domain_writes = 2};
    ck_assert_int_eq(fx_run(&f, "list_append", modes[_i], 2, 8, 10, &c, h), GC_OK);
    for (uint32_t t = 0; t < 8; t++)
        ck_assert_int_eq(f.res[t].status, GC_OK);
    /* tasks 3 and 7 read (read_every 4): both keys as the run found them */
    uint64_t want = gc_checksum("x;", 2, gc_checksum("", 0, GC_CHECKSUM_SEED));
    ck_assert_uint_eq((uint64_t)f.res[3].value, want);
    ck_assert_uint_eq((uint64_t)f.res[7].value, want);
    const gc_value *last[2] = {NULL, NULL};
    for (size_t i = 0; i < gc_history_count(h); i++) {
        const gc_attempt *a = gc_history_at(h, i);
        if (a->task % 4 == 3) {
            ck_assert_uint_eq(a->n_writes, 0);
            continue;
        }
        ck_assert_uint_eq(a->n_writes, 1);
        int k = a->writes[0][1] - '0';
        ck_assert_int_eq(k, (int)(a->task % 2));
        const gc_value *v = &a->values[0];
        ck_assert_int_eq(v->type, GC_VAL_BYTES);
        char elem[32];
        int n = snprintf(elem, sizeof elem, "%u.%u;", a->task, a->attempt);
        ck_assert_uint_ge(v->len, (size_t)n);
        ck_assert_int_eq(memcmp((const char *)v->ptr + v->len - n, elem, (size_t)n), 0);
        if (a->outcome == GC_OK)
            last[k] = v;
    }
    for (int k = 0; k < 2; k++) {
        const gc_value *now;
        ck_assert_int_eq(gc_state_get(f.st, L[k], &now), GC_OK);
        ck_assert_ptr_nonnull(last[k]);
        ck_assert_uint_eq(now->len, last[k]->len);
        ck_assert_int_eq(memcmp(now->ptr, last[k]->ptr, now->len), 0);
    }
    /* tasks 1 and 5 append to l1 (3 and 7 read) */
    const gc_value *l1;
    ck_assert_int_eq(gc_state_get(f.st, "l1", &l1), GC_OK);
    ck_assert_uint_eq(l1->len, 2 + 2 * 4);
    gc_history_free(h);
    fx_close(&f);
}
END_TEST

/* A history grows as runs add attempts to it: five runs of 30 tasks record
 * more than twice its first allocation (64), every attempt intact. */
START_TEST(history_grows_past_its_first_allocation)
{
    fixture f;
    fx_open(&f);
    gc_history *h;
    ck_assert_int_eq(gc_history_new(&h, NULL), GC_OK);
    gc_contract c = {.domain_reads = K, .n_domain_reads = 1, .domain_writes = K,
                     .n_domain_writes = 1};
    size_t attempts = 0;
    for (int round = 0; round < 5; round++) {
        ck_assert_int_eq(fx_run(&f, "increment", modes[_i], 2, 30, 60, &c, h), GC_OK);
        for (int t = 0; t < 30; t++) {
            ck_assert_int_eq(f.res[t].status, GC_OK);
            attempts += f.res[t].attempts;
        }
    }
    ck_assert_uint_gt(attempts, 128);
    ck_assert_uint_eq(gc_history_count(h), attempts);
    ck_assert_uint_eq(gc_history_incomplete(h), 0);
    size_t installed = 0;
    for (size_t i = 0; i < attempts; i++) {
        const gc_attempt *a = gc_history_at(h, i);
        ck_assert_uint_lt(a->task, 30);
        ck_assert_uint_eq(a->n_reads, 1);
        ck_assert_str_eq(a->reads[0].key, "k");
        ck_assert_uint_eq(a->n_writes, 1);
        ck_assert_int_eq(a->values[0].i, (int64_t)a->reads[0].version + 1);
        installed += a->outcome == GC_OK;
    }
    ck_assert_uint_eq(installed, 150);
    gc_history_free(h);
    fx_close(&f);
}
END_TEST

/* Setting a key again replaces its write: the write set's size counts it
 * once, however often it is set, and room for other keys is unchanged. */
START_TEST(write_set_counts_a_key_set_again_once)
{
    static const char *const w[] = {"k", "other"};
    gc_state *st;
    ck_assert_int_eq(gc_state_new(&st, NULL), GC_OK);
    gc_contract c = {.domain_writes = w, .n_domain_writes = 2};
    gc_ctx *ctx;
    ck_assert_int_eq(gc_ctx_from_state(st, &c, NULL, 0, 1, &ctx, NULL), GC_OK);
    ck_assert_int_eq(gc_ctx_set_int(ctx, "k", 1), GC_OK);
    size_t once = gc__wset_size(&ctx->ws, ctx->n_domain);
    for (int i = 2; i < 6; i++) {
        ck_assert_int_eq(gc_ctx_set_int(ctx, "k", i), GC_OK);
        ck_assert_uint_eq(gc__wset_size(&ctx->ws, ctx->n_domain), once);
    }
    ck_assert_int_eq(gc_ctx_set_int(ctx, "other", 7), GC_OK);
    ck_assert_uint_eq(ctx->ws.n_writes, 2);
    gc_ctx_free(ctx);
    gc_state_free(st);
}
END_TEST

/* gc_engine_configure names which argument is NULL. */
START_TEST(configure_null_arguments)
{
    gc_engine *e;
    gc_err err;
    gc_config cfg = gc_config_default();
    ck_assert_int_eq(gc_engine_new(&e, &err), GC_OK);
    ck_assert_int_eq(gc_engine_configure(NULL, &cfg, &err), GC_EINVAL);
    ck_assert_str_eq(err.msg, "gc_engine_configure: NULL engine");
    ck_assert_int_eq(gc_engine_configure(e, NULL, &err), GC_EINVAL);
    ck_assert_str_eq(err.msg, "gc_engine_configure: NULL config");
    ck_assert_int_eq(gc_engine_configure(e, &cfg, &err), GC_OK);
    gc_engine_free(e);
}
END_TEST

/* A validation rule needs an engine and a key (and a check function): a NULL
 * one is refused EINVAL, naming the call, never followed, and adds no rule. */
static int never_called(const char *key, const gc_value *v, void *arg, char *reason, size_t cap)
{
    (void)key, (void)v, (void)arg, (void)reason, (void)cap;
    return GC_OK;
}

START_TEST(rules_null_arguments)
{
    gc_engine *e;
    gc_err err;
    ck_assert_int_eq(gc_engine_new(&e, &err), GC_OK);
    ck_assert_int_eq(gc_engine_rule_int_range(NULL, "k", 0, 1, &err), GC_EINVAL);
    ck_assert_str_eq(err.msg, "gc_engine_rule_int_range: NULL argument");
    ck_assert_int_eq(gc_engine_rule_int_range(e, NULL, 0, 1, &err), GC_EINVAL);
    ck_assert_str_eq(err.msg, "gc_engine_rule_int_range: NULL argument");
    ck_assert_int_eq(gc_engine_rule_check(NULL, "k", never_called, NULL, &err), GC_EINVAL);
    ck_assert_str_eq(err.msg, "gc_engine_rule_check: NULL argument");
    ck_assert_int_eq(gc_engine_rule_check(e, NULL, never_called, NULL, &err), GC_EINVAL);
    ck_assert_str_eq(err.msg, "gc_engine_rule_check: NULL argument");
    ck_assert_int_eq(gc_engine_rule_check(e, "k", NULL, NULL, &err), GC_EINVAL);
    ck_assert_str_eq(err.msg, "gc_engine_rule_check: NULL argument");
    ck_assert_uint_eq(e->nrules, 0);
    ck_assert_int_eq(gc_engine_rule_int_range(e, "k", 0, 1, &err), GC_OK);
    ck_assert_uint_eq(e->nrules, 1);
    gc_engine_free(e);
}
END_TEST

/* An integer range rule needs min <= max: a range with min above max is
 * refused, naming the key and both bounds, and adds no rule (it would refuse
 * every value); a range of one value is a rule. */
START_TEST(int_range_rule_refuses_min_above_max)
{
    gc_engine *e;
    gc_err err;
    ck_assert_int_eq(gc_engine_new(&e, &err), GC_OK);
    ck_assert_int_eq(gc_engine_rule_int_range(e, "k", 5, 4, &err), GC_EINVAL);
    ck_assert_str_eq(err.msg, "rule on 'k': min 5 > max 4");
    ck_assert_uint_eq(e->nrules, 0);
    ck_assert_int_eq(gc_engine_rule_int_range(e, "k", 5, 5, &err), GC_OK);
    ck_assert_uint_eq(e->nrules, 1);
    gc_engine_free(e);
}
END_TEST

/* Subscribers per engine are capped: exactly GC__SUBS_MAX are kept, the next
 * is refused ELIMIT naming its topic and the limit, and the array stays. A
 * subscription or an outbox sink needs an engine and a function: NULL is
 * refused EINVAL naming the call. */
START_TEST(subscribers_capped_and_null_arguments_refused)
{
    gc_engine *e;
    gc_err err;
    recorder rec = {0};
    ck_assert_int_eq(gc_engine_new(&e, &err), GC_OK);
    ck_assert_int_eq(gc_engine_set_outbox(NULL, record, &rec, &err), GC_EINVAL);
    ck_assert_str_eq(err.msg, "gc_engine_set_outbox: NULL engine");
    ck_assert_int_eq(gc_engine_subscribe(NULL, "t", record, &rec, &err), GC_EINVAL);
    ck_assert_str_eq(err.msg, "gc_engine_subscribe: NULL argument");
    ck_assert_int_eq(gc_engine_subscribe(e, "t", NULL, &rec, &err), GC_EINVAL);
    ck_assert_str_eq(err.msg, "gc_engine_subscribe: NULL argument");
    ck_assert_uint_eq(e->nsubs, 0);
    for (int i = 0; i < GC__SUBS_MAX; i++)
        ck_assert_int_eq(gc_engine_subscribe(e, "t", record, &rec, &err), GC_OK);
    ck_assert_int_eq(gc_engine_subscribe(e, "t", record, &rec, &err), GC_ELIMIT);
    char want[96];
    snprintf(want, sizeof want, "subscribe to 't': %d subscribers already", GC__SUBS_MAX);
    ck_assert_str_eq(err.msg, want);
    ck_assert_uint_eq(e->nsubs, GC__SUBS_MAX);
    gc_engine_free(e);
}
END_TEST

/* A subscription names a topic by the rules of every name (or none: every
 * topic): a topic with a space, one starting with '.', or an empty one is
 * refused EINVAL with the name check's reason and no subscriber is added, so
 * a typo cannot leave a subscriber that silently never hears anything. */
START_TEST(subscription_refuses_a_bad_topic_name)
{
    gc_engine *e;
    gc_err err;
    recorder rec = {0};
    ck_assert_int_eq(gc_engine_new(&e, &err), GC_OK);
    ck_assert_int_eq(gc_engine_subscribe(e, "bad topic", record, &rec, &err), GC_EINVAL);
    ck_assert_str_eq(err.msg, "topic name has byte 0x20 at position 3 "
                              "(allowed: A-Z a-z 0-9 _ . -)");
    ck_assert_int_eq(gc_engine_subscribe(e, ".hidden", record, &rec, &err), GC_EINVAL);
    ck_assert_str_eq(err.msg, "topic name '.hidden' starts with '.'");
    ck_assert_int_eq(gc_engine_subscribe(e, "", record, &rec, &err), GC_EINVAL);
    ck_assert_str_eq(err.msg, "topic name is empty");
    ck_assert_uint_eq(e->nsubs, 0);
    ck_assert_int_eq(gc_engine_subscribe(e, NULL, record, &rec, &err), GC_OK);
    ck_assert_int_eq(gc_engine_subscribe(e, "changed", record, &rec, &err), GC_OK);
    ck_assert_uint_eq(e->nsubs, 2);
    gc_engine_free(e);
}
END_TEST

/* Events past what a reply can carry are refused before they are taken:
 * 63 events of GC_PAYLOAD_MAX bytes fit the write set's GC_WSET_MSG_MAX,
 * the 64th (within the count limit) would not and is refused ELIMIT naming
 * the limit, leaving the 63 and a write set that still fits; on the
 * factory's context and on the decoded one. */
static void expect_events_fill_the_reply(gc_ctx *c)
{
    static char payload[GC_PAYLOAD_MAX];
    memset(payload, 'p', sizeof payload);
    int n = 0;
    while (n < GC_EVENTS_MAX && gc_ctx_emit(c, "changed", payload, sizeof payload) == GC_OK)
        n++;
    ck_assert_int_eq(n, 63);
    char want[96];
    snprintf(want, sizeof want, "event: the write set would take over %u bytes", GC_WSET_MSG_MAX);
    ck_assert_str_eq(gc_ctx_last_error(c), want);
    ck_assert_uint_eq(gc_ctx_pending_events(c), 63);
    ck_assert_uint_le(gc__wset_size(&c->ws, c->n_domain), GC_WSET_MSG_MAX);
}

START_TEST(events_past_the_reply_size_are_refused)
{
    gc_state *st;
    gc_err err;
    ck_assert_int_eq(gc_state_new(&st, &err), GC_OK);
    gc_contract c = {.events = 1};
    gc_ctx *ctx = NULL, *d = NULL;
    ck_assert_int_eq(gc_ctx_from_state(st, &c, NULL, 0, 1, &ctx, &err), GC_OK);
    static uint8_t buf[GC_WIRE_MSG_MAX];
    size_t len = 0;
    ck_assert_int_eq(gc_wire_encode(ctx, buf, sizeof buf, &len, &err), GC_OK);
    expect_events_fill_the_reply(ctx);
    ck_assert_int_eq(gc_wire_decode(buf, len, -1, -1, &d, &err), GC_OK);
    ck_assert_int_eq(gc_wire_attach(d, NULL, 0, NULL, 0, &err), GC_OK);
    expect_events_fill_the_reply(d);
    gc_ctx_free(d);
    gc_ctx_free(ctx);
    gc_state_free(st);
}
END_TEST

/* Thread mode starts no more threads than there are tasks to run. */
START_TEST(thread_mode_starts_no_more_threads_than_tasks)
{
    fixture f;
    fx_open(&f);
    gc_contract c = {.domain_reads = K, .n_domain_reads = 1};
    ck_assert_int_eq(fx_run(&f, "echo", GC_MODE_THREAD, 4, 2, 0, &c, NULL), GC_OK);
    gc_engine_stats s;
    gc_engine_stats_get(f.e, &s);
    ck_assert_uint_eq(s.threads_started, 2);
    ck_assert_uint_eq(s.thread_runs, 1);
    fx_close(&f);
}
END_TEST

/* The history's API takes NULL where a caller may hold none: each says so
 * or reads as empty, and none crashes. */
START_TEST(history_null_arguments)
{
    gc_err err;
    gc_err_clear(&err);
    ck_assert_int_eq(gc_history_new(NULL, &err), GC_EINVAL);
    ck_assert_str_eq(err.msg, "gc_history_new: out is NULL");
    ck_assert_uint_eq(gc_history_count(NULL), 0);
    ck_assert_uint_eq(gc_history_incomplete(NULL), 0);
    ck_assert_ptr_null(gc_history_at(NULL, 0));
    gc_history_clear(NULL);
    gc_history_free(NULL);
}
END_TEST

/* ---- what an attempt carries decides what it commits ------------------------- */

/* An attempt that carries only an outbox message (no write, no event) is
 * committed: its message is delivered once, with its id, seeing the version
 * installed for it, in both commit modes. An attempt with nothing in it
 * (echo under a writing contract) installs nothing and delivers nothing:
 * the state keeps its version. */
START_TEST(message_only_attempt_is_delivered_at_its_version)
{
    fixture f;
    fx_open(&f);
    gc_err err;
    gc_contract send_only = {.outbox = 1};
    for (int strict = 0; strict <= 1; strict++) {
        gc_config cfg = gc_config_default();
        cfg.commit = strict ? GC_COMMIT_STRICT : GC_COMMIT_SMART;
        ck_assert_int_eq(gc_engine_configure(f.e, &cfg, &err), GC_OK);
        uint64_t v0 = gc_state_version(f.st);
        int before = f.msgs.n;
        ck_assert_int_eq(fx_run(&f, "send", modes[_i], 1, 1, 0, &send_only, NULL), GC_OK);
        ck_assert_msg(f.res[0].status == GC_OK, "%s commit: %s %s", strict ? "strict" : "smart",
                      gc_status_name(f.res[0].status), f.res[0].text);
        ck_assert_uint_eq(f.res[0].messages_delivered, 1);
        ck_assert_uint_eq(f.res[0].events_delivered, 0);
        ck_assert_int_eq(f.msgs.n, before + 1);
        ck_assert_int_eq(f.events.n, 0);
        ck_assert_str_eq(f.msgs.id[before], "m0");
        ck_assert_uint_eq(f.res[0].committed_version, v0 + 1);
        ck_assert_uint_eq(gc_state_version(f.st), v0 + 1);
        ck_assert_uint_eq(f.msgs.version[before], f.res[0].committed_version);
    }
    gc_contract writing = {.domain_reads = K, .n_domain_reads = 1, .domain_writes = K,
                           .n_domain_writes = 1, .events = 1, .outbox = 1};
    uint64_t v1 = gc_state_version(f.st);
    int msgs = f.msgs.n;
    ck_assert_int_eq(fx_run(&f, "echo", modes[_i], 2, 3, 0, &writing, NULL), GC_OK);
    for (int t = 0; t < 3; t++) {
        ck_assert_int_eq(f.res[t].status, GC_OK);
        ck_assert_uint_eq(f.res[t].committed_version, 0);
        ck_assert_uint_eq(f.res[t].writes, 0);
    }
    ck_assert_uint_eq(gc_state_version(f.st), v1);
    ck_assert_uint_eq(key_version(f.st, "k"), 0);
    ck_assert_int_eq(f.msgs.n, msgs);
    ck_assert_int_eq(f.events.n, 0);
    fx_close(&f);
}
END_TEST

/* INC-023: a rule refuses the attempt whole. fail_validation writes every
 * declared key; the rule is on the second only, so the first (valid) write,
 * the event and the message go with it: nothing installed, nothing
 * delivered, the reason names the refused key. The same builtin with a
 * value the rule accepts commits everything it made. */
START_TEST(validation_of_one_key_refuses_the_whole_attempt)
{
    fixture f;
    fx_open(&f);
    gc_err err;
    ck_assert_int_eq(gc_engine_rule_int_range(f.e, "sib", 0, 100, &err), GC_OK);
    static const char *const both[] = {"k", "sib"};
    gc_contract c = {.domain_writes = both, .n_domain_writes = 2, .events = 1, .outbox = 1};
    ck_assert_int_eq(fx_run(&f, "fail_validation", modes[_i], 2, 2, 3, &c, NULL), GC_OK);
    for (int t = 0; t < 2; t++) {
        ck_assert_int_eq(f.res[t].status, GC_EVALIDATE);
        ck_assert_str_eq(f.res[t].text, "validation of 'sib': -1 is outside [0, 100]");
        ck_assert_int_eq(f.res[t].value, -1);
        ck_assert_uint_eq(f.res[t].writes, 2);
        ck_assert_uint_eq(f.res[t].committed_version, 0);
    }
    ck_assert_int_eq(key_int(f.st, "k"), 0);
    ck_assert_int_eq(key_int(f.st, "sib"), 7);
    ck_assert_uint_eq(gc_state_version(f.st), 0);
    ck_assert_int_eq(f.events.n + f.msgs.n, 0);
    /* The control: a value the rule accepts commits both writes and delivers
     * the event and the message, so the refusal above dropped real ones. */
    ck_assert_int_eq(gc_state_set_int(f.st, "bad", 5, &err), GC_OK);
    static const char *const dom[] = {"bad"};
    c.domain_reads = dom;
    c.n_domain_reads = 1;
    ck_assert_int_eq(fx_run(&f, "fail_validation", modes[_i], 1, 1, 0, &c, NULL), GC_OK);
    ck_assert_int_eq(f.res[0].status, GC_OK);
    ck_assert_uint_eq(f.res[0].committed_version, 1);
    ck_assert_int_eq(key_int(f.st, "k"), 5);
    ck_assert_int_eq(key_int(f.st, "sib"), 5);
    ck_assert_uint_eq(f.res[0].events_delivered, 1);
    ck_assert_uint_eq(f.res[0].messages_delivered, 1);
    ck_assert_int_eq(f.events.n, 1);
    ck_assert_int_eq(f.msgs.n, 1);
    ck_assert_str_eq(f.msgs.id[0], "m0");
    ck_assert_uint_eq(f.events.version[0], 1);
    fx_close(&f);
}
END_TEST

/* list_append says in its text what each task did: an appender names the
 * element it appended (task.attempt, the attempt that committed) and the
 * list key; a reader, the keys and bytes it read. */
START_TEST(list_append_text_names_the_element_and_key)
{
    fixture f;
    fx_open(&f);
    gc_err err;
    ck_assert_int_eq(gc_state_set_bytes(f.st, "l0", "", 0, &err), GC_OK);
    ck_assert_int_eq(gc_state_set_bytes(f.st, "l1", "x;", 2, &err), GC_OK);
    static const char *const L[] = {"l0", "l1"};
    gc_contract c = {.domain_reads = L, .n_domain_reads = 2, .domain_writes = L,
                     .n_domain_writes = 2, .events = 1, .outbox = 1};
    ck_assert_int_eq(fx_run(&f, "list_append", modes[_i], 2, 4, 10, &c, NULL), GC_OK);
    for (uint32_t t = 0; t < 4; t++) {
        ck_assert_int_eq(f.res[t].status, GC_OK);
        char want[64];
        if (t == 3)   /* read_every 4: the fourth task reads */
            snprintf(want, sizeof want, "read 2 list keys, 2 bytes");
        else
            snprintf(want, sizeof want, "appended %u.%u; to l%u", t, f.res[t].attempts, t % 2);
        ck_assert_str_eq(f.res[t].text, want);
    }
    ck_assert_int_eq(f.msgs.n, 3);
    fx_close(&f);
}
END_TEST

/* Task 0 writes only the last of four keys; every other task writes all
 * four, in contract order, so that key comes last in its write set. */
static const char *const FOUR[] = {"a", "b", "c", "d"};

static int write_four(gc_ctx *ctx, gc_proc_out *out)
{
    for (size_t i = gc_ctx_task(ctx) == 0 ? 3 : 0; i < 4; i++) {
        int rc = gc_ctx_set_int(ctx, FOUR[i], (int64_t)gc_ctx_task(ctx) + 1);
        if (rc != GC_OK)
            return rc;
    }
    out->value = (int64_t)gc_ctx_attempt(ctx);
    return GC_OK;
}

/* The optimistic check covers every written key up to the last: one worker
 * runs task 0 (writes d) and commits it before task 1, whose first attempt
 * is built from the run's base and writes a, b, c, d. Only d moved, and it
 * is the last of the four writes: smart commit must still see the conflict
 * and refuse the whole attempt (no retry left), naming d. With a retry, the
 * second attempt commits all four at one version. */
START_TEST(conflict_on_the_last_of_four_writes)
{
    fixture f;
    fx_open(&f);
    gc_err err;
    ck_assert_int_eq(gc_engine_register(f.e, "write_four", write_four, NULL, &err), GC_OK);
    gc_contract c = {.domain_writes = FOUR, .n_domain_writes = 4};
    ck_assert_int_eq(fx_run(&f, "write_four", modes[_i], 1, 2, 0, &c, NULL), GC_OK);
    ck_assert_int_eq(f.res[0].status, GC_OK);
    ck_assert_uint_eq(f.res[0].committed_version, 1);
    ck_assert_int_eq(f.res[1].status, GC_ECONFLICT);
    ck_assert_uint_eq(f.res[1].writes, 4);
    ck_assert_str_eq(f.res[1].text, "conflict: 'd' was modified at version 1, after the task's "
                     "base 0 (attempt 1, retries 0)");
    ck_assert_int_eq(key_int(f.st, "d"), 1);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(gc_state_get(f.st, FOUR[i], &(const gc_value *){0}), GC_ENOTFOUND);
    ck_assert_uint_eq(gc_state_version(f.st), 1);
    ck_assert_int_eq(fx_run(&f, "write_four", modes[_i], 1, 2, 1, &c, NULL), GC_OK);
    ck_assert_int_eq(f.res[1].status, GC_OK);
    ck_assert_uint_eq(f.res[1].attempts, 2);
    ck_assert_uint_eq(f.res[1].committed_version, 3);
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(key_int(f.st, FOUR[i]), 2);
        ck_assert_uint_eq(key_version(f.st, FOUR[i]), 3);
    }
    fx_close(&f);
}
END_TEST

/* What a delivery carried: kind, task and payload. */
typedef struct payloads {
    int n;
    struct { int kind; uint32_t task; char text[64]; } d[16];
} payloads;

static void record_payload(const gc_delivery *d, void *arg)
{
    payloads *p = arg;
    if (p->n >= 16)
        return;
    p->d[p->n].kind = d->kind;
    p->d[p->n].task = d->task;
    snprintf(p->d[p->n].text, sizeof p->d[p->n].text, "%.*s", (int)d->len,
             (const char *)d->payload);
    p->n++;
}

/* INC-016: a writing builtin's event and message name the task and the
 * attempt that made them ("task=T attempt=A"), so a phantom from an earlier
 * attempt shows in its payload: after conflicts and retries, every delivery
 * names the attempt that committed. */
START_TEST(delivered_payload_names_the_committed_attempt)
{
    gc_engine *e;
    gc_state *st;
    gc_err err;
    payloads p = {0};
    ck_assert_int_eq(gc_engine_new(&e, &err), GC_OK);
    ck_assert_int_eq(gc_builtins_register(e, &err), GC_OK);
    ck_assert_int_eq(gc_engine_subscribe(e, "changed", record_payload, &p, &err), GC_OK);
    ck_assert_int_eq(gc_engine_set_outbox(e, record_payload, &p, &err), GC_OK);
    ck_assert_int_eq(gc_state_new(&st, &err), GC_OK);
    gc_contract c = {.domain_writes = K, .n_domain_writes = 1, .events = 1, .outbox = 1};
    gc_exec_opts o = {.process = "conflict", .mode = modes[_i], .workers = 3, .tasks = 3,
                      .contract = &c, .retries = 5};
    gc_result res[3];
    ck_assert_int_eq(gc_execute_parallel(e, st, &o, res, &err), GC_OK);
    ck_assert_int_eq(p.n, 6);
    for (int i = 0; i < p.n; i++) {
        uint32_t t = p.d[i].task;
        ck_assert_uint_lt(t, 3);
        ck_assert_int_eq(res[t].status, GC_OK);
        char want[64];
        snprintf(want, sizeof want, "task=%u attempt=%u", t, res[t].attempts);
        ck_assert_str_eq(p.d[i].text, want);
    }
    gc_engine_free(e);
    gc_state_free(st);
}
END_TEST

/* A fault builtin whose own work fails reports that failure, not the fault
 * it was asked for: fail_after_write under a contract with no write to
 * increment ends EINVAL with increment's reason, never EPROC. */
START_TEST(fail_after_write_reports_its_own_failure)
{
    fixture f;
    fx_open(&f);
    gc_contract c = {.domain_reads = K, .n_domain_reads = 1, .events = 1};
    ck_assert_int_eq(fx_run(&f, "fail_after_write", modes[_i], 1, 1, 0, &c, NULL), GC_OK);
    ck_assert_int_eq(f.res[0].status, GC_EINVAL);
    ck_assert_str_eq(f.res[0].text, "increment: the contract declares no write");
    ck_assert_int_eq(f.events.n, 0);
    fx_close(&f);
}
END_TEST

/* conflict under a contract with no write fails EINVAL with its own reason,
 * in thread and process mode: the user learns the contract is wrong, not
 * some lower-level refusal of a write to no key. */
START_TEST(conflict_without_a_declared_write_says_so)
{
    fixture f;
    fx_open(&f);
    gc_contract c = {.domain_reads = K, .n_domain_reads = 1};
    ck_assert_int_eq(fx_run(&f, "conflict", modes[_i], 1, 1, 0, &c, NULL), GC_OK);
    ck_assert_int_eq(f.res[0].status, GC_EINVAL);
    ck_assert_str_eq(f.res[0].text, "conflict: the contract declares no write");
    ck_assert_int_eq(key_int(f.st, "k"), 0);
    fx_close(&f);
}
END_TEST

/* A subscriber hears its own topic only, matched whole: beside the
 * fixture's "changed" subscriber, one to every topic (NULL) hears the event
 * too, while "change" (a prefix), "changed2" (an extension) and "other" hear
 * nothing; the task counts each delivery once per subscriber reached. */
START_TEST(subscribers_receive_only_their_topic)
{
    fixture f;
    fx_open(&f);
    recorder all = {0}, prefix = {0}, longer = {0}, other = {0};
    gc_err err;
    ck_assert_int_eq(gc_engine_subscribe(f.e, NULL, record, &all, &err), GC_OK);
    ck_assert_int_eq(gc_engine_subscribe(f.e, "change", record, &prefix, &err), GC_OK);
    ck_assert_int_eq(gc_engine_subscribe(f.e, "changed2", record, &longer, &err), GC_OK);
    ck_assert_int_eq(gc_engine_subscribe(f.e, "other", record, &other, &err), GC_OK);
    gc_contract c = {.domain_writes = K, .n_domain_writes = 1, .events = 1};
    ck_assert_int_eq(fx_run(&f, "increment", modes[_i], 1, 1, 0, &c, NULL), GC_OK);
    ck_assert_int_eq(f.res[0].status, GC_OK);
    ck_assert_uint_eq(f.res[0].committed_version, 1);
    ck_assert_int_eq(f.events.n, 1);
    ck_assert_int_eq(all.n, 1);
    ck_assert_uint_eq(all.version[0], 1);
    ck_assert_int_eq(all.seen[0], 1);
    ck_assert_int_eq(prefix.n, 0);
    ck_assert_int_eq(longer.n, 0);
    ck_assert_int_eq(other.n, 0);
    ck_assert_uint_eq(f.res[0].events_delivered, 2);
    fx_close(&f);
}
END_TEST

/* A run given no contract takes the process's registered one, whole: the
 * same function registered once allowing events and messages and once not,
 * writes the same key, but only the one that allows them delivers (and the
 * registry reports each flag as registered). */
START_TEST(registered_contract_decides_events_and_messages)
{
    fixture f;
    fx_open(&f);
    gc_err err;
    gc_proc_fn inc = NULL;
    ck_assert_int_eq(gc_engine_lookup(f.e, "increment", &inc, NULL), GC_OK);
    gc_contract loud = {.domain_writes = K, .n_domain_writes = 1, .events = 1, .outbox = 1};
    gc_contract quiet = {.domain_writes = K, .n_domain_writes = 1};
    ck_assert_int_eq(gc_engine_register(f.e, "inc_loud", inc, &loud, &err), GC_OK);
    ck_assert_int_eq(gc_engine_register(f.e, "inc_quiet", inc, &quiet, &err), GC_OK);
    const gc_contract *got = NULL;
    ck_assert_int_eq(gc_engine_lookup(f.e, "inc_loud", NULL, &got), GC_OK);
    ck_assert(got->events == 1 && got->outbox == 1);
    ck_assert_int_eq(gc_engine_lookup(f.e, "inc_quiet", NULL, &got), GC_OK);
    ck_assert(got->events == 0 && got->outbox == 0);
    ck_assert_int_eq(fx_run(&f, "inc_quiet", modes[_i], 1, 1, 0, NULL, NULL), GC_OK);
    ck_assert_int_eq(f.res[0].status, GC_OK);
    ck_assert_uint_eq(f.res[0].committed_version, 1);
    ck_assert_uint_eq(f.res[0].events_delivered + f.res[0].messages_delivered, 0);
    ck_assert_int_eq(f.events.n + f.msgs.n, 0);
    ck_assert_int_eq(fx_run(&f, "inc_loud", modes[_i], 1, 1, 0, NULL, NULL), GC_OK);
    ck_assert_int_eq(f.res[0].status, GC_OK);
    ck_assert_uint_eq(f.res[0].committed_version, 2);
    ck_assert_uint_eq(f.res[0].events_delivered, 1);
    ck_assert_uint_eq(f.res[0].messages_delivered, 1);
    ck_assert_int_eq(f.events.n, 1);
    ck_assert_int_eq(f.msgs.n, 1);
    ck_assert_uint_eq(f.events.version[0], 2);
    ck_assert_uint_eq(f.msgs.version[0], 2);
    fx_close(&f);
}
END_TEST

/* peek reads the key named by domain "key"; when "key" itself cannot be
 * read, the task fails with that refusal and reads nothing more: not
 * declared (strict contracts: ECONTRACT, counted), or not a string (EINVAL,
 * its type named), in thread and process mode. */
START_TEST(peek_without_a_key_name_reports_why)
{
    fixture f;
    fx_open(&f);
    gc_err err;
    gc_contract c = {.domain_reads = K, .n_domain_reads = 1};
    ck_assert_int_eq(fx_run(&f, "peek", modes[_i], 1, 1, 0, &c, NULL), GC_OK);
    ck_assert_int_eq(f.res[0].status, GC_ECONTRACT);
    ck_assert_str_eq(f.res[0].text, "'key' is not declared by the contract (domain keys: k)");
    ck_assert_uint_eq(f.res[0].violations, 1);
    ck_assert_int_eq(gc_state_set_int(f.st, "key", 5, &err), GC_OK);
    static const char *const dom[] = {"key"};
    gc_contract ci = {.domain_reads = dom, .n_domain_reads = 1};
    ck_assert_int_eq(fx_run(&f, "peek", modes[_i], 1, 1, 0, &ci, NULL), GC_OK);
    ck_assert_int_eq(f.res[0].status, GC_EINVAL);
    ck_assert_str_eq(f.res[0].text, "domain key 'key' is int, not str");
    ck_assert_uint_eq(f.res[0].violations, 0);
    fx_close(&f);
}
END_TEST

/* list_append reads the list key it appends to: a list key that is not
 * bytes is refused (EINVAL, its type named), and nothing is appended,
 * committed or delivered, in thread and process mode. */
START_TEST(list_append_refuses_a_list_key_that_is_not_bytes)
{
    fixture f;
    fx_open(&f);
    gc_contract c = {.domain_reads = K, .n_domain_reads = 1, .domain_writes = K,
                     .n_domain_writes = 1, .events = 1, .outbox = 1};
    ck_assert_int_eq(fx_run(&f, "list_append", modes[_i], 1, 1, 0, &c, NULL), GC_OK);
    ck_assert_int_eq(f.res[0].status, GC_EINVAL);
    ck_assert_str_eq(f.res[0].text, "domain key 'k' is int, not bytes");
    ck_assert_uint_eq(f.res[0].committed_version, 0);
    ck_assert_uint_eq(gc_state_version(f.st), 0);
    ck_assert_int_eq(key_int(f.st, "k"), 0);
    ck_assert_int_eq(f.events.n + f.msgs.n, 0);
    fx_close(&f);
}
END_TEST

/* An appender's value is its list's new length: the old bytes plus the
 * element it appended ("<task>.<attempt>;"), as committed, in thread and
 * process mode. */
START_TEST(list_append_value_is_the_new_length)
{
    fixture f;
    fx_open(&f);
    gc_err err;
    ck_assert_int_eq(gc_state_set_bytes(f.st, "l0", "x;", 2, &err), GC_OK);
    static const char *const L[] = {"l0"};
    gc_contract c = {.domain_reads = L, .n_domain_reads = 1, .domain_writes = L,
                     .n_domain_writes = 1};
    ck_assert_int_eq(fx_run(&f, "list_append", modes[_i], 1, 1, 0, &c, NULL), GC_OK);
    ck_assert_int_eq(f.res[0].status, GC_OK);
    ck_assert_int_eq(f.res[0].value, 6);
    const gc_value *v;
    ck_assert_int_eq(gc_state_get(f.st, "l0", &v), GC_OK);
    ck_assert_uint_eq(v->len, 6);
    ck_assert_mem_eq(v->ptr, "x;0.1;", 6);
    fx_close(&f);
}
END_TEST

/* A list grows up to the value limit and no further: an append that
 * brings it to exactly GC_VALUE_BYTES_MAX bytes commits, the next one is
 * refused by list_append itself (ELIMIT naming the key and the limit) and
 * the list stays whole, nothing committed, in thread and process mode. */
START_TEST(list_append_stops_at_the_value_limit)
{
    fixture f;
    fx_open(&f);
    gc_err err;
    static char fill[GC_VALUE_BYTES_MAX];
    memset(fill, 'x', sizeof fill);
    ck_assert_int_eq(gc_state_set_bytes(f.st, "l0", fill, GC_VALUE_BYTES_MAX - 4, &err), GC_OK);
    static const char *const L[] = {"l0"};
    gc_contract c = {.domain_reads = L, .n_domain_reads = 1, .domain_writes = L,
                     .n_domain_writes = 1};
    ck_assert_int_eq(fx_run(&f, "list_append", modes[_i], 1, 1, 0, &c, NULL), GC_OK);
    ck_assert_msg(f.res[0].status == GC_OK, "%s", f.res[0].text);
    ck_assert_int_eq(f.res[0].value, GC_VALUE_BYTES_MAX);
    ck_assert_uint_eq(gc_state_version(f.st), 1);
    ck_assert_int_eq(fx_run(&f, "list_append", modes[_i], 1, 1, 0, &c, NULL), GC_OK);
    ck_assert_int_eq(f.res[0].status, GC_ELIMIT);
    ck_assert_str_eq(f.res[0].text, "list_append: 'l0' would pass 4096 bytes");
    ck_assert_uint_eq(f.res[0].committed_version, 0);
    ck_assert_uint_eq(gc_state_version(f.st), 1);
    const gc_value *v;
    ck_assert_int_eq(gc_state_get(f.st, "l0", &v), GC_OK);
    ck_assert_uint_eq(v->len, GC_VALUE_BYTES_MAX);
    ck_assert_mem_eq(v->ptr, fill, GC_VALUE_BYTES_MAX - 4);
    ck_assert_mem_eq((const char *)v->ptr + GC_VALUE_BYTES_MAX - 4, "0.1;", 4);
    fx_close(&f);
}
END_TEST

/* Every task's first attempt is built from the state as the run found it,
 * also when the contract only emits events or only sends messages: each
 * such attempt commits a version, and the next task's base is still the
 * run's (one base per run), in thread and process mode. */
START_TEST(event_or_message_only_runs_keep_one_base)
{
    fixture f;
    fx_open(&f);
    gc_contract ev = {.events = 1}, msg = {.outbox = 1};
    const char *const proc[] = {"emit", "send"};
    const gc_contract *const con[] = {&ev, &msg};
    uint64_t v0 = 0;
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(fx_run(&f, proc[i], modes[_i], 1, 3, 0, con[i], NULL), GC_OK);
        for (uint32_t t = 0; t < 3; t++) {
            ck_assert_msg(f.res[t].status == GC_OK, "%s task %u: %s %s", proc[i], t,
                          gc_status_name(f.res[t].status), f.res[t].text);
            ck_assert_uint_eq(f.res[t].base_version, v0);
            ck_assert_uint_eq(f.res[t].committed_version, v0 + t + 1);
        }
        v0 += 3;
    }
    ck_assert_int_eq(f.events.n, 3);
    ck_assert_int_eq(f.msgs.n, 3);
    fx_close(&f);
}
END_TEST

/* An integer range rule refuses a value that is not an integer, naming its
 * type and the range, whatever bits the value holds: an append to a bytes
 * key under a rule [0, 9] ends EVALIDATE and installs nothing, in thread and
 * process mode. */
START_TEST(int_range_rule_refuses_a_value_of_another_type)
{
    fixture f;
    fx_open(&f);
    gc_err err;
    ck_assert_int_eq(gc_state_set_bytes(f.st, "l", "", 0, &err), GC_OK);
    ck_assert_int_eq(gc_engine_rule_int_range(f.e, "l", 0, 9, &err), GC_OK);
    static const char *const L[] = {"l"};
    gc_contract c = {.domain_reads = L, .n_domain_reads = 1, .domain_writes = L,
                     .n_domain_writes = 1};
    ck_assert_int_eq(fx_run(&f, "append", modes[_i], 1, 1, 0, &c, NULL), GC_OK);
    ck_assert_int_eq(f.res[0].status, GC_EVALIDATE);
    ck_assert_ptr_nonnull(strstr(f.res[0].text, "is bytes, the rule wants an int in [0, 9]"));
    ck_assert_uint_eq(f.res[0].committed_version, 0);
    ck_assert_uint_eq(gc_state_version(f.st), 0);
    fx_close(&f);
}
END_TEST

/* ---- the engine lock ---------------------------------------------------------- */

/* Whether another thread is blocked on the engine lock, which this thread
 * holds: glibc marks a mutex contended (its futex word goes from 1 to 2) when
 * a waiter sleeps on it. Looks until that or until *flag says the other
 * thread finished without waiting (then *done is 1). */
static int lock_waited_on(gc_engine *e, const int *flag, int *done)
{
    int waiting = 0;
    *done = 0;
    for (int i = 0; i < 3000 && !*done && !waiting; i++) {
        *done = __atomic_load_n(flag, __ATOMIC_SEQ_CST);
        waiting = __atomic_load_n(&e->lock.__data.__lock, __ATOMIC_SEQ_CST) == 2;
        if (!*done && !waiting)
            usleep(1000);
    }
    return waiting;
}

/* One engine call made on another thread while this one holds the engine
 * lock (expect_waits_for_engine_lock); each call below sets what it returns. */
typedef struct lock_race {
    gc_engine *e;
    int (*call)(struct lock_race *r);
    gc_config cfg;        /* configure's argument, config_get's result */
    recorder rec;         /* subscribe's recorder */
    int rc, done;
} lock_race;

static void *lock_race_thread(void *arg)
{
    lock_race *r = arg;
    r->rc = r->call(r);
    __atomic_store_n(&r->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

/* The race is provoked deterministically rather than hoped for: this thread
 * holds the engine lock while another makes r->call. With the lock taken,
 * the call blocks, and glibc marks the mutex contended (its futex word goes
 * from 1 to 2 when a waiter sleeps on it): that, not a sleep, says it is
 * waiting. Without the lock the call completes under our hold. `held`, when
 * given, runs while the lock is still ours and the call waits (to change or
 * check what the call must not see half-way); `what` names the call. */
static void expect_waits_for_engine_lock(lock_race *r, void (*held)(lock_race *r),
                                         const char *what)
{
    pthread_t t;
    ck_assert_int_eq(pthread_mutex_lock(&r->e->lock), 0);
    ck_assert_int_eq(pthread_create(&t, NULL, lock_race_thread, r), 0);
    int done = 0, waiting = lock_waited_on(r->e, &r->done, &done);
    if (held)
        held(r);
    ck_assert_int_eq(pthread_mutex_unlock(&r->e->lock), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_msg(!done, "%s returned while another thread held the engine lock", what);
    ck_assert_msg(waiting, "%s never waited on the engine lock", what);
}

static int call_subscribe(lock_race *r)
{
    return gc_engine_subscribe(r->e, "t", record, &r->rec, NULL);
}

static void held_no_subscriber_yet(lock_race *r)
{
    ck_assert_uint_eq(r->e->nsubs, 0);
}

/* Subscribing grows the subscriber array that a commit on another thread
 * walks (commit.c delivers under the same lock), so it must hold the engine
 * lock: while this thread holds it the array stays as it was. */
START_TEST(subscribe_waits_for_the_engine_lock)
{
    gc_engine *e;
    gc_err err;
    ck_assert_int_eq(gc_engine_new(&e, &err), GC_OK);
    lock_race r = {.e = e, .call = call_subscribe};
    expect_waits_for_engine_lock(&r, held_no_subscriber_yet, "gc_engine_subscribe");
    ck_assert_int_eq(r.rc, GC_OK);
    ck_assert_uint_eq(e->nsubs, 1);
    gc_engine_free(e);
}
END_TEST

static int call_config_get(lock_race *r)
{
    r->cfg = gc_engine_config_get(r->e);
    return GC_OK;
}

/* What gc_engine_configure writes under the lock. */
static void held_configure_in_place(lock_race *r)
{
    r->e->cfg = (gc_config){.strict_contracts = 0, .commit = GC_COMMIT_STRICT};
}

/* gc_engine_config_get reads the configuration under the engine lock, so a
 * reader never sees one half-way through gc_engine_configure and never
 * releases a lock another thread holds: this thread changes the
 * configuration while it holds the lock; the reader waits, then sees the new
 * configuration whole. */
START_TEST(config_get_waits_for_the_engine_lock)
{
    gc_engine *e;
    gc_err err;
    ck_assert_int_eq(gc_engine_new(&e, &err), GC_OK);
    lock_race r = {.e = e, .call = call_config_get};
    expect_waits_for_engine_lock(&r, held_configure_in_place, "gc_engine_config_get");
    ck_assert_int_eq(r.cfg.strict_contracts, 0);
    ck_assert_int_eq(r.cfg.commit, GC_COMMIT_STRICT);
    /* The lock is free again: configure takes and releases it. */
    gc_config def = gc_config_default();
    ck_assert_int_eq(gc_engine_configure(e, &def, &err), GC_OK);
    ck_assert_int_eq(gc_engine_config_get(e).strict_contracts, 1);
    gc_engine_free(e);
}
END_TEST

static int call_configure(lock_race *r)
{
    return gc_engine_configure(r->e, &r->cfg, NULL);
}

static void held_config_unchanged(lock_race *r)
{
    ck_assert_int_eq(r->e->cfg.strict_contracts, 1);
    ck_assert_int_eq(r->e->cfg.commit, GC_COMMIT_SMART);
}

/* gc_engine_configure changes the configuration under the engine lock, which
 * a run holds from start to end (gc_execute_parallel), so a run's commit and
 * workers never see it change half-way: while this thread holds the lock
 * the configuration stays as it was; once the lock is free, the waiting
 * thread's configuration is installed. */
START_TEST(configure_waits_for_the_engine_lock)
{
    gc_engine *e;
    gc_err err;
    ck_assert_int_eq(gc_engine_new(&e, &err), GC_OK);
    lock_race r = {.e = e, .call = call_configure,
                   .cfg = {.strict_contracts = 0, .commit = GC_COMMIT_STRICT}};
    expect_waits_for_engine_lock(&r, held_config_unchanged, "gc_engine_configure");
    ck_assert_int_eq(r.rc, GC_OK);
    gc_config now = gc_engine_config_get(e);
    ck_assert_int_eq(now.strict_contracts, 0);
    ck_assert_int_eq(now.commit, GC_COMMIT_STRICT);
    gc_engine_free(e);
}
END_TEST

static int call_warm(lock_race *r)
{
    return gc_engine_warm(r->e, 1, NULL);
}

/* gc_engine_warm starts pool workers under the engine lock, which a run
 * holds from start to end, so a warm-up never forks into a pool a run is
 * using (INC-025's warm-up): it waits for the lock, then starts its worker. */
START_TEST(warm_waits_for_the_engine_lock)
{
    gc_engine *e;
    gc_err err;
    ck_assert_int_eq(gc_engine_new(&e, &err), GC_OK);
    lock_race r = {.e = e, .call = call_warm};
    expect_waits_for_engine_lock(&r, NULL, "gc_engine_warm");
    ck_assert_int_eq(r.rc, GC_OK);
    gc_engine_stats s;
    gc_engine_stats_get(e, &s);
    ck_assert_uint_eq(s.workers_live, 1);
    gc_engine_free(e);
}
END_TEST

static int call_rule(lock_race *r)
{
    return gc_engine_rule_int_range(r->e, "k", 0, 1, NULL);
}

static void held_no_rule_yet(lock_race *r)
{
    ck_assert_uint_eq(r->e->nrules, 0);
}

/* Adding a validation rule grows the rules array that a commit on another
 * thread walks (validate runs under the same lock), so it must hold the
 * engine lock: while this thread holds it the array stays as it was. */
START_TEST(rule_waits_for_the_engine_lock)
{
    gc_engine *e;
    gc_err err;
    ck_assert_int_eq(gc_engine_new(&e, &err), GC_OK);
    lock_race r = {.e = e, .call = call_rule};
    expect_waits_for_engine_lock(&r, held_no_rule_yet, "gc_engine_rule_int_range");
    ck_assert_int_eq(r.rc, GC_OK);
    ck_assert_uint_eq(e->nrules, 1);
    gc_engine_free(e);
}
END_TEST

static int record_noop(gc_ctx *ctx, gc_proc_out *out)
{
    (void)ctx, (void)out;
    return GC_OK;
}

static int call_register(lock_race *r)
{
    return gc_engine_register(r->e, "p", record_noop, NULL, NULL);
}

static void held_no_process_yet(lock_race *r)
{
    ck_assert_uint_eq(r->e->nprocs, 0);
}

/* Registering grows the registry that runs look processes up in (under the
 * same lock), so it must hold the engine lock: while this thread holds it
 * the registry stays as it was. */
START_TEST(register_waits_for_the_engine_lock)
{
    gc_engine *e;
    gc_err err;
    ck_assert_int_eq(gc_engine_new(&e, &err), GC_OK);
    lock_race r = {.e = e, .call = call_register};
    expect_waits_for_engine_lock(&r, held_no_process_yet, "gc_engine_register");
    ck_assert_int_eq(r.rc, GC_OK);
    ck_assert_uint_eq(e->nprocs, 1);
    gc_engine_free(e);
}
END_TEST

/* A configuration with an unknown commit mode is refused whole, with the
 * mode named: the engine keeps the configuration it had, and the next run,
 * in either mode, runs under it. */
START_TEST(unknown_commit_mode_is_refused_and_the_config_kept)
{
    fixture f;
    fx_open(&f);
    gc_err err;
    ck_assert_int_eq(gc_state_set_str(f.st, "key", "sib", &err), GC_OK);
    gc_config lax = {.strict_contracts = 0, .commit = GC_COMMIT_STRICT};
    ck_assert_int_eq(gc_engine_configure(f.e, &lax, &err), GC_OK);
    gc_config bad = {.strict_contracts = 1, .commit = (gc_commit_mode)2};
    gc_err_clear(&err);
    ck_assert_int_eq(gc_engine_configure(f.e, &bad, &err), GC_EINVAL);
    ck_assert_str_eq(err.msg, "gc_engine_configure: commit mode 2 is neither smart nor strict");
    gc_config now = gc_engine_config_get(f.e);
    ck_assert_int_eq(now.strict_contracts, 0);
    ck_assert_int_eq(now.commit, GC_COMMIT_STRICT);
    /* Lax contracts still hold: an undeclared key is read and counted. */
    static const char *const dom[] = {"key"};
    gc_contract c = {.domain_reads = dom, .n_domain_reads = 1};
    ck_assert_int_eq(fx_run(&f, "peek", modes[_i], 2, 2, 0, &c, NULL), GC_OK);
    for (int t = 0; t < 2; t++) {
        ck_assert_msg(f.res[t].status == GC_OK, "task %d: %s %s", t,
                      gc_status_name(f.res[t].status), f.res[t].text);
        ck_assert_int_eq(f.res[t].value, 7);
        ck_assert_uint_eq(f.res[t].undeclared_reads, 1);
    }
    fx_close(&f);
}
END_TEST

Suite *suite_commit(void)
{
    Suite *s = suite_create("commit");
    TCase *u = tcase_create("units");
    tcase_add_test(u, state_versions_start_at_zero_and_only_commits_make_one);
    tcase_add_test(u, write_set_api_refuses_what_the_contract_does_not_declare);
    tcase_add_test(u, write_set_round_trip);
    tcase_add_test(u, write_set_limits_at_their_exact_maximum);
    tcase_add_test(u, install_fills_the_domain_to_its_exact_maximum);
    tcase_add_test(u, write_set_room_counts_eight_bytes_for_a_number);
    tcase_add_loop_test(u, write_set_decoder_rejects, 0, (int)N(wrejects));
    tcase_add_test(u, write_set_refusals_name_the_repeat_and_the_room);
    tcase_add_test(u, write_set_decoder_refuses_any_repeated_message_id);
    tcase_add_test(u, adopt_refuses_undeclared_writes_from_a_reply);
    tcase_add_test(u, adopt_refuses_a_read_one_past_the_domain);
    tcase_add_test(u, configuration_crosses_the_wire);
    tcase_add_test(u, outbox_without_sink_is_refused_before_any_worker_runs);
    tcase_add_test(u, subscribe_waits_for_the_engine_lock);
    tcase_add_test(u, history_null_arguments);
    tcase_add_test(u, write_set_counts_a_key_set_again_once);
    tcase_add_test(u, configure_null_arguments);
    tcase_add_test(u, rules_null_arguments);
    tcase_add_test(u, int_range_rule_refuses_min_above_max);
    tcase_add_test(u, subscribers_capped_and_null_arguments_refused);
    tcase_add_test(u, subscription_refuses_a_bad_topic_name);
    tcase_add_test(u, events_past_the_reply_size_are_refused);
    tcase_add_test(u, thread_mode_starts_no_more_threads_than_tasks);
    tcase_add_test(u, config_get_waits_for_the_engine_lock);
    tcase_add_test(u, configure_waits_for_the_engine_lock);
    tcase_add_test(u, warm_waits_for_the_engine_lock);
    tcase_add_test(u, rule_waits_for_the_engine_lock);
    tcase_add_test(u, register_waits_for_the_engine_lock);
    tcase_add_test(u, write_set_room_is_exact_at_its_boundary);
    tcase_add_test(u, write_set_refusals_name_their_limits);
    tcase_add_test(u, return_write_back_keeps_the_size_exact);
    tcase_add_test(u, returned_value_fits_the_reply_exactly);
    tcase_add_test(u, outbox_take_appends_each_write_set_in_order);
    tcase_add_test(u, context_refuses_a_sized_write_without_data);
    tcase_add_test(u, context_refuses_unknown_commit_mode_and_value_type);
    suite_add_tcase(s, u);
    TCase *m = tcase_create("both_modes");
    tcase_set_timeout(m, 30);
    tcase_add_loop_test(m, configuration_change_reaches_warm_workers, 0, 2);
    tcase_add_loop_test(m, strict_commit_refuses_stale_disjoint_writes, 0, 2);
    tcase_add_loop_test(m, concurrent_increments_end_at_n, 0, 2);
    tcase_add_loop_test(m, no_retries_exactly_one_commits, 0, 2);
    tcase_add_loop_test(m, disjoint_keys_never_conflict, 0, 2);
    tcase_add_loop_test(m, validation_failure_delivers_nothing, 0, 2);
    tcase_add_loop_test(m, check_function_rule, 0, 2);
    tcase_add_loop_test(m, long_rule_reason_is_kept_whole, 0, 2);
    tcase_add_loop_test(m, int_range_rule_includes_its_maximum, 0, 2);
    tcase_add_loop_test(m, int_range_rule_on_a_longest_key_is_enforced, 0, 2);
    tcase_add_loop_test(m, retry_after_conflict_delivers_once, 0, 2);
    tcase_add_loop_test(m, failed_attempt_leaves_nothing, 0, 2);
    tcase_add_loop_test(m, pure_context_refuses_every_write, 0, 2);
    tcase_add_loop_test(m, timed_out_attempt_leaves_nothing, 0, 2);
    tcase_add_loop_test(m, returned_value_wins_over_a_set, 0, 2);
    tcase_add_loop_test(m, numbers_are_written_by_their_value_alone, 0, 2);
    tcase_add_loop_test(m, five_sequential_appends_keep_five, 0, 2);
    tcase_add_loop_test(m, history_records_every_attempt, 0, 2);
    tcase_add_loop_test(m, history_records_written_bytes, 0, 2);
    tcase_add_loop_test(m, history_grows_past_its_first_allocation, 0, 2);
    tcase_add_loop_test(m, history_records_message_deliveries, 0, 2);
    tcase_add_loop_test(m, retry_with_more_messages_delivers_the_last_attempts, 0, 2);
    tcase_add_loop_test(m, unknown_commit_mode_is_refused_and_the_config_kept, 0, 2);
    tcase_add_loop_test(m, wall_time_spans_every_attempt, 0, 2);
    tcase_add_loop_test(m, message_only_attempt_is_delivered_at_its_version, 0, 2);
    tcase_add_loop_test(m, validation_of_one_key_refuses_the_whole_attempt, 0, 2);
    tcase_add_loop_test(m, list_append_text_names_the_element_and_key, 0, 2);
    tcase_add_loop_test(m, conflict_on_the_last_of_four_writes, 0, 2);
    tcase_add_loop_test(m, delivered_payload_names_the_committed_attempt, 0, 2);
    tcase_add_loop_test(m, fail_after_write_reports_its_own_failure, 0, 2);
    tcase_add_loop_test(m, conflict_without_a_declared_write_says_so, 0, 2);
    tcase_add_loop_test(m, subscribers_receive_only_their_topic, 0, 2);
    tcase_add_loop_test(m, registered_contract_decides_events_and_messages, 0, 2);
    tcase_add_loop_test(m, peek_without_a_key_name_reports_why, 0, 2);
    tcase_add_loop_test(m, list_append_refuses_a_list_key_that_is_not_bytes, 0, 2);
    tcase_add_loop_test(m, list_append_value_is_the_new_length, 0, 2);
    tcase_add_loop_test(m, list_append_stops_at_the_value_limit, 0, 2);
    tcase_add_loop_test(m, event_or_message_only_runs_keep_one_base, 0, 2);
    tcase_add_loop_test(m, int_range_rule_refuses_a_value_of_another_type, 0, 2);
    suite_add_tcase(s, m);
    return s;
}
