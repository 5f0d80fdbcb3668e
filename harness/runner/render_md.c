/* harness: summary.md, the Markdown summary (CI job pages, PR comments).
 * Counts first, then only what needs attention (failures with their replay
 * command), then every result with its timings, leaks and claims. */
#include <string.h>

#include "render.h"
#include "text.h"

static int hr__any_leak(const hr_leaks *l)
{
    return l->fds || l->memfds || l->maps || l->children;
}

int hr_render_md(const hr_report *r, FILE *f)
{
    hr_totals t;
    hr_totals_compute(r, &t);
    char line[128];
    hr_summary_line(&t, line, sizeof line);
    fprintf(f, "# gapcheck run: %s\n\n", line);
    fprintf(f, "- seed: `%llu`\n- started: %s on %s (%ld cores)\n- duration: %.1f s\n",
            (unsigned long long)r->info.seed, r->info.start_time, r->info.host,
            r->info.cores, r->info.duration_ms / 1000.0);
    fputs("- command: `", f);
    hr_md_cell(f, r->info.command);
    fputs("`\n\n| status | count |\n| --- | ---: |\n", f);
    for (int s = 0; s < HR_NSTATUS; s++)
        if (t.by_status[s])
            fprintf(f, "| %s | %zu |\n", hr_status_name((hr_status)s), t.by_status[s]);

    if (t.failed) {
        fputs("\n## Failures\n\n", f);
        for (size_t i = 0; i < r->n; i++) {
            const hr_result *x = &r->results[i];
            if (!hr_status_is_failure(x->status))
                continue;
            fprintf(f, "- **%s** `", hr_status_name(x->status));
            hr_md_cell(f, x->id);
            fputs("`: ", f);
            hr_md_cell(f, x->message);
            if (x->replay[0]) {
                fputs("<br>replay: `", f);
                hr_md_cell(f, x->replay);
                fputc('`', f);
            }
            fputc('\n', f);
        }
    }

    fputs("\n## Results\n\n| id | status | wall ms (min / median / max) | cpu ms | max RSS KiB |"
          " leaks | message |\n| --- | --- | --- | ---: | ---: | --- | --- |\n", f);
    for (size_t i = 0; i < r->n; i++) {
        const hr_result *x = &r->results[i];
        fputs("| ", f);
        hr_md_cell(f, x->id);
        fprintf(f, " | %s | ", hr_status_name(x->status));
        if (x->runs)
            fprintf(f, "%.2f / %.2f / %.2f | %.2f | %ld | ", x->wall_ms_min, x->wall_ms_median,
                    x->wall_ms_max, x->cpu_ms, x->maxrss_kb);
        else
            fputs("- | - | - | ", f);
        if (hr__any_leak(&x->leaks))
            fprintf(f, "%d fds, %d memfds, %d maps, %d children", x->leaks.fds,
                    x->leaks.memfds, x->leaks.maps, x->leaks.children);
        else
            fputs("none", f);
        fputs(" | ", f);
        hr_md_cell(f, x->status == HR_XFAIL ? x->reason : x->message);
        fputs(" |\n", f);
    }

    int header = 0;
    for (size_t i = 0; i < r->n; i++) {
        const hr_result *x = &r->results[i];
        for (int c = 0; c < x->nclaims; c++) {
            if (!header) {
                fputs("\n## Claims\n\n| id | claim | claimed | measured | holds |\n"
                      "| --- | --- | ---: | ---: | --- |\n", f);
                header = 1;
            }
            const hc_claim *cl = &x->claims[c];
            fputs("| ", f);
            hr_md_cell(f, x->id);
            fputs(" | ", f);
            hr_md_cell(f, cl->text);
            fprintf(f, " | %g ", cl->claimed);
            hr_md_cell(f, cl->unit);
            fprintf(f, " | %g ", cl->measured);
            hr_md_cell(f, cl->unit);
            fprintf(f, " | %s |\n", cl->holds ? "yes" : "**no**");
        }
    }
    return ferror(f) ? -1 : 0;
}
