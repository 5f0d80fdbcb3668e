/* Validation of result messages from workers. A worker may be broken or
 * hostile, so every field is checked before the main process believes it. */
#include "proto.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "gapcheck/status.h"

size_t gc__result_len(const gc__result_msg *m)
{
    return offsetof(gc__result_msg, text) + m->text_len;
}

int gc__result_check(const void *buf, size_t len, uint32_t task, gc_result *r,
                     uint64_t *held_gen, const uint8_t **wset, size_t *wset_len, gc_err *err)
{
    gc__result_msg m;
    const size_t head = GC_PROTO_RESULT_HEAD;
    if (len < head)
        return gc_err_set(err, GC_EWIRE, "result message of %zu bytes is shorter than its header (%zu)",
                          len, head);
    if (len > GC_PROTO_REPLY_MAX)
        return gc_err_set(err, GC_EWIRE, "oversized result message: %zu bytes, maximum %zu", len,
                          (size_t)GC_PROTO_REPLY_MAX);
    memset(&m, 0, sizeof m);
    memcpy(&m, buf, len < sizeof m ? len : sizeof m);
    if (m.magic != GC_PROTO_RESULT_MAGIC)
        return gc_err_set(err, GC_EWIRE, "result message has bad magic 0x%08x", m.magic);
    if (m.task != task)
        return gc_err_set(err, GC_EWIRE, "result message answers task %u, expected task %u", m.task,
                          task);
    if (m.text_len > GC_RESULT_TEXT_MAX - 1 || m.wset_len > GC_WSET_MSG_MAX ||
        head + m.text_len + m.wset_len != len)
        return gc_err_set(err, GC_EWIRE, "result message text length %u and write set length %u "
                          "do not match its size %zu", m.text_len, m.wset_len, len);
    if (m.status > 0 || m.status < GC_STATUS_MIN)
        return gc_err_set(err, GC_EWIRE, "result message has unknown status %d", m.status);
    if (memchr(m.text, '\0', m.text_len))
        return gc_err_set(err, GC_EWIRE, "result message text contains a NUL byte");
    *held_gen = m.held_gen;
    r->status = m.status;
    r->violations = m.violations;
    r->value = m.value;
    r->exec_ns = m.exec_ns;
    r->undeclared_reads = m.undeclared_reads;
    memcpy(r->text, m.text, m.text_len);
    r->text[m.text_len] = '\0';
    *wset = (const uint8_t *)buf + head + m.text_len;
    *wset_len = m.wset_len;
    return GC_OK;
}
