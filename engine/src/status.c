/* Status names and texts: the closed set of outcomes the engine reports. */
#include "gapcheck/status.h"

#include <string.h>
#include <strings.h>

static const struct {
    int code;
    const char *name;
    const char *text;
} status_table[] = {
    {GC_OK, "OK", "success"},
    {GC_EINVAL, "EINVAL", "invalid argument"},
    {GC_ENOMEM, "ENOMEM", "out of memory"},
    {GC_ESYS, "ESYS", "system call failed"},
    {GC_ENOTFOUND, "ENOTFOUND", "not found"},
    {GC_EEXIST, "EEXIST", "already exists"},
    {GC_ECONTRACT, "ECONTRACT", "access outside the process contract"},
    {GC_EREADONLY, "EREADONLY", "write to a read-only entry refused"},
    {GC_EWIRE, "EWIRE", "malformed message"},
    {GC_ELIMIT, "ELIMIT", "hard limit exceeded"},
    {GC_ESTATE, "ESTATE", "wrong lifecycle state"},
    {GC_ECRASH, "ECRASH", "worker killed by a signal"},
    {GC_EEXIT, "EEXIT", "worker exited during a task"},
    {GC_ETIMEOUT, "ETIMEOUT", "task passed its deadline"},
    {GC_EUNSUPPORTED, "EUNSUPPORTED", "not supported in this mode"},
    {GC_EPROC, "EPROC", "process reported failure"},
    {GC_EBUSY, "EBUSY", "resource busy"},
    {GC_ECONFLICT, "ECONFLICT", "commit conflict: the state changed since the task's base"},
    {GC_EVALIDATE, "EVALIDATE", "a write failed validation"},
};

#define STATUS_COUNT (sizeof status_table / sizeof status_table[0])

const char *gc_status_name(int status)
{
    for (size_t i = 0; i < STATUS_COUNT; i++)
        if (status_table[i].code == status)
            return status_table[i].name;
    return "EUNKNOWN";
}

const char *gc_status_text(int status)
{
    for (size_t i = 0; i < STATUS_COUNT; i++)
        if (status_table[i].code == status)
            return status_table[i].text;
    return "unknown status";
}

int gc_status_parse(const char *name, int *out)
{
    if (!name)
        return GC_EINVAL;
    if (strncasecmp(name, "GC_", 3) == 0)
        name += 3;
    for (size_t i = 0; i < STATUS_COUNT; i++) {
        if (strcasecmp(status_table[i].name, name) == 0) {
            *out = status_table[i].code;
            return GC_OK;
        }
    }
    return GC_EINVAL;
}
