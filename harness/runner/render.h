/* harness: renderers of an hr_report (hr_render_*).
 *
 * One small renderer per format, each a pure function of the report, and one
 * row per format in HR_FORMAT_ROWS (below): its --format name, its file,
 * whether it is written by default; its renderer is hr_render_NAME. The
 * option parser, the usage text, the writer loop and the summary read the
 * table made from it (hr_formats[]), so a new format is its renderer and one
 * row:
 *   results.json  (jansson; fields documented in harness/README.md)
 *   junit.xml     (JUnit/Jenkins testsuites; validated in the tests by XSD)
 *   results.tap   (TAP version 13, accepted by prove)
 *   summary.md    (Markdown summary for humans and CI job pages) */
#ifndef GAPCHECK_HARNESS_RENDER_H
#define GAPCHECK_HARNESS_RENDER_H

#include <stdio.h>

#include "result.h"

/* The one list of output formats, one row each: the --format name, another
 * accepted name (or NULL), the file written, written by default or not.
 * Row NAME is rendered by hr_render_NAME (render_NAME.c), declared below
 * from this list; hr_formats[] in render.c is made from it too. A new format
 * is its renderer file and one row here. */
#define HR_FORMAT_ROWS(X)                       \
    X(json, NULL, "results.json", 1)            \
    X(junit, NULL, "junit.xml", 1)              \
    X(tap, NULL, "results.tap", 1)              \
    X(md, "markdown", "summary.md", 0)          \
    /* a new row goes above this line */

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

/* Each renderer returns 0, or -1 when the output could not be written (or,
 * for JSON, built: out of memory). */
#define HR__RENDER_DECL(name, alias, file, dflt) int hr_render_##name(const hr_report *r, FILE *f);
HR_FORMAT_ROWS(HR__RENDER_DECL)
#undef HR__RENDER_DECL


/* Write every format in `formats` to DIR/<filename> (DIR created if missing;
 * each file written to a temporary name and renamed, so a reader never sees
 * half a file). *written gets the formats whose file is in place. On failure
 * returns -1 with a reason in err. */
int hr_render_all(const hr_report *r, const char *dir, unsigned formats, unsigned *written,
                  char *err, size_t errlen);

#endif
