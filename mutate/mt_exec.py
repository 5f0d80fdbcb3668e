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

The memory judges (the profile's "memory_judges", one row each): a mutant
every test let through may still free twice, leak, read out of bounds or
uninitialised memory, which a passing test does not show. Each row runs the
survivor's covering Check test cases again, fastest first, in its own way:
"sanitizer" in the job's ASan+UBSan build (a row with make variables: one
object and the links rebuilt, as above), "valgrind" over the job's normal
build under `make memcheck`'s Valgrind command (a row with a wrapper). A
failure or a report of mk/memcheck-scan.sh (the one scanner of make memcheck
and make sanitize) kills it (killedBy "<row>:<test>"). Only survivors and
only their covering unit tests, at most a row's max_tests of them: the cost
is bounded by the survivors, not the campaign.
"""

import atexit
import os
import shlex
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
        # The memory judges' builds inside the scratch tree: a row with make
        # variables has a build of its own; a row without judges the normal one.
        self.own_builds = [j for j in profile.get("memory_judges", []) if j.get("vars")]
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
        for j in self.own_builds:
            ok, msg = self.make(j)
            if not ok:
                raise RuntimeError(f"scratch {j['name']} build failed in {self.tree}: {msg}")

    def build_of(self, judge=None):
        """The build directory a judge's tests run in (relative to the tree)."""
        if judge and judge.get("vars"):
            return judge.get("build", "{build}/" + judge["name"]).replace("{build}", self.build)
        return self.build

    def make(self, judge=None):
        """Build the test binaries: the normal build, or a memory judge's own."""
        if judge and judge.get("vars"):
            b = self.build_of(judge)
            args = [f"BUILD={b}"] + [f"{k}={v}" for k, v in judge["vars"].items()] \
                + [mt_suite.binary_of(self.profile, s, b) for s in judge["suites"]]
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
        builds = [(self.build, "pristine")] + [(self.build_of(j), "pristine-" + j["name"])
                                              for j in self.own_builds]
        for b, sub in builds:
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


def judge(scratch, point, original, tests_first, tests_rest, deadlines, profile, memory=()):
    """Build and test one mutant. Returns a result dict (Stryker status names).
    memory: [(memory judge row, its tests for this mutant, their deadlines)],
    in the profile's order; they judge only a mutant every other test let
    through, and the first that kills it ends the judging."""
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
            for row, tests, row_deadlines in memory:
                if res["status"] != "Survived":
                    break
                if tests:
                    res = _judge_memory(scratch, row, tests, row_deadlines, profile, res)
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


def memory_command(scratch, profile, judge, test, outdir):
    """(argv, env) of one unit test under a memory judge: in its build, with
    its environment, behind its wrapper (e.g. make memcheck's Valgrind)."""
    argv, env = mt_suite.command(profile, scratch.build_of(judge), [test], outdir)
    env.update(judge.get("env", {}))
    return shlex.split(judge.get("wrapper", "")) + argv, env


def memory_report(profile, log_path):
    """What mk/memcheck-scan.sh (the profile's "memory_scan", the scanner of
    make memcheck and make sanitize) finds in a test's output: its first line
    without the file name, or None when the output is clean."""
    p = subprocess.run([profile["memory_scan"], log_path], capture_output=True, text=True)
    if p.returncode == 0:
        return None
    first = (p.stdout.strip() or p.stderr.strip() or f"scan exit {p.returncode}").splitlines()[0]
    return first.replace(f"memcheck-scan: {log_path}: ", "", 1)[:300]


def _judge_memory(scratch, judge, tests, deadlines, profile, survived):
    """The survivor under one memory judge: a report or a failure kills it.
    The result's memory_s[name] is what the judge cost (build and tests)."""
    name, t0 = judge["name"], time.monotonic()
    res = _judge_memory_tests(scratch, judge, tests, deadlines, profile, survived)
    return dict(res, memory_s=dict(survived.get("memory_s", {}),
                                   **{name: time.monotonic() - t0}))


def _judge_memory_tests(scratch, judge, tests, deadlines, profile, survived):
    name = judge["name"]
    if judge.get("vars"):
        ok, msg = scratch.make(judge)
        if not ok:
            # It built normally, so this is the judge's build's problem: the
            # mutant stays a survivor, and the reason says why it was not judged.
            return dict(survived, statusReason=survived["statusReason"]
                        + f"; {name} build failed: {msg}")
    done = survived["testsCompleted"]
    for t in tests:
        with tempfile.TemporaryDirectory(dir=scratch.dir) as td:
            argv, env = memory_command(scratch, profile, judge, t, td)
            status, _ = _run_twice_if_late(scratch, argv, env, deadlines[t["id"]])
        done += 1
        if status == "timeout":
            continue  # slower under the tool: no verdict, not a kill
        found = memory_report(profile, scratch.log)
        if status == "fail" or found:
            return {"status": "Killed", "killedBy": [f"{name}:{t['id']}"],
                    "statusReason": f"{name}: " + (found or _tail(scratch.log)),
                    "testsCompleted": done}
    return dict(survived, testsCompleted=done,
                statusReason=survived["statusReason"] + f"; {len(tests)} clean under {name}")


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
