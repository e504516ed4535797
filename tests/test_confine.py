"""The kernel's layers around a grading child (mlkata/confine.py), each shown on its own: what the
child can no longer do, that what honest code needs still works, and how a machine without a
layer is reported."""
import os
import textwrap

import pytest

from mlkata import cli, confine, doctor, grading, sandbox

SUPPORT = confine.support()
linux_full = pytest.mark.skipif(not SUPPORT.full, reason=f"kernel layers missing here: {SUPPORT.missing}")
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="the uid drop applies when the grader runs as root")


def run_confined(tmp_path, source: str, calls: list[tuple], **job_options):
    """Import ``source`` as a submission in a real sandboxed child (no source policy: this tests
    the child) and call its functions; returns the records and the session's kernel refusals."""
    path = tmp_path / "submission" / "probe_me.py"
    path.parent.mkdir(parents=True)
    path.write_text(textwrap.dedent(source))
    job_options.setdefault("audit_hook", False)
    job = sandbox.Job(student_file=str(path), module_name="mlkata_confine_probe", probe_modules={},
                      protected=[str(tmp_path / "submission")], **job_options)
    session = sandbox.IsolatedSession(job, call_timeout=20.0)
    try:
        records = [session.call(("call", name), args, {}) for name, *args in calls]
        report = dict(session.confinement or {})
    finally:
        session.close()
    return records, [r.syscall for r in session.refused], report


@pytest.mark.skipif(not os.environ.get("CI"), reason="a statement about the CI machine (.ci/run sets CI=1)")
def test_ci_has_every_kernel_layer_so_that_no_security_test_skips():
    """The kernel tests here and the hostile suite skip on a machine without the layers; CI (Linux
    6.x, Landlock ABI >= 4, seccomp, user namespaces) must run them all, so a lost layer fails CI."""
    assert SUPPORT.full, f"kernel layers missing on the CI machine: {SUPPORT.missing}"


def value(record):
    assert "__error__" not in record, record
    return record["value"]


@linux_full
def test_every_layer_is_applied_on_this_machine(tmp_path):
    _, _, report = run_confined(tmp_path, "def f():\n    return 1\n", [("f",)])
    applied = " ".join(report["layers"])
    for layer in ("no_new_privs", "landlock", "seccomp (refusals reported by the kernel)"):
        assert layer in applied, report
    assert report["missing"] == {}


@linux_full
@as_root
def test_the_child_runs_as_nobody_with_no_groups(tmp_path):
    records, _, report = run_confined(tmp_path, """
        import os
        def ids():
            return [os.getuid(), os.geteuid(), os.getgid(), os.getegid(), list(os.getgroups())]
    """, [("ids",)])
    assert value(records[0]) == [confine.NOBODY] * 4 + [[]]
    assert any("uid 65534" in layer for layer in report["layers"])


@linux_full
def test_honest_needs_still_work_threads_stdlib_imports_temp_files(tmp_path):
    """What a correct submission may do: import any module of the interpreter (not preloaded),
    use threads (torch's pools, its own), write in its folder and in tempfile's folder."""
    records, refused, _ = run_confined(tmp_path, """
        import fractions, decimal, heapq, xml.dom.minidom, statistics, tempfile, threading
        import torch
        def work():
            torch.set_num_threads(2)
            a = torch.randn(256, 256)
            total = float((a @ a).sum())
            box = []
            t = threading.Thread(target=lambda: box.append(sum(range(10))))
            t.start(); t.join()
            with open("notes.txt", "w") as f:
                f.write("ok")
            with tempfile.NamedTemporaryFile("w") as f:
                f.write("ok")
            half = torch.randn(4, 8, dtype=torch.float16)      # kernels that ask torch's cpuinfo
            norm = float(torch.linalg.vector_norm(half.float(), dim=-1).sum() + (half * half).float().mean())
            return [box[0], open("notes.txt").read(), str(fractions.Fraction(1, 3)), total == total, norm > 0]
    """, [("work",)])
    assert value(records[0]) == [45, "ok", "1/3", True, True]
    assert refused == []


