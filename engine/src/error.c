/* Error reasons: a status plus one formatted line, filled where it happens. */
#include "gapcheck/error.h"

#include <stdarg.h>
#include <stdio.h>

#include "gapcheck/status.h"

int gc_err_set(gc_err *err, int status, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->status = status;
    }
    return status;
}

void gc_err_clear(gc_err *err)
{
    if (err) {
        err->status = GC_OK;
        err->msg[0] = '\0';
    }
}
