/* harness: command-line parsing (see opts.h). Hand-written rather than
 * getopt_long so that it is reentrant (tests parse many command lines) and
 * every error names the option and the accepted range in our own words. */
#include "opts.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"

void hr_usage(FILE *f, const char *argv0)
{
    char names[128], dflt[128], files[256] = "";
    hr_formats_names(names, sizeof names, 0);
    hr_formats_names(dflt, sizeof dflt, 1);
    for (size_t i = 0, used = 0; i < hr_nformats && used < sizeof files; i++) {
        int n = snprintf(files + used, sizeof files - used, "%s%s", i ? ", " : "",
                         hr_formats[i].file);
        used += n > 0 ? (size_t)n : 0;
    }
    fprintf(f,
        "usage: %s run [OPTION...] [PATH...]\n"
        "       %s verify [--help | OPTION...] [INC-ID...]   (incident verification)\n"
        "       %s --help | --version\n"
        "\n"
        "Runs end-to-end cases (*.case files found recursively under each PATH,\n"
        "default: cases), each in its own child process and process group, with a\n"
        "deadline, resource accounting and leak checks; writes results to DIR.\n"
        "\n"
        "options:\n"
        "  -f, --filter GLOB      keep results whose id (\"INC-014.x[thread]\"), or case id\n"
        "                         without the mode, matches GLOB (fnmatch) or equals it;\n"
        "                         a trailing [thread]/[process] is literal: 'INC-014.*[process]';\n"
        "                         repeatable (any may match)\n"
        "  -t, --tag TAG          keep cases carrying TAG (the mode, thread or process,\n"
        "                         counts as a tag); repeatable (all must match)\n"
        "  -j, --jobs N           run N cases at once (1..%d, default 1; 0 = one per core)\n"
        "      --shard I/N        run only shard I of N (1-based; stable split by a hash\n"
        "                         of the id, for CI matrices)\n"
        "  -r, --repeat N         run each case N times (timing: min/median/max wall)\n"
        "      --calibrate        before every run, time a fixed memfd fill (the timing\n"
        "                         reference: results carry its CPU time beside the case's)\n"
        "      --timeout MULT     multiply every case's timeout by MULT (default 1)\n"
        "  -s, --seed N           run seed (0..2^63-1; default from the clock, always\n"
        "                         printed); each case's seed derives from it and its id\n"
        "      --format LIST      comma list of %s (default %s)\n"
        "  -o, --output DIR       where results go (default reports/run): %s\n"
        "  -l, --list             print the selected ids, run nothing\n"
        "      --max-failures N   start no new case after N failures; the rest are skipped\n"
        "  -v, --verbose          print each case's output, leaks and metrics\n"
        "  -h, --help             this text\n"
        "  -V, --version          print the version\n"
        "\n"
        "result codes (closed set):\n"
        "  pass     every expectation met, nothing leaked\n"
        "  fail     an expectation unmet, or descriptors/memfds/mappings/children leaked\n"
        "  error    the case could not be judged (bad case file: file:line: key; run error;\n"
        "           the child returned no valid result)\n"
        "  timeout  killed (whole process group, SIGKILL) at timeout x MULT\n"
        "  crash    the case's process died by a signal\n"
        "  xfail    failed as its xfail says it should   (counts as passed)\n"
        "  xpass    passed although marked xfail         (counts as failed)\n"
        "  skip     not run: requires not met, or --max-failures reached\n"
        "\n"
        "The last line is \"N passed, N failed\" (\", N skipped\" when any were). Exit\n"
        "status: 0 when nothing failed (fail, error, timeout, crash, xpass), 1 otherwise,\n"
        "2 on a usage error. A failure prints its seed and the command replaying it.\n",
        argv0, argv0, argv0, HR_JOBS_MAX, names, dflt, files);
}

static int hr__fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int hr__fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* Whole string, decimal, within [lo, hi]. */
static int hr__parse_long(const char *s, long lo, long hi, long *out)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* Options that take a value; the rest are flags. */
typedef struct hr__optdef {
    const char *longname;
    char shortname;
    int takes_value;
} hr__optdef;

