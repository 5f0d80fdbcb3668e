"""mt_suite: the tests a mutant is judged by, how to run one, and which lines
each one executes.

A suite (from the profile) is a Check unit-test binary, whose tests are run one
test case (TCase) at a time with CK_RUN_CASE, or the gapcheck runner, whose
tests are the end-to-end cases (both modes of a case together). A test id is
"<suite>:<tcase>" or "case:<case id>". Every test runs in its own process
group with a deadline; the group is killed at the deadline.

Coverage per test: the sources are built once with gcc --coverage, every test
runs alone, and gcov's JSON says which lines of the mutated files it ran.
"""

import glob
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time

CLEAN_ENV_KEYS = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "GNUMAKEFLAGS")


def clean_env(extra=None):
    env = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV_KEYS}
    env.update(extra or {})
    return env


def _session_members(sid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # pid (comm) state ppid pgrp session ...: comm may hold spaces.
        fields = stat[stat.rfind(b")") + 2:].split()
        if len(fields) > 3 and int(fields[3]) == sid:
            out.append(int(d))
    return out


def kill_session(sid):
    """SIGKILL every process of the test's session. Not its process group:
    Check's fork mode moves each test into a group of its own, so a mutant
    that forks without end (it happened: 10,000 processes) escapes killpg;
    nothing in a test calls setsid, so the session holds them all. Repeated
    until empty, as a forking process can add members during a pass."""
    _kill_until_empty(lambda: _session_members(sid), passes=50)


def _kill_until_empty(members, passes):
    """SIGKILL members() until it is empty or `passes` run out: one loop for
    every way of naming a job's processes (its session, its cgroup)."""
    for _ in range(passes):
        pids = members()
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.05)


class PidsCgroup:
    """A pids cgroup (v1 /sys/fs/cgroup/pids, or v2 with the pids controller)
    holding one job's tests: a mutant that forks without end hits pids.max
    (its fork fails, the test fails) instead of the host's process table.
    `path` is None where cgroups cannot be written (an unprivileged
    container): then the session kill and the sweep by working directory
    are all there is."""

    def __init__(self, name, limit):
        self.path = None
        _CGROUPS.append(self)
        for base in ("/sys/fs/cgroup/pids", "/sys/fs/cgroup/unified", "/sys/fs/cgroup"):
            if not os.path.exists(os.path.join(base, "cgroup.procs")):
                continue
            path = os.path.join(base, name)
            try:
                os.makedirs(path, exist_ok=True)
                with open(os.path.join(path, "pids.max"), "w") as f:
                    f.write(str(limit))
                self.path = path
                return
            except OSError:
                try:
                    os.rmdir(path)
                except OSError:
                    pass

    def enter(self):
        """In the child, before exec (Popen's preexec_fn)."""
        if self.path:
            with open(os.path.join(self.path, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))

    def kill_all(self):
        if not self.path:
            return
        _kill_until_empty(self._members, passes=100)

    def _members(self):
        try:
            with open(os.path.join(self.path, "cgroup.procs")) as f:
                return [int(x) for x in f.read().split()]
        except OSError:
            return []

    def remove(self):
        self.kill_all()
        if self.path:
            try:
                os.rmdir(self.path)
            except OSError:
                pass


