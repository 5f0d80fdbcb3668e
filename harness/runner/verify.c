/* harness: `gapcheck verify`, the one place an incident's verdict is decided
 * (see verify.h). It drives other programs rather than the engine: the fix
 * run and the re-injected run are `gapcheck run` (this binary, then the
 * variant built against the patched engine), whose results.json it reads;
 * the scratch copy, `patch` and `make` are child processes whose output goes
 * to log files under the incident's scratch folder. Nothing here writes the
 * source tree: the patch is applied to a private copy of engine/ (the rest of
 * the tree is linked), and a patch that names a file outside engine/ is
 * refused before it runs. The variant build starts from the tree's own
 * objects (copied with their times), so only what the patch changed is
 * compiled again: each re-injection is built once per run, and cheaply. */
#include "verify.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "result.h"
#include "text.h"

#define VF_MAX_INCIDENTS 256
#define VF_MAX_FILES 32
#define VF_PATH 4096
#define VF_CMD 16384

typedef struct vf_opts {
    const char *cases;       /* folder holding INC-* folders */
    const char *build;       /* the tree's build folder: objects to start from */
    const char *output;      /* verdict files; scratch in OUTPUT/INC-ID/ */
    const char *seed;
    const char *jobs;
    const char *also;        /* a case folder also run against every re-injection, or NULL */
    int seed_objects;
    const char *ids[VF_MAX_INCIDENTS];
    int nids;
} vf_opts;

/* What a reinject.patch says about itself. */
typedef struct vf_patch {
    char files[VF_MAX_FILES][256];   /* paths it edits, relative to the tree */
    int nfiles;
    int hunks;
    int affects_thread, affects_process;
    char bad[512];                   /* why it is unusable, "" when fine */
} vf_patch;

/* ---- small helpers ------------------------------------------------------------ */

static void vf_usage(FILE *f)
{
    fprintf(f,
        "usage: gapcheck verify [options] [INC-ID...]\n"
        "Verify incidents (default: every folder cases/INC-XXX/): the fix holds, the\n"
        "re-injected bug is caught in every mode it affects, every claim is measured\n"
        "and holds. Writes OUTPUT/INC-ID.json per incident (schema gapcheck-verdict).\n"
        "  --cases DIR      where the incident folders are (default cases)\n"
        "  --build DIR      the tree's build folder; re-injected builds start from its\n"
        "                   objects (default build)\n"
        "  --output DIR     verdict files; scratch copies in DIR/INC-ID/ (default DIR\n"
        "                   = BUILD/verify)\n"
        "  --no-seed        build each re-injected engine from scratch\n"
        "  --also DIR       also run the cases under DIR against every re-injected\n"
        "                   engine; each verdict records whether they caught it\n"
        "                   (reinject.also), without changing the verdict\n"
        "  -s, --seed N     run seed for both runs (default 1)\n"
        "  -j, --jobs N     cases run at once (default 1)\n"
        "Exit status: 0 every incident VERIFIED, 1 otherwise, 2 usage error.\n");
}

