/* harness: writes the selected formats into the output directory. Files are
 * written under a temporary name and renamed, so a concurrent reader (a CI
 * step, the report builder) never reads half a file. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "render.h"

static const struct {
    unsigned fmt;
    const char *file;
    int (*render)(const hr_report *, FILE *);
} hr__formats[] = {
    {HR_FMT_JSON, "results.json", hr_render_json},
    {HR_FMT_JUNIT, "junit.xml", hr_render_junit},
    {HR_FMT_TAP, "results.tap", hr_render_tap},
    {HR_FMT_MD, "summary.md", hr_render_md},
};

const char *hr_render_filename(unsigned fmt)
{
    for (size_t i = 0; i < sizeof hr__formats / sizeof hr__formats[0]; i++)
        if (hr__formats[i].fmt == fmt)
            return hr__formats[i].file;
    return NULL;
}

/* mkdir -p: every prefix of dir, ignoring those that exist. */
static int hr__mkdirs(const char *dir, char *err, size_t errlen)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
        snprintf(err, errlen, "%s: path too long", dir);
        return -1;
    }
    for (char *p = path + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(path, 0777) != 0 && errno != EEXIST) {
                snprintf(err, errlen, "%s: %s", path, strerror(errno));
                return -1;
            }
            *p = c;
            if (c == '\0')
                break;
        }
    }
    return 0;
}

int hr_render_all(const hr_report *r, const char *dir, unsigned formats, unsigned *written,
                  char *err, size_t errlen)
{
    *written = 0;
    if (hr__mkdirs(dir, err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < sizeof hr__formats / sizeof hr__formats[0]; i++) {
        if (!(formats & hr__formats[i].fmt))
            continue;
        char final[4200], tmp[4300];
        snprintf(final, sizeof final, "%s/%s", dir, hr__formats[i].file);
        snprintf(tmp, sizeof tmp, "%s.tmp.%ld", final, (long)getpid());
        FILE *f = fopen(tmp, "w");
        if (!f) {
            snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
            return -1;
        }
        int rc = hr__formats[i].render(r, f);
        int saved = errno;
        if (fclose(f) != 0 && rc == 0) {
            rc = -1;
            saved = errno;
        }
        if (rc == 0 && rename(tmp, final) != 0) {
            rc = -1;
            saved = errno;
        }
        if (rc != 0) {
            unlink(tmp);
            snprintf(err, errlen, "%s: could not write (%s)", final,
                     saved ? strerror(saved) : "render failed");
            return -1;
        }
        *written |= hr__formats[i].fmt;
    }
    return 0;
}