static const hr__optdef hr__defs[] = {
    {"filter", 'f', 1}, {"tag", 't', 1},       {"jobs", 'j', 1},
    {"shard", 0, 1},    {"repeat", 'r', 1},    {"timeout", 0, 1},
    {"seed", 's', 1},   {"format", 0, 1},      {"output", 'o', 1},
    {"list", 'l', 0},   {"max-failures", 0, 1}, {"verbose", 'v', 0},
    {"help", 'h', 0},   {"version", 'V', 0},   {"calibrate", 0, 0},
};

static int hr__apply(hr_opts *o, const hr__optdef *d, const char *val, const char *shown,
                     char *err, size_t errlen)
{
    long v;
    const char *n = d->longname;
    if (!strcmp(n, "filter")) {
        o->filters[o->nfilters++] = val;
    } else if (!strcmp(n, "tag")) {
        if (!*val)
            return hr__fail(err, errlen, "%s: empty tag", shown);
        o->tags[o->ntags++] = val;
    } else if (!strcmp(n, "jobs")) {
        if (hr__parse_long(val, 0, HR_JOBS_MAX, &v))
            return hr__fail(err, errlen, "%s '%s': expected 0..256 (0 = one per core)", shown, val);
        o->jobs = (int)v;
    } else if (!strcmp(n, "shard")) {
        char a[32], b[32];
        const char *slash = strchr(val, '/');
        long i, c;
        if (!slash || (size_t)(slash - val) >= sizeof a || strlen(slash + 1) >= sizeof b)
            return hr__fail(err, errlen, "%s '%s': expected I/N, e.g. 1/4", shown, val);
        memcpy(a, val, (size_t)(slash - val));
        a[slash - val] = '\0';
        strcpy(b, slash + 1);
        if (hr__parse_long(b, 1, 1000000, &c) || hr__parse_long(a, 1, c, &i))
            return hr__fail(err, errlen,
                            "%s '%s': expected I/N with 1 <= I <= N (shards are 1-based)",
                            shown, val);
        o->shard_index = (int)i;
        o->shard_count = (int)c;
    } else if (!strcmp(n, "repeat")) {
        if (hr__parse_long(val, 1, HR_REPEAT_MAX, &v))
            return hr__fail(err, errlen, "%s '%s': expected 1..10000", shown, val);
        o->repeat = (int)v;
    } else if (!strcmp(n, "timeout")) {
        char *end;
        errno = 0;
        double m = strtod(val, &end);
        if (!*val || *end || errno || !isfinite(m) || m <= 0 || m > 1000)
            return hr__fail(err, errlen, "%s '%s': expected a multiplier > 0 and <= 1000",
                            shown, val);
        o->timeout_mult = m;
    } else if (!strcmp(n, "seed")) {
        char *end;
        errno = 0;
        unsigned long long s = strtoull(val, &end, 10);
        if (!*val || *end || errno || val[0] == '-' || s > (unsigned long long)HR_SEED_MAX)
            return hr__fail(err, errlen, "%s '%s': expected a decimal 0..9223372036854775807",
                            shown, val);
        o->seed = s;
        o->seed_set = 1;
    } else if (!strcmp(n, "format")) {
        char why[192];
        if (hr_formats_parse(val, &o->formats, why, sizeof why))
            return hr__fail(err, errlen, "%s '%s': %s", shown, val, why);
    } else if (!strcmp(n, "output")) {
        if (!*val)
            return hr__fail(err, errlen, "%s: empty directory", shown);
        o->output = val;
    } else if (!strcmp(n, "list")) {
        o->list = 1;
    } else if (!strcmp(n, "max-failures")) {
        if (hr__parse_long(val, 0, 1000000000, &v))
            return hr__fail(err, errlen, "%s '%s': expected a count >= 0 (0 = no limit)", shown,
                            val);
        o->max_failures = (int)v;
    } else if (!strcmp(n, "calibrate")) {
        o->calibrate = 1;
    } else if (!strcmp(n, "verbose")) {
        o->verbose = 1;
    } else if (!strcmp(n, "help")) {
        o->command = HR_CMD_HELP;
    } else if (!strcmp(n, "version")) {
        o->command = HR_CMD_VERSION;
    }
    return 0;
}