static int vf_is_id(const char *s)
{
    if (strncmp(s, "INC-", 4) != 0 || !s[4])
        return 0;
    for (const char *p = s; *p; p++)
        if (!(('A' <= *p && *p <= 'Z') || ('a' <= *p && *p <= 'z') || ('0' <= *p && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.'))
            return 0;
    return strlen(s) < 64;
}

/* 0, 1 when help was asked for, or -1 with the usage error in err. */
static int vf_parse(int argc, char **argv, vf_opts *o, char *err, size_t errlen)
{
    *o = (vf_opts){.cases = "cases", .build = "build", .seed = "1", .jobs = "1",
                   .seed_objects = 1};
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char **dst = !strcmp(a, "--cases") ? &o->cases
                         : !strcmp(a, "--build") ? &o->build
                         : !strcmp(a, "--output") ? &o->output
                         : (!strcmp(a, "--seed") || !strcmp(a, "-s")) ? &o->seed
                         : (!strcmp(a, "--jobs") || !strcmp(a, "-j")) ? &o->jobs
                         : !strcmp(a, "--also") ? &o->also : NULL;
        if (dst) {
            if (i + 1 >= argc || !argv[i + 1][0]) {
                hr_fmt(err, errlen, "%s needs a value", a);
                return -1;
            }
            *dst = argv[++i];
        } else if (!strcmp(a, "--no-seed")) {
            o->seed_objects = 0;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            return 1;
        } else if (a[0] == '-') {
            hr_fmt(err, errlen, "unknown option '%s' (try --help)", a);
            return -1;
        } else if (!vf_is_id(a)) {
            hr_fmt(err, errlen, "'%s' is not an incident id (INC-...)", a);
            return -1;
        } else if (o->nids >= VF_MAX_INCIDENTS) {
            hr_fmt(err, errlen, "more than %d incidents named", VF_MAX_INCIDENTS);
            return -1;
        } else {
            o->ids[o->nids++] = a;
        }
    }
    for (const char *p = o->seed; *p; p++)
        if (*p < '0' || *p > '9') {
            hr_fmt(err, errlen, "--seed '%s' is not a number", o->seed);
            return -1;
        }
    int jobs = atoi(o->jobs);
    if (jobs < 0 || jobs > 256 || strspn(o->jobs, "0123456789") != strlen(o->jobs)) {
        hr_fmt(err, errlen, "--jobs '%s' is not 0..256", o->jobs);
        return -1;
    }
    return 0;
}

static char *vf_read_file(const char *path, size_t max)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(max + 1);
    size_t n = buf ? fread(buf, 1, max, f) : 0;
    fclose(f);
    if (buf)
        buf[n] = '\0';
    return buf;
}

static int vf_is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* mkdir -p; on failure err names the folder that could not be made. */
static int vf_mkdirs(const char *path, char *err, size_t errlen)
{
    char tmp[VF_PATH];
    if (hr_fmt(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp) {
        hr_fmt(err, errlen, "cannot create %s: path too long", path);
        return -1;
    }
    for (char *p = tmp + (tmp[0] != '\0');; p++) {
        if (*p && *p != '/')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST) {
            hr_fmt(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
            return -1;
        }
        if (!c)
            return 0;
        *p = c;
    }
}

/* The last `keep` bytes of a log, on one line per line, for a message. */
static void vf_log_tail(const char *path, char *out, size_t cap)
{
    out[0] = '\0';
    char *s = vf_read_file(path, 1 << 20);
    if (!s)
        return;
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
        s[--n] = '\0';
    size_t keep = cap > 1 ? cap - 1 : 0;
    const char *from = n > keep ? s + n - keep : s;
    hr_fmt(out, cap, "%s", from);
    for (char *p = out; *p; p++)
        if (*p == '\n')
            *p = '|';
    free(s);
}

/* Runs argv with stdout+stderr into log; returns the exit status, 128+signal,
 * or -1 when it could not be started. clean_env: drop the caller's make
 * variables, so that a sub-make is not steered by ours. */
static int vf_spawn(const char *const argv[], const char *log, int clean_env)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int nul = open("/dev/null", O_RDONLY);
        if (fd < 0 || nul < 0)
            _exit(127);
        dup2(nul, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        if (clean_env) {
            unsetenv("MAKEFLAGS");
            unsetenv("MFLAGS");
            unsetenv("MAKELEVEL");
        }
        execvp(argv[0], (char *const *)argv);
        dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

static int vf_sh(const char *script, const char *log)
{
    const char *argv[] = {"/bin/sh", "-c", script, NULL};
    return vf_spawn(argv, log, 1);
}

/* ---- the patch ------------------------------------------------------------------ */

static void vf_patch_read(const char *path, const char *shown, vf_patch *p)
{
    memset(p, 0, sizeof *p);
    char *text = vf_read_file(path, 1 << 20);
    if (!text) {
        hr_fmt(p->bad, sizeof p->bad, "%s: cannot read it (%s)", shown, strerror(errno));
        return;
    }
    int in_diff = 0, affects_seen = 0;
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (!strncmp(line, "--- ", 4))
            in_diff = 1;
        if (!in_diff && !strncasecmp(line, "Affects:", 8)) {
            affects_seen = 1;
            for (char *tok = strtok(line + 8, ", \t"); tok; tok = strtok(NULL, ", \t")) {
                if (!strcmp(tok, "thread"))
                    p->affects_thread = 1;
                else if (!strcmp(tok, "process"))
                    p->affects_process = 1;
                else if (!p->bad[0])
                    hr_fmt(p->bad, sizeof p->bad,
                           "%s: Affects: names '%s' (expected thread, process or both)", shown,
                           tok);
            }
        } else if (!strncmp(line, "@@ ", 3)) {
            p->hunks++;
        } else if (!strncmp(line, "+++ ", 4)) {
            char *f = line + 4;
            if (!strncmp(f, "b/", 2))
                f += 2;
            f[strcspn(f, "\t ")] = '\0';
            if (strncmp(f, "engine/", 7) != 0 || strstr(f, "..")) {
                if (!p->bad[0])
                    hr_fmt(p->bad, sizeof p->bad,
                           "%s: edits '%s', outside engine/ (a re-injection changes the engine "
                           "only)", shown, f);
            } else if (p->nfiles < VF_MAX_FILES) {
                hr_fmt(p->files[p->nfiles++], sizeof p->files[0], "%s", f);
            }
        }
    }
    free(text);
    if (!affects_seen)
        p->affects_thread = p->affects_process = 1;
    if (!p->bad[0] && (p->nfiles == 0 || p->hunks == 0))
        hr_fmt(p->bad, sizeof p->bad, "%s: holds no unified diff (no '+++ ' file or '@@' hunk)",
               shown);
}

/* ---- results.json ------------------------------------------------------------------ */

static json_t *vf_results(const char *dir, char *why, size_t cap)
{
    char path[VF_PATH];
    hr_fmt(path, sizeof path, "%s/results.json", dir);
    json_error_t je;
    json_t *doc = json_load_file(path, 0, &je);
    if (!doc) {
        hr_fmt(why, cap, "%s: %s", path, je.text);
        return NULL;
    }
    if (!json_is_array(json_object_get(doc, "results"))) {
        hr_fmt(why, cap, "%s: no results[]", path);
        json_decref(doc);
        return NULL;
    }
    return doc;
}

static const char *vf_str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* What a result of the re-injected run says about the bug. Whether it caught
 * the bug is the result's own verdict (results.json `caught`, decided once in
 * result.c: it ran and failed, timed out or crashed); of the rest, an error
 * proves nothing (the case could not be judged), a skip did not run, and a
 * pass cannot fail against this bug. */
static const char *vf_caught(const json_t *r)
{
    const char *status = vf_str(r, "status");
    if (json_is_true(json_object_get(r, "caught")))
        return "caught";
    if (!strcmp(status, "error"))
        return "not judged";
    if (!strcmp(status, "skip"))
        return "not run";
    return "not caught";
}

/* ---- one incident -------------------------------------------------------------------- */

typedef struct vf_ctx {
    const vf_opts *o;
    char root[VF_PATH];       /* the tree (cwd) */
    char self[VF_PATH];       /* this binary */
    char out[VF_PATH];        /* verdict folder, absolute */
    char build_abs[VF_PATH];  /* "" when there is nothing to seed from */
} vf_ctx;

typedef struct vf_verdict {
    json_t *v;           /* the verdict object */
    json_t *missing;     /* what keeps it from VERIFIED */
    json_t *errors;      /* what could not be done at all */
} vf_verdict;

__attribute__((format(printf, 3, 4)))
static void vf_add(json_t *arr, const char *id, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char *clean = hr_utf8_clean(buf);
    json_array_append_new(arr, json_string(clean ? clean : "out of memory"));
    printf("verify %s: %s\n", id, clean ? clean : "out of memory");
    free(clean);
}

/* The incident's title: the front matter's `title:` or its first "# " line. */
static void vf_title(const char *path, char *out, size_t cap)
{
    out[0] = '\0';
    char *text = vf_read_file(path, 1 << 16);
    if (!text)
        return;
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (!strncmp(line, "title:", 6) || (!out[0] && !strncmp(line, "# ", 2))) {
            const char *t = line + (line[0] == '#' ? 2 : 6);
            t += strspn(t, " ");
            hr_fmt(out, cap, "%s", t);
            if (line[0] == 't')
                break;
        }
    }
    free(text);
}

