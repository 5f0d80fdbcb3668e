/* harness: leak accounting around a case (see leaks.h). The counting itself
 * is the engine's census (gapcheck/census.h), shared with the engine's tests;
 * this module turns two censuses into what a case left behind. */
#include "leaks.h"

#include "gapcheck/census.h"
#include "gapcheck/status.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int hr_leaks_snapshot(hr_leaks *out, char *err, size_t errlen)
{
    gc_census c;
    int rc = gc_census_take(&c);
    *out = (hr_leaks){.fds = c.fds, .memfds = c.memfds, .maps = c.maps, .children = c.children};
    if (rc == GC_OK)
        return 0;
    snprintf(err, errlen, "cannot count descriptors, mappings and children in /proc/self: %s",
             strerror(errno));
    return -1;
}

static int hr__pos(int a, int b)
{
    return a > b ? a - b : 0;
}

void hr_leaks_diff(const hr_leaks *before, const hr_leaks *after, hr_leaks *out)
{
    out->fds = hr__pos(after->fds, before->fds);
    out->memfds = hr__pos(after->memfds, before->memfds);
    out->maps = hr__pos(after->maps, before->maps);
    out->children = hr__pos(after->children, before->children);
}

int hr_leaks_any(const hr_leaks *l)
{
    return l->fds > 0 || l->memfds > 0 || l->maps > 0 || l->children > 0;
}

void hr_leaks_describe(const hr_leaks *l, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = '\0';
#define HR_APPEND(...)                                                    \
    do {                                                                  \
        int n_ = snprintf(buf + o, o < len ? len - o : 0, __VA_ARGS__);   \
        if (n_ > 0)                                                       \
            o += (size_t)n_;                                              \
        if (o >= len)                                                     \
            o = len - 1;                                                  \
    } while (0)
    if (l->fds > 0) {
        HR_APPEND("%d descriptor%s", l->fds, l->fds == 1 ? "" : "s");
        if (l->memfds > 0)
            HR_APPEND(" (%d memfd%s)", l->memfds, l->memfds == 1 ? "" : "s");
    } else if (l->memfds > 0) {
        HR_APPEND("%d memfd%s", l->memfds, l->memfds == 1 ? "" : "s");
    }
    if (l->maps > 0)
        HR_APPEND("%s%d memfd mapping%s", o ? ", " : "", l->maps, l->maps == 1 ? "" : "s");
    if (l->children > 0)
        HR_APPEND("%s%d child process%s", o ? ", " : "", l->children,
                  l->children == 1 ? "" : "es");
    if (o == 0)
        HR_APPEND("nothing");
#undef HR_APPEND
}
