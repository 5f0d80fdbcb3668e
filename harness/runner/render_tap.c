/* harness: results.tap, TAP version 13 as `prove` reads it.
 * pass -> ok; fail/error/timeout/crash -> not ok; skip -> ok # SKIP reason;
 * xfail -> not ok # TODO xfail: reason (prove counts it passed, as we do);
 * xpass -> not ok (no directive: prove would otherwise count it passed, and
 * for us it is a failure). Each failing test carries a YAMLish block with
 * its status, message, seed and replay command. */
#include "render.h"
#include "text.h"

int hr_render_tap(const hr_report *r, FILE *f)
{
    fputs("TAP version 13\n", f);
    fprintf(f, "1..%zu\n", r->n);
    for (size_t i = 0; i < r->n; i++) {
        const hr_result *x = &r->results[i];
        int ok = x->status == HR_PASS || x->status == HR_SKIP;
        fprintf(f, "%s %zu - ", ok ? "ok" : "not ok", i + 1);
        hr_tap_escape(f, x->id);
        if (x->status == HR_SKIP) {
            fputs(" # SKIP ", f);
            hr_tap_escape(f, x->message);
        } else if (x->status == HR_XFAIL) {
            fputs(" # TODO xfail: ", f);
            hr_tap_escape(f, x->reason);
        }
        fputc('\n', f);
        if (ok || x->status == HR_XFAIL)
            continue;
        fputs("  ---\n  status: ", f);
        fputs(hr_status_name(x->status), f);
        fputs("\n  message: ", f);
        hr_yaml_quote(f, x->message);
        fputs("\n  file: ", f);
        hr_yaml_quote(f, x->path);
        if (x->signal)
            fprintf(f, "\n  signal: %d", x->signal);
        fprintf(f, "\n  seed: %llu\n  wall_ms: %.3f\n", (unsigned long long)x->seed,
                x->wall_ms_median);
        if (x->replay[0]) {
            fputs("  replay: ", f);
            hr_yaml_quote(f, x->replay);
            fputc('\n', f);
        }
        fputs("  ...\n", f);
    }
    return ferror(f) ? -1 : 0;
}