static int vf_count_cases(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    for (struct dirent *de; (de = readdir(d));) {
        size_t l = strlen(de->d_name);
        n += de->d_name[0] != '.' && l > 5 && !strcmp(de->d_name + l - 5, ".case");
    }
    closedir(d);
    return n;
}

/* `gapcheck run` of the cases under `cases` with `bin`, results in `dir`. */
static json_t *vf_run_cases(const vf_ctx *c, const char *cases, const char *bin, const char *dir,
                            const char *log, char *why, size_t cap)
{
    const char *argv[] = {bin, "run", cases, "--seed", c->o->seed, "--jobs", c->o->jobs,
                          "--format", "json", "--output", dir, NULL};
    int rc = vf_spawn(argv, log, 0);
    if (rc != 0 && rc != 1) {
        char tail[400];
        vf_log_tail(log, tail, sizeof tail);
        hr_fmt(why, cap, "`%s run %s` exited with %d (log %s: %s)", bin, cases, rc, log, tail);
        return NULL;
    }
    return vf_results(dir, why, cap);
}

/* The scratch tree: a real copy of engine/, links to everything else, and
 * the tree's objects with their times so that make rebuilds only what the
 * patch touched. */
static int vf_scratch(const vf_ctx *c, const char *work, const char *log)
{
    char script[VF_CMD] = "";
    char src[VF_PATH], eng[VF_PATH];
    hr_fmt(src, sizeof src, "%s/src", work);
    hr_fmt(eng, sizeof eng, "%s/engine", c->root);
    size_t n = 0;
#define VF_APPEND(...) n += (size_t)hr_fmt(script + n, sizeof script - n, __VA_ARGS__)
#define VF_Q(s) do { char q_[VF_PATH * 2] = ""; hr_shell_append(q_, sizeof q_, (s)); \
                     VF_APPEND("%s", q_); } while (0)
    VF_APPEND("set -e; rm -rf ");
    VF_Q(src);
    VF_APPEND("; mkdir -p ");
    VF_Q(src);
    VF_APPEND("/build; cp -RLp ");
    VF_Q(eng);
    VF_APPEND(" ");
    VF_Q(src);
    VF_APPEND("/engine; for item in ");
    VF_Q(c->root);
    VF_APPEND("/*; do n=${item##*/}; [ -e ");
    VF_Q(src);
    VF_APPEND("/\"$n\" ] || ln -s \"$item\" ");
    VF_Q(src);
    VF_APPEND("/\"$n\"; done\n");
    if (c->build_abs[0]) {
        VF_APPEND("cd ");
        VF_Q(c->build_abs);
        VF_APPEND(" && find engine/src harness/case harness/runner -name '*.[od]' "
                  "-exec cp -p --parents -t ");
        VF_Q(src);
        VF_APPEND("/build/ {} + && { [ ! -e .deps-build ] || cp -p .deps-build ");
        VF_Q(src);
        VF_APPEND("/build/; }\n");
    }
