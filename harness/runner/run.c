/* harness: the scheduler and the console (see run.h). Single-threaded: one
 * ppoll loop over every running child's descriptors, with the nearest
 * deadline as its timeout. SIGINT/SIGTERM are blocked except inside ppoll,
 * so an interrupt is seen exactly there and never lost between checks. */
#include "run.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gapcheck/measure.h"

#include "gapcheck/status.h"
#include "calib.h"
#include "leaks.h"
#include "text.h"

static volatile sig_atomic_t hr__interrupted;

static void hr__on_signal(int sig)
{
    hr__interrupted = sig;
}

/* What the child needs; lives in the slot, copied into the child by fork. */
typedef struct hr__arg {
    const hc_case *c;
    gc_mode mode;
    uint64_t seed;
} hr__arg;

typedef struct hr__slot {
    int busy;
    size_t job;
    int run;                       /* runs finished for this job */
    hr__arg arg;
    hr_child child;
    double timeout_s;
    double *wall, *cpu;            /* [repeat] */
    hr_calib *cal;                 /* [repeat]: the reference before each run, NaN if none */
    double *met;                   /* [HC_METRICS_MAX * repeat], NaN when absent */
    double *clm;                   /* [HC_CLAIMS_MAX * repeat] */
    double *scratch;               /* [repeat], for medians */
    int claims_hold[HC_CLAIMS_MAX];
    long maxrss;
    hr_status status;
    char message[HC_MESSAGE_MAX];
    hr_msg last;                   /* last valid message */
    pid_t last_case_pid;           /* the case process that sent it */
    int have_last;
} hr__slot;

/* The body of every case run, in the child: count, run, count again. */
static void hr__case_body(void *varg, hr_msg *m)
{
    const hr__arg *a = varg;
    hr_leaks before, after;
    char why[160];   /* no census, no leak count: the run itself is still judged */
    int counted = hr_leaks_snapshot(&before, why, sizeof why) == 0;
    double t0 = hr_now();
    m->rc = hc_case_run(a->c, a->mode, a->seed, &m->out);
    m->run_ms = (hr_now() - t0) * 1000.0;
    if (counted && hr_leaks_snapshot(&after, why, sizeof why) == 0)
        hr_leaks_diff(&before, &after, &m->leaks);
}

hr_status hr_classify(const hr_child *c, int allow_leaks, double timeout_s, char *msg,
                      size_t msglen)
{
    if (c->timed_out) {
        snprintf(msg, msglen, "timed out after %.3g s; process group killed", timeout_s);
        return HR_TIMEOUT;
    }
    if (c->signal) {
        const char *abbrev = sigabbrev_np(c->signal);
        snprintf(msg, msglen, "killed by signal %d (SIG%s)", c->signal,
                 abbrev ? abbrev : "?");
        return HR_CRASH;
    }
    if (!c->msg_valid) {
        snprintf(msg, msglen, "%s", c->msg_error[0] ? c->msg_error : "no valid result");
        return HR_ERROR;
    }
    if (c->exited && c->exit_code != 0) {
        /* The result arrived, but the process failed on its way out (an
         * atexit handler, or valgrind's --error-exitcode under memcheck). */
        snprintf(msg, msglen, "case process exited with status %d after sending its result",
                 c->exit_code);
        return HR_ERROR;
    }
    const hr_msg *m = &c->msg;
    if (m->rc != 0) {
        snprintf(msg, msglen, "case could not run (%s): %s", gc_status_name(m->rc),
                 m->out.message);
        return HR_ERROR;
    }
    char leaks[160] = "";
    if (hr_leaks_any(&m->leaks) && !allow_leaks)
        hr_leaks_describe(&m->leaks, leaks, sizeof leaks);
    if (!m->out.passed) {
        if (leaks[0])
            snprintf(msg, msglen, "%s; also leaked %s", m->out.message, leaks);
        else
            snprintf(msg, msglen, "%s", m->out.message[0] ? m->out.message : "failed");
        return HR_FAIL;
    }
    if (leaks[0]) {
        snprintf(msg, msglen, "leaked %s", leaks);
        return HR_FAIL;
    }
    snprintf(msg, msglen, "%s", m->out.message);
    return HR_PASS;
}

