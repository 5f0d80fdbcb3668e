/* harness: `gapcheck`, the runner's entry point. Wires the modules together
 * in the order of a run: options -> discovery -> plan -> run -> renderers ->
 * summary, and owns the exit status (0 nothing failed, 1 failures or a fatal
 * error, 2 usage, 130 interrupted). Everything it prints on stdout ends with
 * the closing line "N passed, N failed[, N skipped]". `gapcheck verify` is its
 * own module (verify.c), reached from here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "discover.h"
#include "isolate.h"
#include "opts.h"
#include "plan.h"
#include "render.h"
#include "result.h"
#include "run.h"
#include "text.h"
#include "verify.h"

static uint64_t hr__clock_seed(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    /* Small enough to type, large enough not to repeat between runs. */
    uint64_t x = (uint64_t)ts.tv_sec * 1000003u ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid() << 20;
    return x % 1000000000u;
}

static int hr__run_info(hr_run_info *in, const hr_opts *o, int argc, char **argv)
{
    in->seed = o->seed_set ? o->seed : hr__clock_seed();
    in->argv = calloc((size_t)argc + 1, sizeof *in->argv);
    if (!in->argv)
        return -1;
    for (int i = 0; i < argc; i++) {
        in->argv[i] = strdup(argv[i]);
        if (!in->argv[i])
            return -1;
        in->argc = i + 1;
        hr_shell_append(in->command, sizeof in->command, argv[i]);
    }
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(in->start_time, sizeof in->start_time, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (gethostname(in->host, sizeof in->host) != 0)
        snprintf(in->host, sizeof in->host, "unknown");
    in->host[sizeof in->host - 1] = '\0';
    struct utsname u;
    if (uname(&u) == 0)
        hr_fmt(in->kernel, sizeof in->kernel, "%s %s %s", u.sysname, u.release, u.machine);
    in->cores = sysconf(_SC_NPROCESSORS_ONLN);
    in->jobs = o->jobs > 0 ? o->jobs : (int)(in->cores > 0 ? in->cores : 1);
    in->repeat = o->repeat;
    in->calibrate = o->calibrate;
    in->timeout_mult = o->timeout_mult;
    in->shard_index = o->shard_index;
    in->shard_count = o->shard_count;
    return 0;
}

/* `written`: the formats whose file is really in place; `write_err`: why the
 * others are not ("" when all were written). Said here, beside the closing
 * line, because this is what a reader of stdout (or a CI log) sees. */
static void hr__print_summary(const hr_report *rep, const hr_opts *o, const hr_plan *plan,
                              unsigned written, const char *write_err)
{
    hr_totals t;
    hr_totals_compute(rep, &t);
    printf("----\n");
    printf("statuses:");
    for (int s = 0; s < HR_NSTATUS; s++)
        if (t.by_status[s])
            printf(" %zu %s", t.by_status[s], hr_status_name((hr_status)s));
    printf("%s\n", t.total ? "" : " none");
    double sum = 0;
    const hr_result *slowest = NULL;
    for (size_t i = 0; i < rep->n; i++) {
        const hr_result *r = &rep->results[i];
        sum += r->wall_ms_median;
        if (r->runs && (!slowest || r->wall_ms_median > slowest->wall_ms_median))
            slowest = r;
    }
    printf("timing: %.2f s elapsed, %.2f s in cases (median per case)", rep->info.duration_ms / 1000,
           sum / 1000);
    if (slowest)
        printf(", slowest %s %.2f ms", slowest->id, slowest->wall_ms_median);
    printf("\n");
    if (plan->load_errors)
        printf("case files that did not load: %zu (reported as error)\n", plan->load_errors);
    if (t.failed)
        printf("seed %llu: rerun everything with --seed %llu\n",
               (unsigned long long)rep->info.seed, (unsigned long long)rep->info.seed);
    if (written) {
        printf("results in %s/:", o->output);
        for (size_t f = 0; f < hr_nformats; f++)
            if (written & (1u << f))
                printf(" %s", hr_formats[f].file);
        printf("\n");
    }
    if (write_err[0]) {
        printf("results NOT written:");
        for (size_t f = 0; f < hr_nformats; f++)
            if ((o->formats & (1u << f)) && !(written & (1u << f)))
                printf(" %s", hr_formats[f].file);
        printf(" (%s)\n", write_err);
    }
    char line[128];
    hr_summary_line(&t, line, sizeof line);
    printf("%s\n", line);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "verify"))
        return hr_verify_main(argc, argv);
    hr_opts o;
    char err[512] = "";
    if (hr_opts_parse(argc, argv, &o, err, sizeof err) != 0) {
        fprintf(stderr, "gapcheck: %s\n", err);
        hr_opts_free(&o);
        return HR_EXIT_USAGE;
    }
    if (o.command == HR_CMD_HELP) {
        hr_usage(stdout, o.argv0);
        hr_opts_free(&o);
        return 0;
    }
    if (o.command == HR_CMD_VERSION) {
        printf("gapcheck %s (results schema %d)\n", HR_VERSION, HR_SCHEMA_VERSION);
        hr_opts_free(&o);
        return 0;
    }

    int rc = 1;
    hr_report rep;
    hr_report_init(&rep);
    hr_files files = {0};
    hr_plan plan = {0};
    double t0 = hr_now();
    if (hr__run_info(&rep.info, &o, argc, argv) != 0) {
        fprintf(stderr, "gapcheck: out of memory\n");
        goto out;
    }
    o.jobs = rep.info.jobs;
    if (hr_discover(o.paths, o.npaths, &files, err, sizeof err) != 0) {
        fprintf(stderr, "gapcheck: %s\n", err);
        rc = HR_EXIT_USAGE;
        goto out;
    }
    if (hr_plan_build(&o, &files, &plan, &rep, err, sizeof err) != 0) {
        fprintf(stderr, "gapcheck: %s\n", err);
        goto out;
    }
    if (o.list) {
        for (size_t i = 0; i < rep.n; i++) {
            const hr_result *r = &rep.results[i];
            if (r->is_load_error)
                fprintf(stderr, "gapcheck: %s\n", r->message);
            else
                printf("%s\n", r->id);
        }
        rc = plan.load_errors ? 1 : 0;
        goto out;
    }

    printf("gapcheck %s: seed %llu, %zu results planned from %zu case files, %d job%s%s\n",
           HR_VERSION, (unsigned long long)rep.info.seed, rep.n, files.n, o.jobs,
           o.jobs == 1 ? "" : "s", o.repeat > 1 ? "" : "");
    if (o.repeat > 1)
        printf("each case runs %d times (timing: min/median/max)\n", o.repeat);
    fflush(stdout);
    int run_rc = hr_run(&o, &plan, &rep, stdout, err, sizeof err);
    rep.info.duration_ms = (hr_now() - t0) * 1000.0;
    if (run_rc < 0) {
        fprintf(stderr, "gapcheck: %s\n", err);
        goto out;
    }
    unsigned written = 0;
    if (hr_render_all(&rep, o.output, o.formats, &written, err, sizeof err) != 0) {
        fprintf(stderr, "gapcheck: writing results: %s\n", err);
        hr__print_summary(&rep, &o, &plan, written, err);
        rc = 1;
        goto out;
    }
    hr__print_summary(&rep, &o, &plan, written, "");
    hr_totals t;
    hr_totals_compute(&rep, &t);
    if (run_rc == 130) {
        rc = 130;
    } else if (t.total == 0 && o.shard_count == 0) {
        /* A selection of nothing is almost always a typo in --filter/--tag
         * or a wrong PATH; passing silently would hide it. */
        fprintf(stderr, "gapcheck: no case selected (paths, --filter or --tag match nothing)\n");
        rc = 1;
    } else {
        rc = hr_exit_code(&t);
    }
out:
    hr_plan_free(&plan);
    hr_files_free(&files);
    hr_report_free(&rep);
    hr_opts_free(&o);
    return rc;
}