#undef VF_APPEND
#undef VF_Q
    if (n >= sizeof script - 1)
        return -1;
    return vf_sh(script, log);
}

static void vf_files_json(json_t *arr, const vf_patch *p)
{
    for (int i = 0; i < p->nfiles; i++)
        json_array_append_new(arr, json_string(p->files[i]));
}

/* Compare the patched copy of each file the patch names with the tree's. */
static int vf_changed(const vf_ctx *c, const char *src, const vf_patch *p, json_t *changed)
{
    int n = 0;
    for (int i = 0; i < p->nfiles; i++) {
        char a[VF_PATH], b[VF_PATH];
        hr_fmt(a, sizeof a, "%s/%s", c->root, p->files[i]);
        hr_fmt(b, sizeof b, "%s/%s", src, p->files[i]);
        char *x = vf_read_file(a, 8 << 20), *y = vf_read_file(b, 8 << 20);
        if (!x || !y || strcmp(x, y) != 0) {
            json_array_append_new(changed, json_string(p->files[i]));
            n++;
        }
        free(x);
        free(y);
    }
    return n;
}

static json_t *vf_row(const json_t *r, const char *extra_key, const char *extra)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", vf_str(r, "id"), "case_id",
                          vf_str(r, "case_id"), "mode", vf_str(r, "mode"), "status",
                          vf_str(r, "status"), "message", vf_str(r, "message"));
    if (o && extra_key)
        json_object_set_new(o, extra_key, json_string(extra));
    return o;
}

/* --also: the same re-injected engine runs a case set that knows nothing of
 * this incident (the history cases: a checker told no bug). Recorded in
 * reinject.also with the rows and their messages (which name the anomaly)
 * and whether a case caught the bug in every mode the patch affects; the
 * verdict itself stays the incident's own cases' to decide. */
static void vf_also(const vf_ctx *c, const char *id, const char *bin, const char *work,
                    const vf_patch *p, json_t *rj)
{
    char dir[VF_PATH], log[VF_PATH], why[1024];
    hr_fmt(dir, sizeof dir, "%s/also", work);
    hr_fmt(log, sizeof log, "%s/also.log", work);
    json_t *also = json_pack("{s:s, s:s}", "cases", c->o->also, "results_file", "");
    json_object_set_new(rj, "also", also);
    json_object_set_new(also, "results_file", json_sprintf("%s/results.json", dir));
    json_t *doc = vf_run_cases(c, c->o->also, bin, dir, log, why, sizeof why);
    json_t *rr = doc ? json_object_get(doc, "results") : NULL;
    json_t *rows = json_array();
    int by_mode[2] = {0, 0};
    const char *first = "";
    size_t i;
    json_t *r;
    json_array_foreach(rr, i, r) {
        const char *cell = vf_caught(r);
        json_array_append_new(rows, vf_row(r, "cell", cell));
        if (strcmp(cell, "caught") != 0)
            continue;
        if (!first[0])
            first = vf_str(r, "message");
        by_mode[0] += !strcmp(vf_str(r, "mode"), "thread");
        by_mode[1] += !strcmp(vf_str(r, "mode"), "process");
    }
    int caught = rr && json_array_size(rr) > 0 && (!p->affects_thread || by_mode[0]) &&
                 (!p->affects_process || by_mode[1]);
    json_object_set_new(also, "results", rows);
    json_object_set_new(also, "caught_thread", json_integer(by_mode[0]));
    json_object_set_new(also, "caught_process", json_integer(by_mode[1]));
    json_object_set_new(also, "caught", json_boolean(caught));
    json_object_set_new(also, "error", rr ? json_null() : json_string(why));
    if (!rr)
        printf("verify %s: --also %s could not run on the re-injected engine: %s\n", id,
               c->o->also, why);
    else
        printf("verify %s: --also %s %s the re-injection (failing: thread %d, process %d of "
               "%zu)%s%.400s\n", id, c->o->also, caught ? "CAUGHT" : "did not catch", by_mode[0],
               by_mode[1], json_array_size(rr), first[0] ? ": " : "", first);
    json_decref(doc);
}