int hr_mode_check(const hc_outcome *o, int32_t case_pid, gc_mode label, int mixed, char *ran,
                  size_t ranlen, char *why, size_t whylen)
{
    int self = 0, other = o->pids_unlisted > 0;
    int32_t first_other = 0;
    for (int i = 0; i < o->npids && i < HC_PIDS_MAX; i++) {
        if (o->pids[i] == case_pid) {
            self = 1;
        } else {
            other = 1;
            if (!first_other)
                first_other = o->pids[i];
        }
    }
    snprintf(ran, ranlen, "%s", self && other ? "thread+process"
                                : self        ? "thread"
                                : other       ? "process"
                                              : "none");
    why[0] = '\0';
    const char *name = label == GC_MODE_THREAD ? "thread" : "process";
    if (mixed) {
        if ((self || other) && !(label == GC_MODE_THREAD ? self : other))
            snprintf(why, whylen, "labelled [%s] (mixed modes) but no task ran in %s", name,
                     label == GC_MODE_THREAD ? "the case process" : "a worker process");
    } else if (label == GC_MODE_THREAD && other) {
        snprintf(why, whylen, "labelled [thread] but tasks ran in other processes (pid %d, %d "
                 "distinct), not in thread workers of the case process (pid %d)",
                 (int)first_other, o->npids - self + (int)o->pids_unlisted, (int)case_pid);
    } else if (label == GC_MODE_PROCESS && self) {
        snprintf(why, whylen, "labelled [process] but tasks ran in the case process itself "
                 "(pid %d), not in worker processes", (int)case_pid);
    }
    return why[0] == '\0';
}

static int hr__has_tag(const hc_case_info *info, const char *tag)
{
    for (int t = 0; t < info->ntags && t < HC_TAGS_MAX; t++)
        if (!strcmp(info->tags[t], tag))
            return 1;
    return 0;
}

/* Median of the finite values of v[0..n), using tmp (n entries) as scratch. */
static double hr__median_finite(const double *v, int n, double *tmp)
{
    size_t k = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(v[i]))
            tmp[k++] = v[i];
    return k ? gc_median(tmp, k) : NAN;
}

typedef struct hr__ctx {
    const hr_opts *o;
    const hr_plan *plan;
    hr_report *rep;
    FILE *out;
    int tty;
    size_t finished, total;
    size_t failures;
    int progress_shown;
} hr__ctx;

static void hr__clear_progress(hr__ctx *x)
{
    if (x->tty && x->progress_shown) {
        fputs("\r\033[K", x->out);
        x->progress_shown = 0;
    }
}

static void hr__progress(hr__ctx *x, const char *running)
{
    if (!x->tty)
        return;
    fprintf(x->out, "\r\033[K[%zu/%zu] %zu failed  %s", x->finished, x->total, x->failures,
            running ? running : "");
    fflush(x->out);
    x->progress_shown = 1;
}

/* Print one result: a line, plus details for failures (and with --verbose). */
static void hr__print_result(hr__ctx *x, const hr_result *r)
{
    hr__clear_progress(x);
    char up[16];
    const char *s = hr_status_name(r->status);
    size_t i = 0;
    for (; s[i] && i + 1 < sizeof up; i++)
        up[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 'a' + 'A' : s[i]);
    up[i] = '\0';
    fprintf(x->out, "%-7s ", up);
    hr_tap_escape(x->out, r->id);
    if (r->runs > 1)
        fprintf(x->out, " (%.2f ms median of %d runs, min %.2f, max %.2f)", r->wall_ms_median,
                r->runs, r->wall_ms_min, r->wall_ms_max);
    else if (r->runs == 1)
        fprintf(x->out, " (%.2f ms)", r->wall_ms_median);
    fputc('\n', x->out);
    int failed = hr_status_is_failure(r->status);
    const char *why = r->status == HR_XFAIL ? r->reason : r->message;
    if ((failed || r->status == HR_SKIP || r->status == HR_XFAIL || x->o->verbose) && why[0]) {
        fputs("        ", x->out);
        hr_tap_escape(x->out, why);
        fputc('\n', x->out);
    }
    if (failed && !r->is_load_error)
        fprintf(x->out, "        seed %llu; replay: %s\n", (unsigned long long)x->rep->info.seed,
                r->replay);
    if (x->o->verbose && r->runs) {
        fprintf(x->out, "        cpu %.2f ms, max RSS %ld KiB, tasks %u/%u ok, leaks: %d fds, "
                        "%d memfds, %d maps, %d children\n",
                r->cpu_ms, r->maxrss_kb, r->tasks_ok, r->tasks, r->leaks.fds, r->leaks.memfds,
                r->leaks.maps, r->leaks.children);
        for (int m = 0; m < r->nmetrics; m++)
            fprintf(x->out, "        metric %s = %g %s\n", r->metrics[m].name,
                    r->metrics[m].value, r->metrics[m].unit);
        for (int c = 0; c < r->nclaims; c++)
            fprintf(x->out, "        claim \"%s\": %g %s measured, limit %g: %s\n",
                    r->claims[c].text, r->claims[c].measured, r->claims[c].unit,
                    r->claims[c].claimed, r->claims[c].holds ? "holds" : "DOES NOT HOLD");
    }
    if ((x->o->verbose || (failed && !r->is_load_error)) && r->output && r->output[0]) {
        fputs("        --- output ---\n", x->out);
        const char *p = r->output;
        while (*p) {
            size_t n = strcspn(p, "\n");
            fprintf(x->out, "        | %.*s\n", (int)n, p);
            p += n;
            if (*p)
                p++;
        }
        if (r->output_truncated)
            fputs("        | [output truncated]\n", x->out);
    }
    fflush(x->out);
}

