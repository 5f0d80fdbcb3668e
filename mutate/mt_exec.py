"""mt_exec: build and judge one mutant in a scratch copy of the tree.

Each job owns a scratch tree (a copy of the tracked and untracked-but-not-
ignored files, and of the build's products with their timestamps), so make
sees it up to date. A mutant is written over the one source in the scratch
tree, `make` rebuilds that object and relinks the test binaries, the tests
run, then the original source and object come back with their old
timestamps. The real tree is never written.

Judging: the tests that executed the mutated line run first, fastest first
(each with a deadline derived from its measured time); the first failure
kills the mutant. If they all pass, the remaining tests run too. A mutant
whose build fails is CompileError; a test past its deadline is Timeout.

The sanitizer judge (the profile's "sanitizer"): a mutant every test let
through may still free twice, leak, read out of bounds or overflow, which a
passing test does not show. Such a survivor is rebuilt in the job's
ASan+UBSan build (one object and the links, as above) and the Check test
cases that executed its line run there, fastest first; a sanitizer report or
a failure kills it (killedBy "sanitizer:<test>"). Only survivors and only
their covering unit tests: the cost is bounded by the survivors, not the
campaign.
"""

import atexit
import os
import re
import shutil
import subprocess
import tempfile
import time

import mt_suite

# Tasks (processes and threads) a job's test may hold at once: the largest
# case runs 256 workers; a mutant that forks without end stops here.
PIDS_MAX = 2048

# Build products the scratch tree does not need (other variants' trees).
SKIP_BUILD_DIRS = {"coverage", "asan", "mutate", "reinject", "fuzz", "check", "install-stage",
                   "soak", "reports-test"}


def tree_files(root, skip=("build",)):
    """The tree's files: git's view (tracked, and untracked but not ignored),
    or, outside a work tree (a copied fixture), every file but `skip`."""
    p = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                       cwd=root, capture_output=True)
    files = [f for f in p.stdout.decode().split("\0") if f] if p.returncode == 0 else []
    if files:
        return files
    out = []
    for d, dirs, names in os.walk(root):
        rel = os.path.relpath(d, root)
        if rel == ".":
            dirs[:] = [x for x in dirs if x not in skip and not x.startswith(".")]
        out += [os.path.normpath(os.path.join(rel, n)) for n in names]
    return sorted(out)


# What a sanitizer prints when it finds something (as mk/memcheck-scan.sh).
SANITIZER_REPORT = re.compile(rb"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:")


