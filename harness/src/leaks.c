/* harness: /proc/self accounting (see leaks.h). Uses only raw syscalls-level
 * APIs (opendir/readlink/fopen) and fixed buffers: it runs in a forked child
 * right around the case, and must not itself leave anything behind. */
#include "leaks.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int hr__count_fds(hr_leaks *out)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int self = dirfd(d);   /* the directory's own descriptor is not the case's */
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        int fd = atoi(e->d_name);
        if (fd == self)
            continue;
        out->fds++;
        char link[64], target[256];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n > 0) {
            target[n] = '\0';
            if (strstr(target, "memfd:"))
                out->memfds++;
        }
    }
    closedir(d);
    return 0;
}

static int hr__count_maps(hr_leaks *out)
{
    FILE *f = fopen("/proc/self/maps", "re");
    if (!f)
        return -1;
    char line[4096 + 256];
    while (fgets(line, sizeof line, f)) {
        if (strstr(line, "memfd:"))
            out->maps++;
        /* A line longer than the buffer continues in the next read; that
         * tail cannot start a new mapping, so skip to its end. */
        while (!strchr(line, '\n') && fgets(line, sizeof line, f))
            ;
    }
    fclose(f);
    return 0;
}

static int hr__count_children(hr_leaks *out)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return -1;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[300];
        snprintf(path, sizeof path, "/proc/self/task/%s/children", e->d_name);
        FILE *f = fopen(path, "re");
        if (!f) {
            rc = -1;   /* kernel without CONFIG_PROC_CHILDREN: cannot count */
            continue;
        }
        int c;
        int in_pid = 0;
        while ((c = fgetc(f)) != EOF) {
            if (c >= '0' && c <= '9') {
                if (!in_pid)
                    out->children++;
                in_pid = 1;
            } else {
                in_pid = 0;
            }
        }
        fclose(f);
    }
    closedir(d);
    return rc;
}

int hr_leaks_snapshot(hr_leaks *out)
{
    memset(out, 0, sizeof *out);
    int rc = 0;
    /* Maps before fds: fopen's FILE is closed again before the fd count. */
    if (hr__count_maps(out) != 0)
        rc = -1;
    if (hr__count_fds(out) != 0)
        rc = -1;
    if (hr__count_children(out) != 0)
        rc = -1;
    if (rc != 0)
        memset(out, 0, sizeof *out);
    return rc;
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
