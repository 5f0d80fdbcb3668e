/* gapcheck engine: status codes.
 *
 * Every engine function returns an int status: GC_OK (0) or one of the
 * negative codes below. Callers decide what to do; the engine never exits.
 * gc_status_name() gives a stable identifier ("ECONTRACT") used in case files
 * and reports; gc_status_text() a human sentence. */
#ifndef GAPCHECK_STATUS_H
#define GAPCHECK_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

enum gc_status {
    GC_OK = 0,
    GC_EINVAL = -1,      /* bad argument or name */
    GC_ENOMEM = -2,      /* allocation failed (errno is ENOMEM) */
    GC_ESYS = -3,        /* a system call failed (errno kept where possible) */
    GC_ENOTFOUND = -4,   /* no such key, entry or process */
    GC_EEXIST = -5,      /* name already present */
    GC_ECONTRACT = -6,   /* access outside the process's contract */
    GC_EREADONLY = -7,   /* write to a read-only (sealed) entry was refused */
    GC_EWIRE = -8,       /* malformed context or result message */
    GC_ELIMIT = -9,      /* a hard limit (count, size) was exceeded */
    GC_ESTATE = -10,     /* wrong lifecycle state (e.g. zone not published) */
    GC_ECRASH = -11,     /* worker died by a signal */
    GC_EEXIT = -12,      /* worker exited during a task */
    GC_ETIMEOUT = -13,   /* task passed its deadline */
    GC_EUNSUPPORTED = -14, /* not possible in this mode (e.g. crash in a thread) */
    GC_EPROC = -15,      /* the process function itself reported failure */
    GC_EBUSY = -16,      /* resource in use */
    GC_ECONFLICT = -17,  /* the state moved under the task's writes, retries used up */
    GC_EVALIDATE = -18   /* a write broke a validation rule; nothing was installed */
};

#define GC_STATUS_MIN GC_EVALIDATE

/* Stable short name without the GC_ prefix, e.g. "ETIMEOUT"; "OK" for 0.
 * Unknown codes give "EUNKNOWN". Never NULL. */
const char *gc_status_name(int status);
/* One-line description. Never NULL. */
const char *gc_status_text(int status);
/* Parse a name as produced by gc_status_name (with or without "GC_"):
 * returns GC_OK and sets *out, or GC_EINVAL. */
int gc_status_parse(const char *name, int *out);

#ifdef __cplusplus
}
#endif
#endif