class Scratch:
    def __init__(self, root, build, workdir, profile, targets):
        self.root, self.build, self.dir = root, build, workdir
        # The sanitizer judge's build inside the scratch tree, if any.
        san = profile.get("sanitizer")
        self.san = san if san and san.get("vars") else None
        self.san_build = san["build"].replace("{build}", build) if self.san else None
        self.san_targets = [b.replace("{build}", self.san_build)
                            for b in self.san["binaries"]] if self.san else []
        self.tree = os.path.join(workdir, "tree")
        self.pristine = os.path.join(workdir, "pristine")
        self.profile, self.targets = profile, targets
        self.log = os.path.join(workdir, "last.log")
        # Mutants' tests run in a pids cgroup of this job (see mt_suite).
        self.cgroup = mt_suite.PidsCgroup(
            f"gapcheck-mutate-{os.getpid()}-{os.path.basename(workdir)}", PIDS_MAX)
        atexit.register(self.cgroup.remove)

    def setup(self):
        """Copy the tree and its build into the scratch dir; make it current."""
        mt_suite.rmtree(self.dir)
        os.makedirs(self.tree)
        for f in tree_files(self.root):
            src = os.path.join(self.root, f)
            if not os.path.isfile(src):
                continue
            dst = os.path.join(self.tree, f)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy2(src, dst)
        bsrc, bdst = os.path.join(self.root, self.build), os.path.join(self.tree, self.build)
        if os.path.isdir(bsrc):
            def ignore(d, names):
                return [n for n in names if os.path.abspath(d) == os.path.abspath(bsrc)
                        and n in SKIP_BUILD_DIRS]
            shutil.copytree(bsrc, bdst, symlinks=True, ignore=ignore, dirs_exist_ok=True)
        ok, msg = self.make()
        if not ok:
            raise RuntimeError(f"scratch build failed in {self.tree}: {msg}")
        if self.san:
            ok, msg = self.make(sanitizer=True)
            if not ok:
                raise RuntimeError(f"scratch sanitizer build failed in {self.tree}: {msg}")

    def make(self, sanitizer=False):
        if sanitizer:
            args = [f"BUILD={self.san_build}"] + [f"{k}={v}" for k, v in self.san["vars"].items()] \
                + self.san_targets
        else:
            args = [f"BUILD={self.build}"] + self.targets
        p = subprocess.run(["make", "--no-print-directory", "-s", "-j1"] + args,
                           cwd=self.tree, env=mt_suite.clean_env(),
                           capture_output=True, text=True)
        if p.returncode == 0:
            return True, ""
        err = [ln for ln in (p.stderr + p.stdout).splitlines() if "error" in ln]
        return False, (err[0] if err else (p.stderr or p.stdout).strip()[-300:])

    def obj_of(self, src, build=None):
        return os.path.join(self.tree, build or self.build, src[:-2] + ".o")

    def apply(self, point, mutated):
        """Write the mutant; keep what restore() needs: the original object
        of every build the mutant may be compiled into."""
        path = os.path.join(self.tree, point.file)
        st = os.stat(os.path.join(self.root, point.file))
        objs, newest = [], 0
        for b, sub in ((self.build, "pristine"), (self.san_build, "pristine-san")):
            if not b:
                continue
            obj = self.obj_of(point.file, b)
            keep = os.path.join(self.dir, sub, point.file[:-2] + ".o")
            if not os.path.exists(keep) and os.path.exists(obj):
                os.makedirs(os.path.dirname(keep), exist_ok=True)
                shutil.copy2(obj, keep)
            if os.path.exists(obj):
                newest = max(newest, os.stat(obj).st_mtime)
            objs.append((obj, keep))
        with open(path, "wb") as f:
            f.write(mutated)
        # Newer than its objects whatever the clock did, so make rebuilds them.
        t = max(time.time(), newest + 2 if newest else 0)
        os.utime(path, (t, t))
        return (path, st, objs)

    def restore(self, saved, original):
        path, st, objs = saved
        with open(path, "wb") as f:
            f.write(original)
        os.utime(path, (st.st_atime, st.st_mtime))
        for obj, keep in objs:
            if os.path.exists(keep):
                shutil.copy2(keep, obj)


def judge(scratch, point, original, tests_first, tests_rest, deadlines, profile,
          san_tests=(), san_deadlines=None):
    """Build and test one mutant. Returns a result dict (Stryker status names).
    san_tests: the sanitizer judge's tests for this mutant (its covering
    unit tests), run only if every other test passed."""
    t0 = time.monotonic()
    saved = scratch.apply(point, point.apply(original))
    try:
        ok, msg = scratch.make()
        if not ok:
            return {"status": "CompileError", "statusReason": msg, "killedBy": [],
                    "testsCompleted": 0, "duration": 0, "build_s": time.monotonic() - t0}
        build_s = time.monotonic() - t0
        t1 = time.monotonic()
        done = 0
        for batch in _batches(tests_first) + _batches(tests_rest):
            with tempfile.TemporaryDirectory(dir=scratch.dir) as td:
                argv, env = mt_suite.command(profile, scratch.build, batch, td)
                deadline = sum(deadlines[t["id"]] for t in batch)
                status, deadline = _run_twice_if_late(scratch, argv, env, deadline)
                if status == "pass":
                    done += len(batch)
                    continue
                who, why = batch[0]["id"], _tail(scratch.log)
                if batch[0].get("case"):
                    ff = mt_suite.first_failure(td)
                    if ff:
                        who, why = "case:" + ff[0], f"{ff[1]}: {ff[2]}"
                res = {"status": "Timeout" if status == "timeout" else "Killed",
                       "killedBy": [who] if status != "timeout" else [],
                       "statusReason": (f"no result within {deadline:.0f} s ({who})"
                                        if status == "timeout" else why),
                       "testsCompleted": done + 1}
                break
        else:
            res = {"status": "Survived", "killedBy": [], "testsCompleted": done,
                   "statusReason": f"{done} tests passed"}
            if san_tests:
                res = _judge_sanitizer(scratch, san_tests, san_deadlines, profile, res)
        res.update(duration=round((time.monotonic() - t1) * 1000), build_s=build_s)
        return res
    finally:
        scratch.restore(saved, original)


