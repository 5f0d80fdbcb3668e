/* harness case module, machine probes: the closed set of requirements a case
 * may name in `requires`, each one row (name, argument, what it means, how
 * it is probed). The parser accepts exactly these names, its error message
 * lists them, and cases/README.md's table is printed from the same rows. */
#include "probe.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "gapcheck/census.h"
#include "syntax.h"

/* A requirement: `name` alone, or `name` followed by an argument (`arg`
 * says which: "N" an integer 1..4096, "SIZE" a size with a unit). */
typedef struct hc_req_def {
    const char *name;
    const char *arg;
    int (*met)(const char *arg, char *detail, size_t len);
    const char *doc;
} hc_req_def;

static int have_memfd(int seals)
{
    int fd = memfd_create("gapcheck-probe", MFD_CLOEXEC | (seals ? MFD_ALLOW_SEALING : 0));
    if (fd < 0)
        return 0;
    int ok = 1;
    /* F_SEAL_FUTURE_WRITE (Linux 5.1) is what makes the zone read-only for
     * workers that map it later; probing it is the point of "seals". */
    if (seals && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE) != 0)
        ok = 0;
    close(fd);
    return ok;
}

static int met_memfd(const char *arg, char *detail, size_t len)
{
    (void)arg;
    snprintf(detail, len, "memfd_create failed");
    return have_memfd(0);
}

static int met_seals(const char *arg, char *detail, size_t len)
{
    (void)arg;
    snprintf(detail, len, "memfd seals (F_SEAL_FUTURE_WRITE) unavailable");
    return have_memfd(1);
}

static int met_valgrind(const char *arg, char *detail, size_t len)
{
    (void)arg;
    snprintf(detail, len, "valgrind is not on PATH (apt-get install valgrind)");
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/bin:/bin";
    char buf[4096];
    while (*path) {
        const char *colon = strchr(path, ':');
        size_t n = colon ? (size_t)(colon - path) : strlen(path);
        if (n && (size_t)snprintf(buf, sizeof buf, "%.*s/valgrind", (int)n, path) < sizeof buf &&
            access(buf, X_OK) == 0)
            return 1;
        path += n + (colon != NULL);
    }
    return 0;
}

/* valgrind hands out descriptors past a lowered RLIMIT_NOFILE and manages
 * the address space itself: limits do not mean there what they mean to the
 * kernel. */
static int met_native_limits(const char *arg, char *detail, size_t len)
{
    (void)arg;
    snprintf(detail, len, "running under valgrind");
    return !gc_census_under_valgrind();
}

static int met_cores(const char *arg, char *detail, size_t len)
{
    long have = sysconf(_SC_NPROCESSORS_ONLN);
    snprintf(detail, len, "%ld cores online", have);
    return have >= strtol(arg, NULL, 10);
}

static int met_mem(const char *arg, char *detail, size_t len)
{
    uint64_t want = 0, have = hc_probe_mem_available();
    hc__parse_size(arg, &want);
    snprintf(detail, len, "%llu MiB available", (unsigned long long)(have >> 20));
    return have >= want;
}

static const hc_req_def hc_reqs[] = {
    {"memfd", NULL, met_memfd, "`memfd_create` works"},
    {"seals", NULL, met_seals,
     "a memfd can be sealed with `F_SEAL_FUTURE_WRITE` (Linux 5.1+), which is what makes the "
     "heavy zone read-only for workers"},
    {"valgrind", NULL, met_valgrind, "`valgrind` is on `PATH`"},
    {"native-limits", NULL, met_native_limits,
     "not running under valgrind, which hands out descriptors past a lowered `RLIMIT_NOFILE` "
     "and manages the address space itself (the `[run]` limit cases need this)"},
    {"cores>=", "N", met_cores, "at least N CPUs online"},
    {"mem>=", "SIZE", met_mem,
     "at least SIZE (`512MiB`, units as for sizes) in `MemAvailable`"},
};
static const size_t hc_nreqs = sizeof hc_reqs / sizeof hc_reqs[0];

/* The row of `r` and where its argument starts, or NULL. */
static const hc_req_def *req_find(const char *r, const char **arg)
{
    for (size_t i = 0; i < hc_nreqs; i++) {
        const hc_req_def *d = &hc_reqs[i];
        size_t n = strlen(d->name);
        if (d->arg ? strncmp(r, d->name, n) != 0 : strcmp(r, d->name) != 0)
            continue;
        *arg = r + n;
        if (!d->arg)
            return d;
        uint32_t u;
        uint64_t sz;
        if (strcmp(d->arg, "N") == 0 ? hc__parse_u32(*arg, 1, 4096, &u) == 0
                                     : hc__parse_size(*arg, &sz) == 0)
            return d;
    }
    return NULL;
}

int hc_probe_requirement_ok(const char *r)
{
    const char *arg;
    return req_find(r, &arg) != NULL;
}

int hc_probe_requirement_met(const char *r, char *detail, size_t len)
{
    const char *arg;
    const hc_req_def *d = req_find(r, &arg);
    char scratch[8];
    if (!detail || !len)
        detail = scratch, len = sizeof scratch;
    if (!d) {
        snprintf(detail, len, "unknown requirement");
        return 0;
    }
    return d->met(arg, detail, len);
}

void hc_probe_requirements_known(char *buf, size_t len)
{
    size_t used = 0;
    if (len)
        buf[0] = '\0';
    for (size_t i = 0; i < hc_nreqs && used < len; i++) {
        int n = snprintf(buf + used, len - used, "%s%s%s", i ? ", " : "", hc_reqs[i].name,
                         hc_reqs[i].arg ? hc_reqs[i].arg : "");
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

int hc_probe_requirements_markdown(FILE *f)
{
    int bad = fputs("| requirement | met when |\n| --- | --- |\n", f) < 0;
    for (size_t i = 0; i < hc_nreqs; i++)
        bad |= fprintf(f, "| `%s%s` | %s |\n", hc_reqs[i].name,
                       hc_reqs[i].arg ? hc_reqs[i].arg : "", hc_reqs[i].doc) < 0;
    return bad ? -1 : 0;
}

uint64_t hc_probe_mem_available(void)
{
    FILE *f = fopen("/proc/meminfo", "re");
    if (!f)
        return 0;
    char line[256];
    unsigned long long kib = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %llu kB", &kib) == 1)
            break;
    fclose(f);
    return (uint64_t)kib * 1024;
}
