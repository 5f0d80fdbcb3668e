/* gapcheck engine: error reasons.
 *
 * Functions that can fail for a reason a user must read take an optional
 * gc_err* (NULL is allowed). On failure they fill it with the status and a
 * one-line reason naming the field, key or limit involved. A reason for
 * GC_ENOMEM says what ran "out of memory"; one for GC_ESYS names the system
 * call that failed and its errno as strerror spells it (the anomaly loops,
 * engine/tests/anomaly, hold every injected failure to this). */
#ifndef GAPCHECK_ERROR_H
#define GAPCHECK_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

#define GC_ERR_MSG_MAX 256

typedef struct gc_err {
    int status;                 /* GC_OK or a negative gc_status */
    char msg[GC_ERR_MSG_MAX];   /* "" when status is GC_OK */
} gc_err;

/* Record status and a printf-style reason in err (if err is not NULL);
 * returns status so that callers can write `return gc_err_set(...)`. */
int gc_err_set(gc_err *err, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void gc_err_clear(gc_err *err);

#ifdef __cplusplus
}
#endif
#endif