static int hr__slot_alloc(hr__slot *s, int repeat)
{
    size_t n = (size_t)repeat;
    s->wall = calloc(n, sizeof *s->wall);
    s->cpu = calloc(n, sizeof *s->cpu);
    s->cal = calloc(n, sizeof *s->cal);
    s->met = calloc(n * HC_METRICS_MAX, sizeof *s->met);
    s->clm = calloc(n * HC_CLAIMS_MAX, sizeof *s->clm);
    s->scratch = calloc(n, sizeof *s->scratch);
    return s->wall && s->cpu && s->cal && s->met && s->clm && s->scratch ? 0 : -1;
}

static void hr__slot_free(hr__slot *s)
{
    free(s->wall);
    free(s->cpu);
    free(s->cal);
    free(s->met);
    free(s->clm);
    free(s->scratch);
}

static int hr__start_run(hr__slot *s, int calibrate)
{
    /* The reference right before the run it divides (calib.h), in the
     * runner's own process so that the case's accounting is untouched. */
    hr_calib *cal = &s->cal[s->run];
    if (!calibrate || hr_calib_run(HR_CALIB_BYTES, cal) != 0)
        *cal = (hr_calib){.cpu_ms = NAN, .wall_ms = NAN};
    if (hr_child_start(&s->child, hr__case_body, &s->arg, s->timeout_s, s->message,
                       sizeof s->message) == 0)
        return 0;
    s->status = HR_ERROR;
    return -1;
}

static void hr__begin_job(hr__ctx *x, hr__slot *s, size_t job)
{
    const hr_job *j = &x->plan->jobs[job];
    const hr_result *r = &x->rep->results[j->result];
    s->busy = 1;
    s->job = job;
    s->run = 0;
    s->arg = (hr__arg){.c = j->c, .mode = j->mode, .seed = r->seed};
    double t = j->info->timeout_s > 0 ? j->info->timeout_s : HR_DEFAULT_TIMEOUT_S;
    s->timeout_s = t * x->o->timeout_mult;
    size_t n = (size_t)x->o->repeat;
    for (size_t i = 0; i < n * HC_METRICS_MAX; i++)
        s->met[i] = NAN;
    for (size_t i = 0; i < n * HC_CLAIMS_MAX; i++)
        s->clm[i] = NAN;
    for (int c = 0; c < HC_CLAIMS_MAX; c++)
        s->claims_hold[c] = 1;
    s->maxrss = 0;
    s->status = HR_PASS;
    s->message[0] = '\0';
    s->have_last = 0;
    memset(&s->child, 0, sizeof s->child);
    s->child.pid = 0;
}

/* Fold the finished run into the slot. Returns 1 when the job needs another run. */
static int hr__end_run(hr__ctx *x, hr__slot *s, hr_result *r)
{
    const hr_job *j = &x->plan->jobs[s->job];
    hr_child *c = &s->child;
    int k = s->run;
    s->status = hr_classify(c, hr__has_tag(j->info, HR_TAG_ALLOW_LEAKS), s->timeout_s,
                            s->message, sizeof s->message);
    /* Judged by the runner, not the case: the pids that ran the tasks must
     * say the same mode as the label. */
    if (c->msg_valid && (s->status == HR_PASS || s->status == HR_FAIL)) {
        char ran[24], why[320];
        if (!hr_mode_check(&c->msg.out, (int32_t)c->case_pid, j->mode, j->info->mixed_modes,
                           ran, sizeof ran, why, sizeof why)) {
            char prev[HC_MESSAGE_MAX];
            snprintf(prev, sizeof prev, "%s", s->message);
            snprintf(s->message, sizeof s->message, "%s%s%.600s", why,
                     s->status == HR_FAIL ? "; also " : "", s->status == HR_FAIL ? prev : "");
            s->status = HR_FAIL;
        }
    }
    s->wall[k] = c->msg_valid ? c->msg.run_ms : c->wall_ms;
    s->cpu[k] = (double)(c->ru.ru_utime.tv_sec + c->ru.ru_stime.tv_sec) * 1000.0 +
                (double)(c->ru.ru_utime.tv_usec + c->ru.ru_stime.tv_usec) / 1000.0;
    if (c->ru.ru_maxrss > s->maxrss)
        s->maxrss = c->ru.ru_maxrss;
    if (c->msg_valid) {
        s->last = c->msg;
        s->last_case_pid = c->case_pid;
        s->have_last = 1;
        for (int m = 0; m < c->msg.out.nmetrics; m++)
            s->met[m * x->o->repeat + k] = c->msg.out.metrics[m].value;
        for (int m = 0; m < c->msg.out.nclaims; m++) {
            s->clm[m * x->o->repeat + k] = c->msg.out.claims[m].measured;
            s->claims_hold[m] &= c->msg.out.claims[m].holds;
        }
    }
    /* The output of the last run is the one worth keeping. */
    free(r->output);
    r->output = c->out;
    r->output_truncated = c->out_truncated;
    c->out = NULL;
    s->run = k + 1;
    return s->status == HR_PASS && s->run < x->o->repeat && !hr__interrupted;
}