def _run_twice_if_late(scratch, argv, env, deadline):
    """(status, last deadline) of one test in the scratch tree. On a shared,
    loaded machine a test can miss its deadline for reasons of its own: a
    timeout counts only when a second run with twice the time misses it too."""
    status, _, _ = mt_suite.run_limited(argv, scratch.tree, env, deadline, scratch.log,
                                        scratch.cgroup)
    mt_suite.sweep_cwd(scratch.tree)
    if status == "timeout":
        deadline *= 2
        status, _, _ = mt_suite.run_limited(argv, scratch.tree, env, deadline, scratch.log,
                                            scratch.cgroup)
        mt_suite.sweep_cwd(scratch.tree)
    return status, deadline


def sanitizer_command(scratch, profile, test, outdir):
    """(argv, env) of one unit test in the job's sanitizer build."""
    argv, env = mt_suite.command(profile, scratch.san_build, [test], outdir)
    env.update(scratch.san.get("env", {}))
    return argv, env


def sanitizer_found(log_path):
    try:
        with open(log_path, "rb") as f:
            return SANITIZER_REPORT.search(f.read()) is not None
    except OSError:
        return False


def _judge_sanitizer(scratch, tests, deadlines, profile, survived):
    """The survivor in the ASan+UBSan build: a report or a failure kills it."""
    ok, msg = scratch.make(sanitizer=True)
    if not ok:
        # It built normally, so this is the sanitizer build's problem: the
        # mutant stays a survivor, and the reason says why it was not judged.
        return dict(survived, statusReason=survived["statusReason"]
                    + f"; sanitizer build failed: {msg}")
    done = survived["testsCompleted"]
    for t in tests:
        with tempfile.TemporaryDirectory(dir=scratch.dir) as td:
            argv, env = sanitizer_command(scratch, profile, t, td)
            status, _ = _run_twice_if_late(scratch, argv, env, deadlines[t["id"]])
        done += 1
        if status == "timeout":
            continue  # slower under the sanitizer: no verdict, not a kill
        if status == "fail" or sanitizer_found(scratch.log):
            return {"status": "Killed", "killedBy": ["sanitizer:" + t["id"]],
                    "statusReason": "sanitizer: " + _sanitizer_line(scratch.log),
                    "testsCompleted": done}
    return dict(survived, testsCompleted=done,
                statusReason=survived["statusReason"] + f"; {len(tests)} clean under sanitizers")


def _sanitizer_line(path):
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    for ln in text.splitlines():
        if SANITIZER_REPORT.search(ln.encode()):
            return ln.strip()[:300]
    return _tail(path)


def _batches(tests):
    """Check test cases one by one; end-to-end cases of one suite together
    (the runner stops at the first failure)."""
    out, cases = [], {}
    for t in tests:
        if t.get("case"):
            cases.setdefault(t["suite"], []).append(t)
        else:
            out.append([t])
    return out + list(cases.values())


def _tail(path, n=3):
    try:
        with open(path, "rb") as f:
            lines = f.read()[-4000:].decode("utf-8", "replace").splitlines()
    except OSError:
        return ""
    lines = [ln for ln in lines if ln.strip()]
    return " | ".join(lines[-n:])[:400]
