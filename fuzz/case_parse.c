/* Fuzz target case_parse: arbitrary bytes as a case file for the harness's
 * parser (hc_case_parse). The answer must be a parsed case or an error that
 * an author can act on: a reason, the file name it was given, and a line
 * number inside the text (0 only for errors not tied to a line). Never a
 * crash, a leak or a half-built case. A parsed case must describe itself
 * sanely (NUL-terminated fields, counts within their arrays). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "case.h"
#include "fz.h"
#include "gapcheck/status.h"

#define FZ_CASE_NAME "fuzz.case"

static size_t count_lines(const uint8_t *data, size_t size)
{
    size_t n = 1;
    for (size_t i = 0; i < size; i++)
        n += data[i] == '\n';
    return n;
}

#define TERMINATED(field) (memchr((field), 0, sizeof(field)) != NULL)

static void check_info(const hc_case_info *in)
{
    FZ_CHECK(in != NULL, "a parsed case has no info");
    FZ_CHECK(TERMINATED(in->path) && strcmp(in->path, FZ_CASE_NAME) == 0,
             "info path is not the name given");
    FZ_CHECK(TERMINATED(in->id) && in->id[0], "a parsed case has no id");
    FZ_CHECK(TERMINATED(in->title) && TERMINATED(in->incident) && TERMINATED(in->xfail),
             "an info field is not NUL-terminated");
    FZ_CHECK(in->ntags >= 0 && in->ntags <= HC_TAGS_MAX, "ntags %d", in->ntags);
    for (int i = 0; i < in->ntags; i++)
        FZ_CHECK(TERMINATED(in->tags[i]), "tag %d not NUL-terminated", i);
    FZ_CHECK(in->nrequires >= 0 && in->nrequires <= HC_REQUIRES_MAX, "nrequires %d",
             in->nrequires);
    for (int i = 0; i < in->nrequires; i++)
        FZ_CHECK(TERMINATED(in->requires[i]), "requires %d not NUL-terminated", i);
    FZ_CHECK(in->nmodes >= 1 && in->nmodes <= 2, "nmodes %d", in->nmodes);
    FZ_CHECK(in->timeout_s > 0, "timeout %g", in->timeout_s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy: ASan then sees a read one past the text. */
    char *text = malloc(size ? size : 1);
    FZ_CHECK(text != NULL, "out of memory");
    if (size)
        memcpy(text, data, size);
    int mark = fz_fd_mark();
    hc_case *c = (hc_case *)&mark;   /* must be overwritten */
    hc_error err;
    memset(&err, 0x5a, sizeof err);
    int rc = hc_case_parse(FZ_CASE_NAME, text, size, &c, &err);
    if (fz_debug() && rc != GC_OK)
        fprintf(stderr, "case_parse: %s %.*s:%d: %.*s: %.*s\n", gc_status_name(rc),
                (int)sizeof err.path, err.path, err.line, (int)sizeof err.key, err.key,
                (int)sizeof err.message, err.message);
    else if (fz_debug())
        fprintf(stderr, "case_parse: OK\n");
    if (rc == GC_OK) {
        FZ_CHECK(c != NULL && c != (hc_case *)&mark, "success without a case");
        check_info(hc_case_get_info(c));
        hc_case_free(c);
    } else {
        FZ_CHECK(rc < 0 && rc >= GC_STATUS_MIN, "status %d", rc);
        FZ_CHECK(c == NULL, "a failed parse left a case");
        FZ_CHECK(TERMINATED(err.path) && strcmp(err.path, FZ_CASE_NAME) == 0,
                 "error names another file");
        FZ_CHECK(TERMINATED(err.message) && err.message[0], "error without a reason");
        FZ_CHECK(TERMINATED(err.key), "error key not NUL-terminated");
        FZ_CHECK(err.line >= 0 && (size_t)err.line <= count_lines(data, size),
                 "error at line %d of a %zu-line text: %s", err.line, count_lines(data, size),
                 err.message);
    }
    fz_fd_check(mark, "hc_case_parse");
    free(text);
    return 0;
}