/* Re-injection: copy, patch, build, run. Fills v["reinject"]; returns the
 * variant's results (NULL when it could not get that far: an error). */
static json_t *vf_reinject(const vf_ctx *c, const char *id, const char *work, const vf_patch *p,
                           vf_verdict *vd, json_t *rj)
{
    char patch_shown[VF_PATH], patch_abs[VF_PATH], src[VF_PATH], log[VF_PATH];
    hr_fmt(patch_shown, sizeof patch_shown, "%s/%s/reinject.patch", c->o->cases, id);
    if (!realpath(patch_shown, patch_abs)) {
        vf_add(vd->errors, id, "%s: cannot be read (%s)", patch_shown, strerror(errno));
        return NULL;
    }
    hr_fmt(src, sizeof src, "%s/src", work);
    hr_fmt(log, sizeof log, "%s/scratch.log", work);
    if (vf_scratch(c, work, log) != 0) {
        char tail[400];
        vf_log_tail(log, tail, sizeof tail);
        vf_add(vd->errors, id, "cannot make the scratch copy in %s: %s", src, tail);
        return NULL;
    }
    hr_fmt(log, sizeof log, "%s/patch.log", work);
    const char *pargv[] = {"patch", "-p1", "-F0", "--batch", "--forward",
                           "--no-backup-if-mismatch", "-d", src, "-i", patch_abs, NULL};
    int rc = vf_spawn(pargv, log, 0);
    json_object_set_new(rj, "applies", json_boolean(rc == 0));
    if (rc != 0) {
        char tail[600];
        vf_log_tail(log, tail, sizeof tail);
        vf_add(vd->errors, id,
               "%s no longer applies to engine/ (patch exited %d: %s): the code where %s's bug "
               "lived has changed; re-create the patch so that it brings the bug back",
               patch_shown, rc, tail, id);
        return NULL;
    }
    json_t *changed = json_array();
    json_object_set_new(rj, "changed", changed);
    if (vf_changed(c, src, p, changed) == 0) {
        vf_add(vd->errors, id, "%s applied but changed nothing in engine/", patch_shown);
        return NULL;
    }
    hr_fmt(log, sizeof log, "%s/build.log", work);
    const char *margv[] = {"make", "-C", src, "--no-print-directory", "-j2", "BUILD=build",
                           "build/gapcheck", NULL};
    rc = vf_spawn(margv, log, 1);
    json_object_set_new(rj, "built", json_boolean(rc == 0));
    json_object_set_new(rj, "build_log", json_string(log));
    if (rc != 0) {
        char tail[600];
        vf_log_tail(log, tail, sizeof tail);
        vf_add(vd->errors, id, "the engine with %s re-injected (%s) does not build: %s", id,
               patch_shown, tail);
        return NULL;
    }
    char bin[VF_PATH], dir[VF_PATH], why[1024];
    hr_fmt(bin, sizeof bin, "%s/build/gapcheck", src);
    hr_fmt(dir, sizeof dir, "%s/reinject", work);
    hr_fmt(log, sizeof log, "%s/reinject.log", work);
    char cases[VF_PATH];
    hr_fmt(cases, sizeof cases, "%s/%s", c->o->cases, id);
    json_t *doc = vf_run_cases(c, cases, bin, dir, log, why, sizeof why);
    if (!doc)
        vf_add(vd->errors, id, "the cases could not run on the re-injected engine: %s", why);
    json_object_set_new(rj, "results_file", json_sprintf("%s/results.json", dir));
    if (c->o->also)
        vf_also(c, id, bin, work, p, rj);
    return doc;
}


/* The matrix: one row per case, per mode the fix status and what the
 * re-injected run did. Rendered as is by the reports. */
static json_t *vf_matrix(json_t *fix, json_t *re)
{
    json_t *rows = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(fix, i, r) {
        const char *cid = vf_str(r, "case_id"), *mode = vf_str(r, "mode");
        if (!mode[0])
            continue;
        json_t *row = NULL;
        size_t k;
        json_t *x;
        json_array_foreach(rows, k, x)
            if (!strcmp(vf_str(x, "case_id"), cid))
                row = x;
        if (!row) {
            row = json_pack("{s:s, s:s, s:{}}", "case_id", cid, "title", vf_str(r, "title"),
                            "modes");
            json_array_append_new(rows, row);
        }
        const char *re_status = "not run", *cell = "not run";
        size_t j;
        json_t *y;
        json_array_foreach(re, j, y)
            if (!strcmp(vf_str(y, "id"), vf_str(r, "id"))) {
                re_status = vf_str(y, "status");
                cell = vf_caught(y);
            }
        json_object_set_new(json_object_get(row, "modes"), mode,
                            json_pack("{s:s, s:s, s:s}", "fix", vf_str(r, "status"), "reinject",
                                      re_status, "cell", cell));
    }
    return rows;
}