static void hr__end_job(hr__ctx *x, hr__slot *s, hr_result *r)
{
    const hr_job *j = &x->plan->jobs[s->job];
    int n = s->run;
    r->runs = n;
    if (n > 0) {
        double *tmp = s->scratch;
        memcpy(tmp, s->wall, (size_t)n * sizeof *tmp);
        r->wall_ms_median = gc_median(tmp, (size_t)n);   /* sorts tmp */
        r->wall_ms_min = tmp[0];
        r->wall_ms_max = tmp[n - 1];
        memcpy(tmp, s->cpu, (size_t)n * sizeof *tmp);
        r->cpu_ms = gc_median(tmp, (size_t)n);
        /* Per run, for the timing gate's own estimates; without memory the
         * result just has none (samples are information, not a verdict). */
        free(r->samples);
        r->samples = malloc((size_t)n * sizeof *r->samples);
        for (int k = 0; r->samples && k < n; k++)
            r->samples[k] = (hr_sample){.wall_ms = s->wall[k], .cpu_ms = s->cpu[k],
                                        .calib_cpu_ms = s->cal[k].cpu_ms,
                                        .calib_wall_ms = s->cal[k].wall_ms};
    }
    r->maxrss_kb = s->maxrss;
    if (s->have_last) {
        const hc_outcome *o = &s->last.out;
        r->leaks = s->last.leaks;
        r->tasks = o->tasks;
        r->tasks_ok = o->tasks_ok;
        r->nmetrics = o->nmetrics;
        for (int m = 0; m < o->nmetrics; m++) {
            r->metrics[m] = o->metrics[m];
            r->metrics[m].value = hr__median_finite(&s->met[m * x->o->repeat], n, s->scratch);
        }
        r->case_pid = (int32_t)s->last_case_pid;
        r->npids = o->npids;
        memcpy(r->pids, o->pids, sizeof r->pids);
        r->pids_unlisted = o->pids_unlisted;
        char why[320];
        hr_mode_check(o, r->case_pid, j->mode, j->info->mixed_modes, r->mode_ran,
                      sizeof r->mode_ran, why, sizeof why);
        r->nclaims = o->nclaims;
        for (int m = 0; m < o->nclaims; m++) {
            r->claims[m] = o->claims[m];
            r->claims[m].measured = hr__median_finite(&s->clm[m * x->o->repeat], n, s->scratch);
            r->claims[m].holds = s->claims_hold[m];
        }
    }
    r->signal = s->status == HR_CRASH ? s->child.signal : 0;
    r->status = s->status;
    snprintf(r->message, sizeof r->message, "%s", s->message);
    if (j->info->xfail[0]) {
        if (r->status == HR_FAIL) {
            r->status = HR_XFAIL;
        } else if (r->status == HR_PASS) {
            r->status = HR_XPASS;
            snprintf(r->message, sizeof r->message, "passed although marked xfail (%s)",
                     j->info->xfail);
        }
    }
    if (hr_status_is_failure(r->status))
        x->failures++;
    x->finished++;
    s->busy = 0;
    hr__print_result(x, r);
}