@linux_full
def test_files_outside_the_folder_are_out_of_reach_whatever_the_path_form(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("the grader's secret")
    records, _, _ = run_confined(tmp_path, f"""
        import os
        SECRET = {str(secret)!r}
        def plain():
            return open(SECRET).read()
        def through_dir_fd():
            fd = os.open(os.path.dirname(SECRET), os.O_RDONLY | os.O_DIRECTORY)
            return os.read(os.open("secret.txt", os.O_RDONLY, dir_fd=fd), 100).decode()
        def through_a_link():
            os.link(SECRET, "copy.txt")
            return open("copy.txt").read()
        def through_proc():
            return open(f"/proc/{{os.getppid()}}/root" + SECRET).read()
        def write_outside():
            open({str(tmp_path / "planted.txt")!r}, "w").write("x")
    """, [("plain",), ("through_dir_fd",), ("through_a_link",), ("through_proc",), ("write_outside",)])
    for record in records:
        assert "__error__" in record, record
        assert "the grader's secret" not in str(record)
    assert not (tmp_path / "planted.txt").exists()


@linux_full
def test_refused_system_calls_fail_with_eperm_and_are_reported_by_the_kernel(tmp_path):
    records, refused, _ = run_confined(tmp_path, """
        import os, socket
        def fork():
            os.fork()
        def sock():
            socket.socket()
        def signal_parent():
            os.kill(os.getppid(), 0)
        def signal_self():
            os.kill(os.getpid(), 0)
            return "ok"
    """, [("fork",), ("sock",), ("signal_parent",), ("signal_self",)])
    for record in records[:3]:
        assert "Operation not permitted" in record["__error__"]["message"], record
    assert value(records[3]) == "ok"
    assert {"clone", "socket", "kill"} <= set(refused) or {"fork", "socket", "kill"} <= set(refused), refused


@linux_full
def test_a_refused_call_zeroes_the_exercise_even_if_the_code_hides_the_error(tmp_path):
    """The kernel reports to the judge; swallowing the PermissionError buys nothing."""
    from mlkata import catalog
    ex = catalog.get("fundamentals/gradient_clipping")
    reference = (grading.catalog.ROOT / "solutions" / "fundamentals" / "gradient_clipping.py").read_text()
    sneaky = reference + "\nimport os\ntry:\n    os.fork()\nexcept OSError:\n    pass\n"
    target = ex.submission_file(tmp_path)
    target.parent.mkdir(parents=True)
    target.write_text(sneaky)
    result = grading.grade_exercise(ex, str(tmp_path), source_policy=False, audit_hook=False, call_timeout=10.0)
    assert result.score == 0
    assert all("the kernel refused the system call" in r.message for r in result.results)
    with_hook = grading.grade_exercise(ex, str(tmp_path), source_policy=False, call_timeout=10.0)
    assert with_hook.score == 0       # the audit hook refused first, and said so
    assert all("os.fork is not allowed" in r.message for r in with_hook.results)


@linux_full
def test_landlock_denies_ptrace_style_access_to_processes_outside_its_domain():
    """/proc/<pid>/mem of a process outside the domain is refused by Landlock itself, even when
    the ruleset lets the child read /proc and the child is root (who may otherwise read it)."""
    import landlockpy
    from landlockpy import AccessFS, Ruleset
    parent = os.getpid()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:                  # the child: report what it could open, then leave at once
        os.close(read)
        outcome = []
        outcome.append(_try_open(f"/proc/{parent}/mem"))          # before Landlock
        ruleset = Ruleset(handled_fs=landlockpy.fs_for_abi(landlockpy.abi_version()))
        ruleset.allow_path("/proc", AccessFS.READ_FILE | AccessFS.READ_DIR)
        ruleset.restrict()
        outcome.append(_try_open(f"/proc/{parent}/status"))       # an ordinary /proc file: allowed
        outcome.append(_try_open(f"/proc/{parent}/mem"))          # ptrace-style access: refused
        os.write(write, ",".join(outcome).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    before, status, after = os.read(read, 1000).decode().split(",")
    os.close(read)
    if os.geteuid() == 0:
        assert before == "opened"
    assert status == "opened"
    assert after in ("EACCES", "EPERM"), after


def _try_open(path: str) -> str:
    try:
        os.close(os.open(path, os.O_RDONLY))
        return "opened"
    except OSError as e:
        return {13: "EACCES", 1: "EPERM"}.get(e.errno, str(e.errno))


@linux_full
def test_doctor_puts_a_confined_child_to_the_test_and_finds_nothing_reachable():
    exam = doctor.examine()
    assert exam.full, (exam.escaped, exam.applied)
    assert set(exam.attempts) == set(doctor.ATTEMPTS)
    assert exam.kernel_refusals, "the kernel reported none of the refused calls"


def test_require_isolation_refuses_to_grade_on_a_machine_missing_a_layer(monkeypatch, capsys):
    monkeypatch.setattr(confine, "support", lambda: confine.Support(missing={"seccomp": "not here"}))
    with pytest.raises(confine.IsolationRequired, match="seccomp: not here"):
        grading.grade(str(grading.catalog.ROOT / "solutions"), ["fundamentals/gradient_clipping"],
                      require_isolation=True)
    code = cli.main(["grade", "--submission", str(grading.catalog.ROOT / "solutions"),
                     "--exercise", "fundamentals/gradient_clipping", "--require-isolation"])
    assert code == 2
    assert "refusing to grade" in capsys.readouterr().err


def test_without_confinement_grading_still_works_and_says_once_what_is_missing(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sandbox, "_WARNED", set())
    for _ in range(2):
        records, _, report = run_confined(tmp_path / str(_), "def f():\n    return 7\n", [("f",)], confine=False)
        assert value(records[0]) == 7
    assert report["missing"]
    err = capsys.readouterr().err
    assert err.count("grading without some kernel protections") == 1


def test_a_course_inside_the_interpreter_tree_is_refused_not_silently_exposed(tmp_path):
    """If a protected folder lies inside what the child must read, confinement says so."""
    import sys
    with pytest.raises(confine.ConfinementError, match="lies inside"):
        confine._landlock_ruleset(str(tmp_path), [os.path.join(sys.prefix, "graders")], confine.Applied())


@linux_full
def test_a_user_lookup_works_and_its_nscd_probe_does_not_count_against_the_learner(tmp_path):
    """torch.optim's first use imports torch._dynamo, which asks getpass.getuser(); glibc first
    tries the nscd daemon's UNIX socket (refused), then reads /etc/passwd (allowed)."""
    path = tmp_path / "submission" / "lookup.py"
    path.parent.mkdir(parents=True)
    path.write_text("import os, pwd\ndef who():\n    return pwd.getpwuid(os.getuid()).pw_name\n")
    job = sandbox.Job(student_file=str(path), module_name="mlkata_lookup_probe", probe_modules={},
                      protected=[str(path.parent)], audit_hook=False)
    session = sandbox.IsolatedSession(job, call_timeout=20.0)
    try:
        record = session.call(("call", "who"), (), {})
    finally:
        session.close()
    assert "__error__" not in record, record
    assert all(r.incidental for r in session.refused), [r.describe() for r in session.refused]


@linux_full
@as_root
def test_the_childs_files_together_cannot_fill_the_disk(tmp_path):
    """RLIMIT_FSIZE caps one file; the folder, a tmpfs of its own, caps them all: a child that writes
    file after file stops at SCRATCH_BYTES with ENOSPC, and nothing reaches the disk below."""
    records, refused, report = run_confined(tmp_path, """
        import errno, os
        def fill():
            chunk, total, i = b"x" * 2**20, 0, 0
            try:
                while total < 4 * 2**30:
                    with open(f"junk{i}.bin", "wb") as f:
                        for _ in range(32):
                            f.write(chunk)
                            total += len(chunk)
                    i += 1
            except OSError as e:
                return [total, e.errno == errno.ENOSPC, "def fill" in open(__file__).read()]
            return [total, False, True]
    """, [("fill",)])
    total, stopped_by_space, submission_still_there = value(records[0])
    assert stopped_by_space and total <= confine.SCRATCH_BYTES, total
    assert submission_still_there
    assert any("scratch" in layer for layer in report.get("layers", [])), report
    assert refused == []