static json_t *vf_one(const vf_ctx *c, const char *id)
{
    vf_verdict vd = {json_object(), json_array(), json_array()};
    json_t *v = vd.v;
    char dir[VF_PATH], path[VF_PATH], title[512], work[VF_PATH];
    hr_fmt(dir, sizeof dir, "%s/%s", c->o->cases, id);
    hr_fmt(work, sizeof work, "%s/%s", c->out, id);
    hr_fmt(path, sizeof path, "%s/INCIDENT.md", dir);
    vf_title(path, title, sizeof title);
    time_t now = time(NULL);
    struct tm tm;
    char when[32];
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_object_set_new(v, "schema", json_string("gapcheck-verdict"));
    json_object_set_new(v, "schema_version", json_integer(HR_VERDICT_SCHEMA_VERSION));
    json_object_set_new(v, "gapcheck_version", json_string(HR_VERSION));
    json_object_set_new(v, "generated_at", json_string(when));
    json_object_set_new(v, "incident", json_string(id));
    char *t = hr_utf8_clean(title);
    json_object_set_new(v, "title", json_string(t ? t : ""));
    free(t);
    json_object_set_new(v, "folder", json_string(dir));
    json_object_set_new(v, "seed", json_string(c->o->seed));

    /* The folder: every part an incident is made of. */
    static const char *const parts[] = {"INCIDENT.md", "CLAIMS.md", "reinject.patch"};
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
        hr_fmt(path, sizeof path, "%s/%s", dir, parts[i]);
        if (!vf_is_file(path))
            vf_add(vd.errors, id, "%s is missing (an incident folder holds INCIDENT.md, "
                   "CLAIMS.md, its cases and reinject.patch)", path);
    }
    int ncases = vf_count_cases(dir);
    if (ncases <= 0)
        vf_add(vd.errors, id, "%s holds no .case file", dir);
    char mkerr[VF_PATH + 64];
    if (vf_mkdirs(work, mkerr, sizeof mkerr) != 0)
        vf_add(vd.errors, id, "%s", mkerr);

    vf_patch p;
    hr_fmt(path, sizeof path, "%s/reinject.patch", dir);
    vf_patch_read(path, path, &p);
    json_t *rj = json_object();
    json_object_set_new(v, "reinject", rj);
    json_object_set_new(rj, "patch", json_string(path));
    json_t *files = json_array();
    vf_files_json(files, &p);
    json_object_set_new(rj, "files", files);
    json_object_set_new(rj, "hunks", json_integer(p.hunks));
    json_t *aff = json_array();
    if (p.affects_thread)
        json_array_append_new(aff, json_string("thread"));
    if (p.affects_process)
        json_array_append_new(aff, json_string("process"));
    json_object_set_new(rj, "affects", aff);
    if (p.bad[0] && vf_is_file(path))
        vf_add(vd.errors, id, "%s", p.bad);

    /* (1) the fix holds */
    json_t *fix_doc = NULL, *re_doc = NULL;
    json_t *fix = json_array(), *re = json_array();
    int fix_holds = 0;
    if (json_array_size(vd.errors) == 0) {
        char rdir[VF_PATH], log[VF_PATH], why[1024];
        hr_fmt(rdir, sizeof rdir, "%s/fix", work);
        hr_fmt(log, sizeof log, "%s/fix.log", work);
        char cases[VF_PATH];
        hr_fmt(cases, sizeof cases, "%s/%s", c->o->cases, id);
        fix_doc = vf_run_cases(c, cases, c->self, rdir, log, why, sizeof why);
        if (!fix_doc)
            vf_add(vd.errors, id, "the cases could not run: %s", why);
        json_object_set_new(v, "fix_results_file", json_sprintf("%s/results.json", rdir));
    }
    json_t *fr = fix_doc ? json_object_get(fix_doc, "results") : NULL;
    if (fr) {
        size_t i;
        json_t *r;
        fix_holds = json_array_size(fr) > 0;
        json_array_foreach(fr, i, r) {
            json_array_append_new(fix, vf_row(r, NULL, NULL));
            if (strcmp(vf_str(r, "status"), "pass") != 0) {
                fix_holds = 0;
                vf_add(vd.missing, id, "fix does not hold: %s is %s: %s", vf_str(r, "id"),
                       vf_str(r, "status"), vf_str(r, "message"));
            }
        }
        if (json_array_size(fr) == 0)
            vf_add(vd.missing, id, "fix does not hold: no case ran");
    }
    json_object_set_new(v, "fix", fix);

    /* (2) the re-injected bug is caught in every mode it affects */
    int sensitive = 0;
    if (fix_doc)
        re_doc = vf_reinject(c, id, work, &p, &vd, rj);
    json_t *rr = re_doc ? json_object_get(re_doc, "results") : NULL;
    json_t *caught = json_array(), *not_caught = json_array(), *not_judged = json_array();
    if (rr) {
        int by_mode[2] = {0, 0};
        size_t i;
        json_t *r;
        json_array_foreach(rr, i, r) {
            const char *cell = vf_caught(r);
            json_array_append_new(re, vf_row(r, "cell", cell));
            json_t *into = !strcmp(cell, "caught") ? caught
                         : !strcmp(cell, "not caught") ? not_caught : not_judged;
            json_array_append_new(into, json_string(vf_str(r, "id")));
            if (into == caught) {
                by_mode[0] += !strcmp(vf_str(r, "mode"), "thread");
                by_mode[1] += !strcmp(vf_str(r, "mode"), "process");
            }
        }
        sensitive = 1;
        if (p.affects_thread && !by_mode[0]) {
            sensitive = 0;
            vf_add(vd.missing, id, "not sensitive: with %s re-injected no case fails in thread "
                   "mode", id);
        }
        if (p.affects_process && !by_mode[1]) {
            sensitive = 0;
            vf_add(vd.missing, id, "not sensitive: with %s re-injected no case fails in process "
                   "mode", id);
        }
        json_object_set_new(rj, "caught_thread", json_integer(by_mode[0]));
        json_object_set_new(rj, "caught_process", json_integer(by_mode[1]));
    }
    json_object_set_new(rj, "results", re);
    json_object_set_new(rj, "caught", caught);
    json_object_set_new(rj, "not_caught", not_caught);
    json_object_set_new(rj, "not_judged", not_judged);

    /* (3) claims: from the fix run, each measured and within its limit */
    json_t *claims = json_array();
    int claims_hold = fr != NULL;
    if (fr) {
        size_t i;
        json_t *r;
        json_array_foreach(fr, i, r) {
            size_t k;
            json_t *cl;
            json_array_foreach(json_object_get(r, "claims"), k, cl) {
                json_t *m = json_object_get(cl, "measured");
                int held = json_is_true(json_object_get(cl, "holds")) && json_is_number(m) &&
                           !strcmp(vf_str(r, "status"), "pass");
                json_array_append_new(claims, json_pack(
                    "{s:s, s:s, s:s, s:s, s:s, s:O, s:O, s:b}", "case_id", vf_str(r, "case_id"),
                    "mode", vf_str(r, "mode"), "text", vf_str(cl, "text"), "metric",
                    vf_str(cl, "metric"), "unit", vf_str(cl, "unit"), "claimed",
                    json_object_get(cl, "claimed"), "measured", m ? m : json_null(), "holds",
                    held));
                if (!held) {
                    claims_hold = 0;
                    if (json_is_number(m))
                        vf_add(vd.missing, id, "claim not held: %s (%s [%s]): measured %g %s, "
                               "claimed <= %g", vf_str(cl, "text"), vf_str(r, "case_id"),
                               vf_str(r, "mode"), json_number_value(m), vf_str(cl, "unit"),
                               json_number_value(json_object_get(cl, "claimed")));
                    else
                        vf_add(vd.missing, id, "claim not measured, so not held: %s (%s [%s])",
                               vf_str(cl, "text"), vf_str(r, "case_id"), vf_str(r, "mode"));
                }
            }
        }
    }
    json_object_set_new(v, "claims", claims);
    json_object_set_new(v, "matrix", vf_matrix(fr ? fr : fix, rr ? rr : re));

    int ok = json_array_size(vd.errors) == 0 && fix_holds && sensitive && claims_hold;
    json_object_set_new(v, "fix_holds", json_boolean(fix_holds));
    json_object_set_new(v, "sensitive", json_boolean(sensitive));
    json_object_set_new(v, "claims_hold", json_boolean(claims_hold));
    json_object_set_new(v, "verified", json_boolean(ok));
    json_object_set_new(v, "verdict", json_string(ok ? "VERIFIED" : "NOT VERIFIED"));
    json_object_set_new(v, "errors", vd.errors);
    json_object_set_new(v, "missing", vd.missing);
    json_decref(fix_doc);
    json_decref(re_doc);

    printf("verify %s: fix %s (%zu results), re-injection caught by %zu of %zu "
           "(thread %lld, process %lld; affects %s%s%s), claims %s (%zu): %s\n",
           id, fr ? (fix_holds ? "holds" : "does NOT hold") : "not run", json_array_size(fix),
           json_array_size(caught), json_array_size(re),
           json_integer_value(json_object_get(rj, "caught_thread")),
           json_integer_value(json_object_get(rj, "caught_process")),
           p.affects_thread ? "thread" : "", p.affects_thread && p.affects_process ? "+" : "",
           p.affects_process ? "process" : "", claims_hold ? "hold" : "NOT held",
           json_array_size(claims), ok ? "VERIFIED" : "NOT VERIFIED");
    size_t i;
    json_t *s;
    json_array_foreach(not_caught, i, s)
        printf("verify %s: %s cannot fail against the re-injected bug (passes with it in)\n", id,
               json_string_value(s));
    fflush(stdout);
    return v;
}