int hr_run(const hr_opts *o, const hr_plan *plan, hr_report *rep, FILE *out, char *err,
           size_t errlen)
{
    hr__ctx x = {.o = o, .plan = plan, .rep = rep, .out = out, .tty = isatty(fileno(out))};
    x.total = rep->n;
    /* Results decided at plan time (load errors, skips) are reported first. */
    char *planned = calloc(rep->n ? rep->n : 1, 1);
    if (!planned) {
        snprintf(err, errlen, "out of memory while running");
        return -1;
    }
    for (size_t i = 0; i < plan->njobs; i++)
        planned[plan->jobs[i].result] = 1;
    for (size_t i = 0; i < rep->n; i++) {
        if (planned[i])
            continue;
        x.finished++;
        if (hr_status_is_failure(rep->results[i].status))
            x.failures++;
        hr__print_result(&x, &rep->results[i]);
    }
    free(planned);

    int nslots = o->jobs > 0 ? o->jobs : 1;
    if ((size_t)nslots > plan->njobs)
        nslots = plan->njobs ? (int)plan->njobs : 1;
    hr__slot *slots = calloc((size_t)nslots, sizeof *slots);
    struct pollfd *pfd = calloc((size_t)nslots * HR_CHILD_NFDS, sizeof *pfd);
    int rc = 0;
    if (!slots || !pfd) {
        rc = -1;
        goto done;
    }
    for (int i = 0; i < nslots; i++)
        if (hr__slot_alloc(&slots[i], o->repeat) != 0) {
            rc = -1;
            goto done;
        }

    sigset_t block, orig;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &orig);
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = hr__on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    hr__interrupted = 0;

    size_t next = 0;
    int running = 0;
    for (;;) {
        int stop = hr__interrupted || (o->max_failures > 0 && x.failures >= (size_t)o->max_failures);
        for (int i = 0; i < nslots && !stop && next < plan->njobs; i++) {
            hr__slot *s = &slots[i];
            if (s->busy)
                continue;
            hr__begin_job(&x, s, next++);
            running++;
            if (hr__start_run(s, o->calibrate) != 0) {
                hr__end_job(&x, s, &rep->results[plan->jobs[s->job].result]);
                running--;
            }
        }
        if (running == 0)
            break;
        int np = 0;
        double deadline = INFINITY;
        int tick = 0;
        const char *shown = NULL;
        for (int i = 0; i < nslots; i++) {
            if (!slots[i].busy)
                continue;
            np += hr_child_pollfds(&slots[i].child, pfd + np);
            if (slots[i].child.deadline < deadline)
                deadline = slots[i].child.deadline;
            if (slots[i].child.pidfd < 0)
                tick = 1;
            shown = rep->results[plan->jobs[slots[i].job].result].id;
        }
        hr__progress(&x, shown);
        double wait = deadline - hr_now();
        if (tick && wait > 0.02)
            wait = 0.02;
        if (wait < 0)
            wait = 0;
        if (wait > 3600)
            wait = 3600;
        struct timespec ts = {.tv_sec = (time_t)wait,
                              .tv_nsec = (long)((wait - floor(wait)) * 1e9)};
        ppoll(pfd, (nfds_t)np, &ts, &orig);
        for (int i = 0; i < nslots; i++) {
            hr__slot *s = &slots[i];
            if (!s->busy)
                continue;
            if (hr__interrupted)
                hr_child_abort(&s->child);
            if (!hr_child_step(&s->child, NULL, 0))
                continue;
            hr_result *r = &rep->results[plan->jobs[s->job].result];
            int again = hr__end_run(&x, s, r);
            if (hr__interrupted && s->child.timed_out) {
                s->status = HR_ERROR;
                snprintf(s->message, sizeof s->message, "interrupted by signal %d",
                         (int)hr__interrupted);
            }
            if (again && hr__start_run(s, o->calibrate) == 0)
                continue;
            hr__end_job(&x, s, r);
            running--;
        }
    }
    /* What was never started. */
    for (; next < plan->njobs; next++) {
        hr_result *r = &rep->results[plan->jobs[next].result];
        r->status = HR_SKIP;
        if (hr__interrupted)
            snprintf(r->reason, sizeof r->reason, "interrupted");
        else
            snprintf(r->reason, sizeof r->reason, "--max-failures %d reached", o->max_failures);
        snprintf(r->message, sizeof r->message, "not run: %s", r->reason);
        x.finished++;
        hr__print_result(&x, r);
    }
    hr__clear_progress(&x);
    if (hr__interrupted)
        rc = 130;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigprocmask(SIG_SETMASK, &orig, NULL);
done:
    if (rc < 0)
        snprintf(err, errlen, "out of memory while running");
    if (slots)
        for (int i = 0; i < nslots; i++) {
            hr_child_release(&slots[i].child);
            hr__slot_free(&slots[i]);
        }
    free(slots);
    free(pfd);
    return rc;
}
