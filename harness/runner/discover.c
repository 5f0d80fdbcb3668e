/* harness: case discovery (see discover.h). */
#include "discover.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int hr__add(hr_files *f, const char *path)
{
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 64;
        char **p = realloc(f->paths, cap * sizeof *p);
        if (!p)
            return -1;
        f->paths = p;
        f->cap = cap;
    }
    char *dup = strdup(path);
    if (!dup)
        return -1;
    f->paths[f->n++] = dup;
    return 0;
}

static int hr__ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a > b && !strcmp(s + a - b, suffix);
}

static int hr__walk(hr_files *f, const char *dir, int depth, char *err, size_t errlen)
{
    if (depth > 64) {
        snprintf(err, errlen, "%s: directories nested too deep", dir);
        return -1;
    }
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (errno = 0, e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        size_t dl = strlen(dir);
        const char *sep = dl && dir[dl - 1] == '/' ? "" : "/";
        if (snprintf(path, sizeof path, "%s%s%s", dir, sep, e->d_name) >= (int)sizeof path) {
            snprintf(err, errlen, "%s/%s: path too long", dir, e->d_name);
            rc = -1;
            break;
        }
        struct stat st;
        if (lstat(path, &st) != 0) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            rc = -1;
        } else if (S_ISDIR(st.st_mode)) {
            rc = hr__walk(f, path, depth + 1, err, errlen);
        } else if (hr__ends_with(e->d_name, ".case")) {
            /* A link to a file is fine; a dangling one is reported by the load. */
            if (hr__add(f, path) != 0) {
                snprintf(err, errlen, "out of memory");
                rc = -1;
            }
        }
    }
    if (rc == 0 && errno) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        rc = -1;
    }
    closedir(d);
    return rc;
}

static int hr__cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int hr_discover(const char *const *roots, int nroots, hr_files *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < nroots; i++) {
        struct stat st;
        if (stat(roots[i], &st) != 0) {
            snprintf(err, errlen, "%s: %s", roots[i], strerror(errno));
            goto fail;
        }
        if (S_ISDIR(st.st_mode)) {
            if (hr__walk(out, roots[i], 0, err, errlen) != 0)
                goto fail;
        } else if (hr__add(out, roots[i]) != 0) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
    }
    if (out->n)
        qsort(out->paths, out->n, sizeof *out->paths, hr__cmp);
    size_t w = 0;
    for (size_t r = 0; r < out->n; r++) {
        if (w && !strcmp(out->paths[w - 1], out->paths[r]))
            free(out->paths[r]);
        else
            out->paths[w++] = out->paths[r];
    }
    out->n = w;
    return 0;
fail:
    hr_files_free(out);
    return -1;
}

void hr_files_free(hr_files *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->paths[i]);
    free(f->paths);
    memset(f, 0, sizeof *f);
}
