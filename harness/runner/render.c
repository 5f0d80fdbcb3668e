/* harness: writes the selected formats into the output directory. Files are
 * written under a temporary name and renamed, so a concurrent reader (a CI
 * step, the report builder) never reads half a file. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "render.h"

/* The table of HR_FORMAT_ROWS (render.h), in its order. */
#define HR__FORMAT(name, alias, file, dflt) {#name, alias, file, dflt, hr_render_##name},
const hr_format hr_formats[] = {HR_FORMAT_ROWS(HR__FORMAT)};
#undef HR__FORMAT
const size_t hr_nformats = sizeof hr_formats / sizeof hr_formats[0];

static unsigned hr__format_bit_n(const char *name, size_t n)
{
    for (size_t i = 0; i < hr_nformats; i++) {
        const hr_format *f = &hr_formats[i];
        if ((strlen(f->name) == n && strncmp(f->name, name, n) == 0) ||
            (f->alias && strlen(f->alias) == n && strncmp(f->alias, name, n) == 0))
            return 1u << i;
    }
    return 0;
}

unsigned hr_format_bit(const char *name)
{
    return hr__format_bit_n(name, strlen(name));
}

unsigned hr_formats_default(void)
{
    unsigned m = 0;
    for (size_t i = 0; i < hr_nformats; i++)
        if (hr_formats[i].by_default)
            m |= 1u << i;
    return m;
}

int hr_formats_parse(const char *list, unsigned *out, char *err, size_t errlen)
{
    unsigned m = 0;
    for (const char *p = list;; ) {
        size_t n = strcspn(p, ",");
        unsigned bit = hr__format_bit_n(p, n);
        if (!bit) {
            char names[128];
            hr_formats_names(names, sizeof names, 0);
            snprintf(err, errlen, "'%.*s' is not a format (known: %s)", (int)n, p, names);
            return -1;
        }
        m |= bit;
        if (!p[n])
            break;
        p += n + 1;
    }
    *out = m;
    return 0;
}

void hr_formats_names(char *buf, size_t len, int only_default)
{
    size_t used = 0;
    if (len)
        buf[0] = '\0';
    for (size_t i = 0; i < hr_nformats && used < len; i++) {
        if (only_default && !hr_formats[i].by_default)
            continue;
        int n = snprintf(buf + used, len - used, "%s%s", used ? "," : "", hr_formats[i].name);
        if (n < 0)
            break;
        used += (size_t)n;
    }
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
    for (size_t i = 0; i < hr_nformats; i++) {
        if (!(formats & (1u << i)))
            continue;
        char final[4200], tmp[4300];
        snprintf(final, sizeof final, "%s/%s", dir, hr_formats[i].file);
        snprintf(tmp, sizeof tmp, "%s.tmp.%ld", final, (long)getpid());
        FILE *f = fopen(tmp, "w");
        if (!f) {
            snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
            return -1;
        }
        int rc = hr_formats[i].render(r, f);
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
        *written |= 1u << i;
    }
    return 0;
}
