/* harness: finding case files (hr_discover_*).
 *
 * A PATH that is a directory is walked recursively for *.case files; a PATH
 * that is a file is taken as it is (whatever its name, so one case can be
 * replayed by naming it). Hidden entries (".x") are skipped and symbolic links
 * to directories are not followed, so a link cannot loop the walk. The list
 * is sorted bytewise (locale-independent) and duplicates removed, so the
 * order, and with it every index and shard, is stable. */
#ifndef GAPCHECK_HARNESS_DISCOVER_H
#define GAPCHECK_HARNESS_DISCOVER_H

#include <stddef.h>

typedef struct hr_files {
    char **paths;   /* owned */
    size_t n, cap;
} hr_files;

/* Returns 0, or -1 with a reason in err (a PATH that does not exist or
 * cannot be read). On failure *out is empty. */
int hr_discover(const char *const *roots, int nroots, hr_files *out, char *err, size_t errlen);
void hr_files_free(hr_files *f);

#endif