int hr_opts_parse(int argc, char **argv, hr_opts *o, char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    o->argv0 = argc > 0 && argv[0] ? argv[0] : "gapcheck";
    o->jobs = 1;
    o->repeat = 1;
    o->timeout_mult = 1.0;
    o->formats = hr_formats_default();
    o->output = "reports/run";
    size_t cap = (size_t)(argc > 0 ? argc : 1);
    o->paths = calloc(cap, sizeof *o->paths);
    o->filters = calloc(cap, sizeof *o->filters);
    o->tags = calloc(cap, sizeof *o->tags);
    if (!o->paths || !o->filters || !o->tags) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int i = 1;
    if (argc < 2) {
        snprintf(err, errlen, "no command given (try '%s --help')", o->argv0);
        return -1;
    }
    if (!strcmp(argv[1], "run")) {
        o->command = HR_CMD_RUN;
        i = 2;
    } else if (!strcmp(argv[1], "help")) {
        o->command = HR_CMD_HELP;
        return 0;
    } else if (argv[1][0] != '-') {
        snprintf(err, errlen, "unknown command '%s' (expected 'run' or 'verify'; try --help)", argv[1]);
        return -1;
    }
    int only_paths = 0;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (only_paths || a[0] != '-' || !a[1]) {
            o->paths[o->npaths++] = a;
            continue;
        }
        if (!strcmp(a, "--")) {
            only_paths = 1;
            continue;
        }
        const hr__optdef *d = NULL;
        const char *val = NULL;
        char shown[64];
        if (a[1] == '-') {
            const char *name = a + 2;
            size_t n = strcspn(name, "=");
            for (size_t k = 0; k < sizeof hr__defs / sizeof hr__defs[0]; k++)
                if (strlen(hr__defs[k].longname) == n && !strncmp(hr__defs[k].longname, name, n))
                    d = &hr__defs[k];
            snprintf(shown, sizeof shown, "--%.*s", (int)(n < 40 ? n : 40), name);
            if (!d)
                return hr__fail(err, errlen, "unknown option '%s' (try --help)", shown);
            if (name[n] == '=') {
                if (!d->takes_value)
                    return hr__fail(err, errlen, "%s takes no value", shown);
                val = name + n + 1;
            }
        } else {
            for (size_t k = 0; k < sizeof hr__defs / sizeof hr__defs[0]; k++)
                if (hr__defs[k].shortname && hr__defs[k].shortname == a[1])
                    d = &hr__defs[k];
            snprintf(shown, sizeof shown, "-%c", a[1]);
            if (!d)
                return hr__fail(err, errlen, "unknown option '%s' (try --help)", shown);
            if (a[2]) {
                if (!d->takes_value)
                    return hr__fail(err, errlen, "%s takes no value (got '%s')", shown, a);
                val = a + 2;
            }
        }
        if (d->takes_value && !val) {
            if (i + 1 >= argc)
                return hr__fail(err, errlen, "%s needs a value", shown);
            val = argv[++i];
        }
        if (hr__apply(o, d, val, shown, err, errlen) != 0)
            return -1;
    }
    if (o->command == 0) {
        /* Options without a command: only --help/--version make sense. */
        snprintf(err, errlen, "no command given (expected 'run' or 'verify'; try --help)");
        return -1;
    }
    if (o->npaths == 0)
        o->paths[o->npaths++] = "cases";
    return 0;
}

void hr_opts_free(hr_opts *o)
{
    free(o->paths);
    free(o->filters);
    free(o->tags);
    o->paths = o->filters = o->tags = NULL;
}
