/* harness case module, the metric catalogue: every figure the executor
 * measures around gc_execute_parallel, its unit, and the process that
 * produces it (NULL: every run). A claim names a metric; the parser refuses a
 * claim on a metric its case's process never produces, and the executor
 * records exactly the metrics this table gives for the case's process. */
#include "case_int.h"

#include <stdio.h>
#include <string.h>

const hc_metric_def hc__metrics[] = {
    {"wall_ms", "ms", NULL, "wall time of the whole `gc_execute_parallel` call"},
    {"task_wall_ms", "ms", NULL,
     "median over tasks of `wall_ns` (dispatch to result, seen by the main process)"},
    {"task_exec_ms", "ms", NULL, "median over tasks of `exec_ns` (inside the process function)"},
    {"handoff_ms", "ms", "touch",
     "median task wall time, i.e. dispatch, the worker has the entries mapped and has read "
     "their first and last byte, result back; of the best round (the least disturbed by a "
     "shared machine)"},
    {"handoff_max_ms", "ms", "touch",
     "the slowest such task of the best round (with one task per worker, each is that "
     "worker's first mapping of the zone; with `[run] new_generation_every = 1`, in every "
     "round)"},
};
const size_t hc__nmetrics = sizeof hc__metrics / sizeof hc__metrics[0];

const hc_metric_def *hc__metric_find(const char *name)
{
    for (size_t i = 0; i < hc__nmetrics; i++)
        if (strcmp(hc__metrics[i].name, name) == 0)
            return &hc__metrics[i];
    return NULL;
}

int hc__metric_produced_by(const hc_metric_def *m, const char *process)
{
    return !m->process || strcmp(m->process, process) == 0;
}

void hc__metrics_known(char *buf, size_t len)
{
    size_t used = 0;
    if (len)
        buf[0] = '\0';
    for (size_t i = 0; i < hc__nmetrics && used < len; i++) {
        int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", hc__metrics[i].name);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

int hc__metrics_markdown(FILE *f)
{
    int bad = fputs("| metric | unit | produced by | meaning |\n| --- | --- | --- | --- |\n", f) < 0;
    for (size_t i = 0; i < hc__nmetrics; i++) {
        const hc_metric_def *m = &hc__metrics[i];
        char by[80];
        if (m->process)
            snprintf(by, sizeof by, "`process = %s` only", m->process);
        else
            snprintf(by, sizeof by, "every process");
        bad |= fprintf(f, "| `%s` | %s | %s | %s |\n", m->name, m->unit, by, m->what) < 0;
    }
    return bad ? -1 : 0;
}
