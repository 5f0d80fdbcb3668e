/* harness: renderers of an hr_report (hr_render_*).
 *
 * One small renderer per format, each a pure function of the report, and one
 * row per format in hr_formats[] (render.c): its --format name, its file,
 * whether it is written by default, its renderer. The option parser, the
 * usage text, the writer loop and the summary read that table, so a new
 * format is its function and one row:
 *   results.json  (jansson; fields documented in harness/README.md)
 *   junit.xml     (JUnit/Jenkins testsuites; validated in the tests by XSD)
 *   results.tap   (TAP version 13, accepted by prove)
 *   summary.md    (Markdown summary for humans and CI job pages) */
#ifndef GAPCHECK_HARNESS_RENDER_H
#define GAPCHECK_HARNESS_RENDER_H

#include <stdio.h>

#include "result.h"

/* One output format. A set of formats is a bit mask: bit i = hr_formats[i]. */
typedef struct hr_format {
    const char *name;                /* --format NAME */
    const char *alias;               /* another accepted name, or NULL */
    const char *file;                /* written to DIR/file */
    int by_default;                  /* written when --format is not given */
    int (*render)(const struct hr_report *, FILE *);
} hr_format;

extern const hr_format hr_formats[];
extern const size_t hr_nformats;

/* The mask of the format called `name` (or its alias), 0 when none is. */
unsigned hr_format_bit(const char *name);
/* The formats written by default. */
unsigned hr_formats_default(void);
/* "a,b,c": the mask of a comma list; -1 when an item names no format, with
 * the item and the known names in err. */
int hr_formats_parse(const char *list, unsigned *out, char *err, size_t errlen);
/* "json,junit,tap,md" (every format, or only the default ones): for usage. */
void hr_formats_names(char *buf, size_t len, int only_default);

/* Each returns 0, or -1 when the output could not be written (or, for JSON,
 * built: out of memory). */
int hr_render_json(const hr_report *r, FILE *f);
int hr_render_junit(const hr_report *r, FILE *f);
int hr_render_tap(const hr_report *r, FILE *f);
int hr_render_md(const hr_report *r, FILE *f);


/* Write every format in `formats` to DIR/<filename> (DIR created if missing;
 * each file written to a temporary name and renamed, so a reader never sees
 * half a file). *written gets the formats whose file is in place. On failure
 * returns -1 with a reason in err. */
int hr_render_all(const hr_report *r, const char *dir, unsigned formats, unsigned *written,
                  char *err, size_t errlen);

#endif
