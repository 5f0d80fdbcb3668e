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
"""

import atexit
import os
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


class Scratch:
    def __init__(self, root, build, workdir, profile, targets):
        self.root, self.build, self.dir = root, build, workdir
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

    def make(self):
        p = subprocess.run(["make", "--no-print-directory", "-s", "-j1", f"BUILD={self.build}"]
                           + self.targets, cwd=self.tree, env=mt_suite.clean_env(),
                           capture_output=True, text=True)
        if p.returncode == 0:
            return True, ""
        err = [ln for ln in (p.stderr + p.stdout).splitlines() if "error" in ln]
        return False, (err[0] if err else (p.stderr or p.stdout).strip()[-300:])

    def obj_of(self, src):
        return os.path.join(self.tree, self.build, src[:-2] + ".o")

    def apply(self, point, mutated):
        """Write the mutant; keep what restore() needs."""
        path = os.path.join(self.tree, point.file)
        st = os.stat(os.path.join(self.root, point.file))
        obj = self.obj_of(point.file)
        keep = os.path.join(self.pristine, point.file[:-2] + ".o")
        if not os.path.exists(keep) and os.path.exists(obj):
            os.makedirs(os.path.dirname(keep), exist_ok=True)
            shutil.copy2(obj, keep)
        with open(path, "wb") as f:
            f.write(mutated)
        # Newer than its object whatever the clock did, so make rebuilds it.
        t = max(time.time(), os.stat(obj).st_mtime + 2 if os.path.exists(obj) else 0)
        os.utime(path, (t, t))
        return (path, st, obj, keep)

    def restore(self, saved, original):
        path, st, obj, keep = saved
        with open(path, "wb") as f:
            f.write(original)
        os.utime(path, (st.st_atime, st.st_mtime))
        if os.path.exists(keep):
            shutil.copy2(keep, obj)


def judge(scratch, point, original, tests_first, tests_rest, deadlines, profile):
    """Build and test one mutant. Returns a result dict (Stryker status names)."""
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
                status, secs, rc = mt_suite.run_limited(argv, scratch.tree, env, deadline,
                                                        scratch.log, scratch.cgroup)
                mt_suite.sweep_cwd(scratch.tree)
                if status == "timeout":
                    # On a shared, loaded machine a test can miss its deadline
                    # for reasons of its own: a timeout counts only when a
                    # second run with twice the time misses it too.
                    deadline *= 2
                    status, secs, rc = mt_suite.run_limited(argv, scratch.tree, env, deadline,
                                                            scratch.log, scratch.cgroup)
                    mt_suite.sweep_cwd(scratch.tree)
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
        res.update(duration=round((time.monotonic() - t1) * 1000), build_s=build_s)
        return res
    finally:
        scratch.restore(saved, original)


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
