/* Fuzz target writeset_decode: the decoder of the write set a process worker
 * sends back in its reply (gc__wset_decode, engine/src/wset.c). A worker may
 * be broken or hostile; what the decoder accepts goes straight to the commit
 * path, so it must hold: every count and length within the hard limits,
 * every name valid, keys and message ids unique, read indices below the
 * context's key count and increasing, and re-encoding gives the message back
 * byte for byte (the encoding is canonical: nothing kept or dropped). An
 * error has a status, a reason and leaves nothing allocated.
 * Input: n_domain u8 (the receiving context's key count), then the message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fz.h"
#include "gapcheck/status.h"
#include "wset_int.h"

static uint8_t reenc[GC_WSET_MSG_MAX];

static void check_names(const gc__wset *ws)
{
    FZ_CHECK(ws->n_writes <= GC_DOMAIN_MAX && ws->n_events <= GC_EVENTS_MAX &&
             ws->n_msgs <= GC_MESSAGES_MAX, "counts %zu/%zu/%zu over the limits", ws->n_writes,
             ws->n_events, ws->n_msgs);
    for (size_t i = 0; i < ws->n_writes; i++) {
        const struct gc__write *w = &ws->writes[i];
        FZ_CHECK(gc_name_check(w->name, "key", NULL) == GC_OK, "write[%zu] name invalid", i);
        FZ_CHECK(w->source == GC__WRITE_SET || w->source == GC__WRITE_RETURN, "source %u",
                 w->source);
        if (w->v.type == GC_VAL_STR || w->v.type == GC_VAL_BYTES)
            FZ_CHECK(w->v.len <= GC_VALUE_BYTES_MAX && w->v.ptr, "write[%zu] value", i);
        for (size_t j = 0; j < i; j++)
            FZ_CHECK(strcmp(ws->writes[j].name, w->name) != 0, "key '%s' twice", w->name);
    }
    for (size_t i = 0; i < ws->n_msgs; i++)
        for (size_t j = 0; j < i; j++)
            FZ_CHECK(strcmp(ws->msgs[j].id, ws->msgs[i].id) != 0, "message id twice");
    for (size_t i = 0; i < ws->n_events + ws->n_msgs; i++) {
        const struct gc__event *e = i < ws->n_events ? &ws->events[i]
                                                     : &ws->msgs[i - ws->n_events];
        FZ_CHECK(e->len <= GC_PAYLOAD_MAX && e->payload, "payload %zu", i);
        FZ_CHECK(gc_name_check(e->topic, "topic", NULL) == GC_OK, "topic %zu invalid", i);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t n_domain = data[0];
    const uint8_t *msg = data + 1;
    size_t len = size - 1;
    gc__wset ws;
    gc_err err;
    gc_err_clear(&err);
    int rc = gc__wset_decode(msg, len, n_domain, &ws, &err);
    if (fz_debug())
        fprintf(stderr, "writeset_decode: %s %s\n", gc_status_name(rc), err.msg);
    if (rc != GC_OK) {
        FZ_CHECK(rc < 0 && rc >= GC_STATUS_MIN && err.status == rc && err.msg[0],
                 "error %d without a reason", rc);
        FZ_CHECK(ws.writes == NULL && ws.events == NULL && ws.msgs == NULL && ws.reads == NULL,
                 "an error left the write set allocated");
        return 0;
    }
    check_names(&ws);
    for (size_t i = 0; i < ws.n_reads; i++)
        FZ_CHECK(ws.reads[i] < n_domain && (i == 0 || ws.reads[i] > ws.reads[i - 1]),
                 "read[%zu] = %u of %zu", i, ws.reads[i], n_domain);
    size_t n = 0;
    rc = gc__wset_encode(&ws, ws.reads, ws.n_reads, reenc, sizeof reenc, &n, &err);
    FZ_CHECK(rc == GC_OK && n == len && memcmp(reenc, msg, len) == 0,
             "re-encoding gives %zu bytes (rc %d), the message had %zu", n, rc, len);
    gc__wset_free(&ws);
    return 0;
}