/* ---- the command ----------------------------------------------------------------------- */

static int vf_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every folder INC-* under the cases folder: an incident is found by its
 * folder, there is no list to edit. */
static int vf_discover(const char *cases, char **ids, int cap, char *err, size_t errlen)
{
    DIR *d = opendir(cases);
    if (!d) {
        hr_fmt(err, errlen, "cannot read %s: %s", cases, strerror(errno));
        return -1;
    }
    int n = 0;
    for (struct dirent *de; (de = readdir(d)) && n < cap;) {
        char p[VF_PATH];
        struct stat st;
        hr_fmt(p, sizeof p, "%s/%s", cases, de->d_name);
        if (vf_is_id(de->d_name) && stat(p, &st) == 0 && S_ISDIR(st.st_mode))
            ids[n++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(ids, (size_t)n, sizeof *ids, vf_cmp);
    return n;
}

static int vf_write(const char *dir, const char *id, json_t *v, char *err, size_t errlen)
{
    char path[VF_PATH], tmp[VF_PATH];
    hr_fmt(path, sizeof path, "%s/%s.json", dir, id);
    hr_fmt(tmp, sizeof tmp, "%s/.%s.json.tmp", dir, id);
    if (json_dump_file(v, tmp, JSON_INDENT(2)) != 0 || rename(tmp, path) != 0) {
        hr_fmt(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int hr_verify_main(int argc, char **argv)
{
    vf_opts o;
    char err[VF_PATH + 128];
    int parsed = vf_parse(argc, argv, &o, err, sizeof err);
    if (parsed < 0) {
        fprintf(stderr, "gapcheck verify: %s\n", err);
        return 2;
    }
    if (parsed > 0) {
        vf_usage(stdout);
        return 0;
    }
    vf_ctx c = {.o = &o};
    char outbuf[VF_PATH];
    if (!o.output) {
        hr_fmt(outbuf, sizeof outbuf, "%s/verify", o.build);
        o.output = outbuf;
    }
    if (!getcwd(c.root, sizeof c.root) || readlink("/proc/self/exe", c.self, sizeof c.self - 1) < 0) {
        fprintf(stderr, "gapcheck verify: cannot find the tree or this binary: %s\n",
                strerror(errno));
        return 1;
    }
    if (vf_mkdirs(o.output, err, sizeof err) != 0 ||
        (!realpath(o.output, c.out) &&
         hr_fmt(err, sizeof err, "cannot resolve %s: %s", o.output, strerror(errno)) >= 0)) {
        fprintf(stderr, "gapcheck verify: %s\n", err);
        return 1;
    }
    char eng[VF_PATH];
    hr_fmt(eng, sizeof eng, "%s/engine/src", o.build);
    struct stat st;
    if (o.seed_objects && stat(eng, &st) == 0 && !realpath(o.build, c.build_abs))
        c.build_abs[0] = '\0';

    char *found[VF_MAX_INCIDENTS];
    int n = 0;
    if (o.nids) {
        for (int i = 0; i < o.nids; i++)
            found[n++] = strdup(o.ids[i]);
    } else {
        n = vf_discover(o.cases, found, VF_MAX_INCIDENTS, err, sizeof err);
        if (n < 0) {
            fprintf(stderr, "gapcheck verify: %s\n", err);
            return 1;
        }
        if (n == 0) {
            fprintf(stderr, "gapcheck verify: no incident folder (INC-*) in %s\n", o.cases);
            return 1;
        }
    }
    printf("gapcheck verify: %d incident%s from %s, verdicts in %s/\n", n, n == 1 ? "" : "s",
           o.cases, o.output);
    int passed = 0, failed = 0;
    for (int i = 0; i < n; i++) {
        char dir[VF_PATH];
        hr_fmt(dir, sizeof dir, "%s/%s", o.cases, found[i]);
        json_t *v;
        if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            v = json_pack("{s:s, s:i, s:s, s:s, s:b, s:[s]}", "schema", "gapcheck-verdict",
                          "schema_version", HR_VERDICT_SCHEMA_VERSION, "incident", found[i],
                          "verdict", "NOT VERIFIED", "verified", 0, "errors",
                          "no incident folder");
            printf("verify %s: %s is not a folder: NOT VERIFIED\n", found[i], dir);
        } else {
            v = vf_one(&c, found[i]);
        }
        int ok = v && json_is_true(json_object_get(v, "verified"));
        if (v && vf_write(c.out, found[i], v, err, sizeof err) != 0) {
            fprintf(stderr, "gapcheck verify: %s\n", err);
            ok = 0;
        }
        ok ? passed++ : failed++;
        json_decref(v);
        free(found[i]);
    }
    printf("incidents: %d verified, %d not\n", passed, failed);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
