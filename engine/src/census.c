/* /proc/self accounting (see census.h). Fixed buffers and plain
 * opendir/readlink/fopen: it runs right around the code it checks and must
 * not itself leave anything behind. Maps are read before descriptors so the
 * FILE it opens is closed again before descriptors are counted. */
#include "gapcheck/census.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "engine_int.h"
#include "gapcheck/status.h"

/* The kernel names a memfd "/memfd:" + its name + " (deleted)", in a
 * descriptor's link and in the path field of its mappings. */
int gc__link_is_memfd(const char *link)
{
    return strncmp(link, "/memfd:", 7) == 0;
}

/* The path is the sixth field, after address, permissions, offset, device
 * and inode (an anonymous mapping has none); a line with fewer fields, such
 * as the tail of a line too long for the reader's buffer, maps nothing. */
int gc__maps_line_is_memfd(const char *line)
{
    int path = -1;
    (void)sscanf(line, "%*s %*s %*s %*s %*s %n", &path);
    return path >= 0 && gc__link_is_memfd(line + path);
}

static int count_fds(gc_census *out)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    struct rlimit rl;
    rlim_t limit = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? rl.rlim_cur : RLIM_INFINITY;
    int self = dirfd(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        int fd = atoi(e->d_name);
        if (fd == self || (rlim_t)fd >= limit)
            continue;
        out->fds++;
        if (fd + 1 > out->fd_top)
            out->fd_top = fd + 1;
        char link[64], target[256];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n > 0) {
            target[n] = '\0';
            out->memfds += gc__link_is_memfd(target);
        }
    }
    closedir(d);
    return 0;
}

static int count_maps(gc_census *out)
{
    FILE *f = fopen("/proc/self/maps", "re");
    if (!f)
        return -1;
    char line[4096 + 256];
    while (fgets(line, sizeof line, f)) {
        out->maps += gc__maps_line_is_memfd(line);
        /* A line longer than the buffer continues in the next read; that
         * tail cannot start a new mapping, so skip to its end. */
        while (!strchr(line, '\n') && fgets(line, sizeof line, f))
            ;
    }
    fclose(f);
    return 0;
}

static int read_rss(gc_census *out)
{
    FILE *f = fopen("/proc/self/status", "re");
    if (!f)
        return -1;
    char line[256];
    int rss = 0, vm = 0;
    while (!(rss && vm) && fgets(line, sizeof line, f)) {
        rss |= sscanf(line, "VmRSS: %ld kB", &out->rss_kb) == 1;
        vm |= sscanf(line, "VmSize: %ld kB", &out->vm_kb) == 1;
    }
    fclose(f);
    return rss && vm ? 0 : -1;
}

static int count_children(gc_census *out)
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
        int c, in_pid = 0;
        while ((c = fgetc(f)) != EOF) {
            int digit = c >= '0' && c <= '9';
            out->children += digit && !in_pid;
            in_pid = digit;
        }
        fclose(f);
    }
    closedir(d);
    return rc;
}

int gc_census_under_valgrind(void)
{
    const char *preload = getenv("LD_PRELOAD");
    return preload && strstr(preload, "vgpreload") != NULL;
}

int gc_census_take(gc_census *out)
{
    memset(out, 0, sizeof *out);
    int ok = count_maps(out) == 0;
    ok &= count_fds(out) == 0;
    ok &= count_children(out) == 0;
    ok &= read_rss(out) == 0;
    if (!ok) {
        memset(out, 0, sizeof *out);
        return GC_ESYS;
    }
    return GC_OK;
}