def sweep_cwd(prefix):
    """SIGKILL what still runs with its working directory inside prefix (a
    scratch tree): the last net, for a process that left its session."""
    prefix = os.path.realpath(prefix)
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            cwd = os.readlink(f"/proc/{d}/cwd")
        except OSError:
            continue
        if cwd == prefix or cwd.startswith(prefix + "/"):
            try:
                os.kill(int(d), signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


# The tests running now (session id -> their cgroup or None): a campaign
# stopped by a signal kills them (stop_all). They run in sessions of their own,
# so the terminal's Ctrl-C does not reach them and SIGTERM to the campaign
# would leave them running.
_LIVE = {}
_LIVE_LOCK = threading.Lock()
_STOPPING = []
_CGROUPS = []


class Stopped(Exception):
    """The campaign is stopping: no test starts any more."""


def stop_all():
    """SIGKILL every running test's session and every job's cgroup, and let
    no test start after it; the cgroups are removed."""
    with _LIVE_LOCK:
        _STOPPING.append(True)
        live = list(_LIVE.items())
    for sid, cgroup in live:
        kill_session(sid)
    for cgroup in list(_CGROUPS):
        cgroup.remove()


def run_limited(argv, cwd, env, deadline, log_path, cgroup=None):
    """Run argv in a session (and pids cgroup) of its own; ('pass'|'fail'|
    'timeout', seconds, rc). Whatever it started is killed when it ends or
    misses its deadline."""
    t0 = time.monotonic()
    with open(log_path, "wb") as log:
        with _LIVE_LOCK:
            if _STOPPING:
                raise Stopped()
            p = subprocess.Popen(argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, start_new_session=True,
                                 preexec_fn=cgroup.enter if cgroup and cgroup.path else None)
            _LIVE[p.pid] = cgroup
        try:
            rc = p.wait(timeout=deadline)
            status = "pass" if rc == 0 else "fail"
        except subprocess.TimeoutExpired:
            kill_session(p.pid)
            if cgroup:
                cgroup.kill_all()
            p.wait()
            rc, status = None, "timeout"
    kill_session(p.pid)
    if cgroup:
        cgroup.kill_all()
    with _LIVE_LOCK:
        _LIVE.pop(p.pid, None)
    return status, time.monotonic() - t0, rc


def _binary(suite, build):
    return suite["binary"].replace("{build}", build)


def discover(profile, root, build):
    """Test ids of every suite, read from the built binaries in root/build."""
    tests = []
    for s in profile["suites"]:
        binary = os.path.join(root, _binary(s, build))
        if s["kind"] == "check":
            with tempfile.TemporaryDirectory() as td:
                tap = os.path.join(td, "t.tap")
                env = clean_env(dict(s.get("env", {}), GC_TEST_TAP=tap, CK_FORK="yes"))
                run_limited([binary], root, env, 900, os.path.join(td, "log"))
                names = []
                with open(tap, encoding="utf-8", errors="replace") as f:
                    for line in f:
                        m = re.match(r"^(?:not )?ok \d+ - [^:]*:([^:]+):", line)
                        if m and m.group(1) not in names:
                            names.append(m.group(1))
            if not names:
                raise RuntimeError(f"{binary}: no test case found in its TAP output")
            tests += [{"id": f"{s['name']}:{n}", "suite": s["name"], "tcase": n} for n in names]
        elif s["kind"] == "cases":
            out = subprocess.run([binary, "run", "--list"] + s["paths"], cwd=root,
                                 env=clean_env(), capture_output=True, text=True, timeout=120)
            ids = []
            for line in out.stdout.splitlines():
                cid = re.sub(r"\[(thread|process)\]$", "", line.strip())
                if cid and cid not in ids:
                    ids.append(cid)
            if not ids:
                raise RuntimeError(f"{binary} run --list: no case")
            tests += [{"id": f"case:{c}", "suite": s["name"], "case": c} for c in ids]
        else:
            raise ValueError(f"profile: suite {s['name']}: unknown kind {s['kind']!r}")
    return tests


def _suite(profile, name):
    return next(s for s in profile["suites"] if s["name"] == name)


def binary_of(profile, name, build):
    """The binary of the profile's suite `name` in `build`."""
    return _binary(_suite(profile, name), build)


def command(profile, build, tests, outdir):
    """(argv, env) that runs `tests` (all of one suite; cases may be several)."""
    s = _suite(profile, tests[0]["suite"])
    binary = _binary(s, build)
    if s["kind"] == "check":
        assert len(tests) == 1
        env = clean_env(dict(s.get("env", {}), CK_FORK="yes", CK_RUN_CASE=tests[0]["tcase"]))
        return [binary], env
    argv = [binary, "run", "--max-failures", "1", "--format", "json", "--output", outdir]
    for t in tests:
        argv += ["--filter", t["case"]]
    return argv + s["paths"], clean_env(s.get("env", {}))


def first_failure(outdir):
    """The first case that did not pass in a gapcheck results.json, or None."""
    try:
        with open(os.path.join(outdir, "results.json"), encoding="utf-8") as f:
            res = json.load(f)
    except (OSError, ValueError):
        return None
    for r in res.get("results", []):
        if r.get("status") not in ("pass", "xfail", "skip"):
            return r.get("id"), r.get("status"), r.get("message", "")
    return None


# ---- coverage per test -------------------------------------------------------

def gcov_lines(root, covbuild, files):
    """{file: set(lines executed)} from the .gcda files under covbuild."""
    out = {}
    for f in files:
        gcda = os.path.join(covbuild, f[:-2] + ".gcda")
        if not os.path.exists(gcda):
            continue
        p = subprocess.run(["gcov", "--json-format", "--stdout", gcda], cwd=root,
                           capture_output=True, timeout=120)
        for doc in p.stdout.decode("utf-8", "replace").splitlines():
            doc = doc.strip()
            if not doc.startswith("{"):
                continue
            for fi in json.loads(doc).get("files", []):
                name = os.path.relpath(os.path.join(root, fi["file"]), root) \
                    if not os.path.isabs(fi["file"]) else os.path.relpath(fi["file"], root)
                if name != f:
                    continue
                hit = out.setdefault(f, set())
                for ln in fi.get("lines", []):
                    if ln.get("count", 0) > 0:
                        hit.add(ln["line_number"])
    return out


def coverage_map(profile, root, covbuild_rel, tests, files, log, progress=print):
    """{test id: {file: [lines]}}: each test alone on the coverage build."""
    covbuild = os.path.join(root, covbuild_rel)
    cmap = {}
    for i, t in enumerate(tests):
        for g in glob.glob(os.path.join(covbuild, "**", "*.gcda"), recursive=True):
            os.unlink(g)
        with tempfile.TemporaryDirectory() as td:
            argv, env = command(profile, covbuild_rel, [t], td)
            status, secs, _ = run_limited(argv, root, env, 600, log)
        lines = gcov_lines(root, covbuild, files)
        cmap[t["id"]] = {f: sorted(v) for f, v in lines.items()}
        progress(f"mutate: coverage {i + 1}/{len(tests)} {t['id']}: {status}, "
                 f"{sum(len(v) for v in lines.values())} lines, {secs:.1f} s")
    for g in glob.glob(os.path.join(covbuild, "**", "*.gcda"), recursive=True):
        os.unlink(g)
    return cmap


def rmtree(path):
    shutil.rmtree(path, ignore_errors=True)
