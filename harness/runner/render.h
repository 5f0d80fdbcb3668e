/* harness: renderers of an hr_report (hr_render_*).
 *
 * One small renderer per format, each a pure function of the report, so that
 * a new format is one new function and the formats cannot drift apart:
 *   results.json  (jansson; fields documented in harness/README.md)
 *   junit.xml     (JUnit/Jenkins testsuites; validated in the tests by XSD)
 *   results.tap   (TAP version 13, accepted by prove)
 *   summary.md    (Markdown summary for humans and CI job pages) */
#ifndef GAPCHECK_HARNESS_RENDER_H
#define GAPCHECK_HARNESS_RENDER_H

#include <stdio.h>

#include "result.h"

enum {
    HR_FMT_JSON = 1u << 0,
    HR_FMT_JUNIT = 1u << 1,
    HR_FMT_TAP = 1u << 2,
    HR_FMT_MD = 1u << 3,
};
#define HR_FMT_DEFAULT (HR_FMT_JSON | HR_FMT_JUNIT | HR_FMT_TAP)

/* Each returns 0, or -1 when the output could not be written (or, for JSON,
 * built: out of memory). */
int hr_render_json(const hr_report *r, FILE *f);
int hr_render_junit(const hr_report *r, FILE *f);
int hr_render_tap(const hr_report *r, FILE *f);
int hr_render_md(const hr_report *r, FILE *f);

/* Name of the file a format is written to ("results.json"), or NULL. */
const char *hr_render_filename(unsigned fmt);

/* Write every format in `formats` to DIR/<filename> (DIR created if missing;
 * each file written to a temporary name and renamed, so a reader never sees
 * half a file). *written gets the formats whose file is in place. On failure
 * returns -1 with a reason in err. */
int hr_render_all(const hr_report *r, const char *dir, unsigned formats, unsigned *written,
                  char *err, size_t errlen);

#endif
