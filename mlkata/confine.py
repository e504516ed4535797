"""Kernel confinement of a sandboxed child: the one place that states the policy.

A grading child runs the learner's code.  Everything the toolkit does *inside* that process (the
audit hook, the tripwire) can be undone by that code, so the fences that matter are set by the
kernel, here, after the child has loaded what it needs and before it imports the submission:

1. **no_new_privs** -- nothing the child does can gain privileges (a precondition of the rest).
2. **Unprivileged user.**  When the grader runs as root, the child becomes uid/gid 65534
   (``nobody``) with no supplementary groups, so a gap in another layer still leaves the grader's
   files, its ``/proc`` entries, its signals and its limits out of reach (the kernel's ordinary
   permission checks).  If the interpreter itself lives where ``nobody`` cannot read it (pyenv
   under ``/root``, mode 0700), the child keeps exactly one capability, ``CAP_DAC_READ_SEARCH``
   (read any file), so that imports keep working; Landlock (3) then decides what it may read.
   ``/proc/<pid>`` of other processes, signals and ``ptrace`` stay out of reach either way: they
   are checked against the uid, not against file modes.
3. **Landlock** (:data:`FS_READ`, :func:`read_roots`): the child may read the Python installation,
   the venv, the toolkit's own package and the system's shared libraries, and read and write only its
   own temporary folder (which holds the copy of the submission).  The project root (graders/,
   solutions/, catalog/, source/, release/), the submissions folder, ``/proc`` and every other
   path are out of reach however they are named -- relative path, dir fd, ``/proc/<pid>/cwd``,
   hard link (a link needs ``REFER`` on both folders).  With ABI >= 4 no TCP bind or connect;
   with ABI >= 6 signals and abstract UNIX sockets are scoped to the child's own domain.  Landlock
   also refuses ``ptrace``-style access (``/proc/<pid>/mem``) to any process outside the domain.
4. **seccomp-bpf**, an allowlist (:data:`ALLOWED`, :data:`CONDITIONAL`): the system calls CPython,
   numpy and torch's CPU kernels make (measured with ``strace`` over the whole catalog), threads,
   memory, time and I/O on descriptors.  Everything else is refused with ``EPERM`` -- never a
   kill, so the learner gets a message -- and :data:`WHY_DENIED` says why for the calls an attack
   would want.  Refused calls are *reported to the grader by the kernel*: the filter hands its
   user-notification descriptor to the parent (:class:`Refusals`), which answers ``EPERM`` and
   records the call, so a submission cannot hide that it tried.

Bindings (why these): Landlock goes through ``landlockpy`` (maintained, dependency-free, knows
every ABI up to 11 and drops what the kernel lacks).  seccomp goes through libseccomp, the
library every container runtime uses, by a small ctypes binding below: ``pyseccomp`` (0.1.2,
last released 2021) wraps the same library but exposes the notification descriptor only through
private members, and its receive/respond calls need the filter object, which the supervising
parent never has.  The parent reads notifications with two ``ioctl`` calls and no library.

Where the kernel lacks a feature (old kernel, macOS, WSL1, a container that blocks seccomp),
grading still works and says once which layers are missing; ``mlkata doctor`` shows the level
and ``--require-isolation`` refuses to grade without every layer.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fcntl
import os
import select
import site
import struct
import sys
from dataclasses import dataclass, field

NOBODY = 65534

# --------------------------------------------------------------------------------------------
# The policy
# --------------------------------------------------------------------------------------------

# System calls allowed with any arguments.  Paths are Landlock's business, so every file call
# is here: Landlock decides which files they reach.
ALLOWED = tuple("""
    read write readv writev pread64 pwrite64 preadv pwritev preadv2 pwritev2 lseek close close_range
    open openat openat2 creat stat fstat lstat newfstatat statx access faccessat faccessat2 readlink
    readlinkat getdents getdents64 getcwd chdir fchdir mkdir mkdirat rmdir unlink unlinkat rename
    renameat renameat2 link linkat symlink symlinkat truncate ftruncate fallocate fsync fdatasync
    fadvise64 flock fcntl dup dup2 dup3 pipe pipe2 statfs fstatfs umask splice tee sendfile
    copy_file_range readahead sync_file_range
    mmap munmap mprotect mremap madvise brk msync mincore mlock munlock mlock2 get_mempolicy
    set_mempolicy mbind membarrier
    futex futex_waitv set_robust_list rseq set_tid_address exit exit_group arch_prctl
    rt_sigaction rt_sigprocmask rt_sigreturn rt_sigpending rt_sigsuspend rt_sigtimedwait sigaltstack
    restart_syscall
    nanosleep clock_nanosleep clock_gettime clock_getres gettimeofday time alarm setitimer getitimer
    timer_create timer_settime timer_gettime timer_getoverrun timer_delete
    timerfd_create timerfd_settime timerfd_gettime eventfd eventfd2
    poll ppoll select pselect6 epoll_create epoll_create1 epoll_ctl epoll_wait epoll_pwait epoll_pwait2
    getpid gettid getppid getuid geteuid getgid getegid getresuid getresgid getgroups getpgrp getpgid
    getsid capget uname sysinfo getrusage times getrandom getcpu getrlimit getpriority sched_yield
    sched_getparam sched_getscheduler sched_get_priority_max sched_get_priority_min
    sendmsg recvmsg sendto recvfrom shutdown getsockname getpeername getsockopt setsockopt
    wait4 waitid
""".split())

# Calls allowed only with some arguments: (name, [(argument index, operator, value, mask)]).
# Several entries for one name are alternatives.  "SELF" stands for the child's pid.
_CLONE_THREAD = 0x00010000
_PR_SAFE = {"PR_GET_PDEATHSIG": 2, "PR_GET_DUMPABLE": 3, "PR_SET_NAME": 15, "PR_GET_NAME": 16,
            "PR_GET_SECCOMP": 21, "PR_CAPBSET_READ": 23, "PR_GET_NO_NEW_PRIVS": 39,
            "PR_SET_VMA": 0x53564D41}
_IOCTL_SAFE = {"TCGETS": 0x5401, "TIOCGWINSZ": 0x5413, "FIONREAD": 0x541B, "FIONBIO": 0x5421,
               "FIONCLEX": 0x5450, "FIOCLEX": 0x5451}
CONDITIONAL: dict[str, list[list[tuple[int, str, object]]]] = {
    # threads yes (torch's pools, the learner's), new processes no
    "clone": [[(0, "masked_eq", (_CLONE_THREAD, _CLONE_THREAD))]],
    # signals only to itself (raise(), abort(), a thread waking another)
    "kill": [[(0, "eq", "SELF")]],
    "tgkill": [[(0, "eq", "SELF")]],
    "rt_sigqueueinfo": [[(0, "eq", "SELF")]],
    "rt_tgsigqueueinfo": [[(0, "eq", "SELF")]],
    # read its own limits (getrlimit is prlimit64 with no new value); never set or raise them
    "prlimit64": [[(0, "eq", 0), (2, "eq", 0)], [(0, "eq", "SELF"), (2, "eq", 0)]],
    "sched_getaffinity": [[(0, "eq", 0)], [(0, "eq", "SELF")]],
    "sched_setaffinity": [[(0, "eq", 0)], [(0, "eq", "SELF")]],
    "prctl": [[(0, "eq", v)] for v in _PR_SAFE.values()],
    "ioctl": [[(1, "eq", v)] for v in _IOCTL_SAFE.values()],
}

# clone3 passes its flags in memory, which seccomp cannot read: it is answered ENOSYS (not EPERM),
# so that glibc falls back to clone(), whose flags the filter can check.
ENOSYS_CALLS = ("clone3",)

# What a refused call is for, in the learner's words (the reason each is left out of ALLOWED).
WHY_DENIED = {
    "fork": "starting a process", "vfork": "starting a process", "clone": "starting a process",
    "execve": "running a program", "execveat": "running a program",
    "ptrace": "inspecting another process", "process_vm_readv": "reading another process's memory",
    "process_vm_writev": "writing another process's memory", "kcmp": "inspecting another process",
    "kill": "sending a signal to another process", "tgkill": "sending a signal to another process",
    "tkill": "sending a signal to a thread by id", "rt_sigqueueinfo": "sending a signal to another process",
    "rt_tgsigqueueinfo": "sending a signal to another process",
    "pidfd_open": "taking a handle on another process", "pidfd_send_signal": "signalling another process",
    "pidfd_getfd": "stealing another process's file descriptor",
    "prlimit64": "changing resource limits", "setrlimit": "changing resource limits",
    "socket": "opening a socket", "socketpair": "opening a socket", "connect": "connecting to a socket",
    "bind": "binding a socket", "listen": "listening on a socket", "accept": "accepting a connection",
    "accept4": "accepting a connection",
    "mount": "mounting a file system", "umount2": "unmounting a file system", "pivot_root": "changing the root",
    "chroot": "changing the root", "unshare": "entering new namespaces", "setns": "joining namespaces",
    "bpf": "loading BPF programs", "perf_event_open": "performance monitoring",
    "userfaultfd": "handling page faults in user space", "keyctl": "the kernel keyring",
    "add_key": "the kernel keyring", "request_key": "the kernel keyring",
    "io_uring_setup": "io_uring (it bypasses these checks)", "io_uring_enter": "io_uring",
    "io_uring_register": "io_uring", "open_by_handle_at": "opening files by handle",
    "name_to_handle_at": "file handles", "memfd_create": "anonymous executable files",
    "chmod": "changing permissions", "fchmod": "changing permissions", "fchmodat": "changing permissions",
    "fchmodat2": "changing permissions", "chown": "changing owners", "fchown": "changing owners",
    "fchownat": "changing owners", "lchown": "changing owners",
    "setuid": "changing user", "setgid": "changing group", "setreuid": "changing user",
    "setresuid": "changing user", "setgroups": "changing groups", "capset": "changing capabilities",
    "setsid": "leaving its session", "setpgid": "changing process group", "seccomp": "changing the filter",
    "ioctl": "a device control call", "prctl": "changing process attributes",
    "sched_setaffinity": "moving another process", "personality": "changing the execution domain",
}

LAYERS = ("no_new_privs", "unprivileged user", "landlock", "seccomp")


# --------------------------------------------------------------------------------------------
# What this machine offers (asked by the parent, `mlkata doctor`, --require-isolation)
# --------------------------------------------------------------------------------------------

@dataclass
class Support:
    """Which layers this machine can apply, and why not where it cannot."""

    landlock_abi: int = 0
    seccomp: bool = False
    notify: bool = False
    root: bool = False
    missing: dict[str, str] = field(default_factory=dict)   # layer -> reason

    @property
    def full(self) -> bool:
        return not self.missing

    def describe(self) -> list[str]:
        lines = [f"Landlock ABI {self.landlock_abi}" if self.landlock_abi else "",
                 ("seccomp filter, refusals reported by the kernel" if self.notify else "seccomp filter")
                 if self.seccomp else "",
                 "child drops to uid 65534" if self.root else "child runs as this user (not root: no uid to drop)"]
        return [line for line in lines if line]


def support() -> Support:
    s = Support(root=hasattr(os, "geteuid") and os.geteuid() == 0)
    if not sys.platform.startswith("linux"):
        for layer in LAYERS:
            s.missing[layer] = f"{sys.platform} has no {layer} (Linux only)"
        return s
    try:
        import landlockpy
        s.landlock_abi = landlockpy.abi_version()
    except Exception as e:  # noqa: BLE001 - no module, no syscall, disabled at boot
        s.missing["landlock"] = f"Landlock unavailable ({type(e).__name__}: {e})"
    else:
        if s.landlock_abi < 6:
            s.missing["landlock"] = (f"Landlock ABI {s.landlock_abi} < 6: no scoping of signals and "
                                     "abstract sockets" + ("" if s.landlock_abi >= 4 else ", no TCP rules"))
    lib = _libseccomp()
    if lib is None:
        s.missing["seccomp"] = "libseccomp is not installed (Debian/Ubuntu: libseccomp2)"
    elif _seccomp_mode() is None:
        s.missing["seccomp"] = "the kernel has no seccomp filters"
    else:
        s.seccomp = True
        s.notify = _notify_available()
        if not s.notify:
            s.missing["seccomp"] = "the kernel cannot report refused calls (seccomp user notification, Linux >= 5.0)"
    return s


def _seccomp_mode() -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Seccomp:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


# --------------------------------------------------------------------------------------------
# Applying it (in the child)
# --------------------------------------------------------------------------------------------

class ConfinementError(RuntimeError):
    """The policy cannot be applied as stated (the child must not go on pretending it was)."""


class IsolationRequired(RuntimeError):
    """Grading was asked to run only under full confinement (``--require-isolation``), and some
    layer is missing on this machine."""

    def __init__(self, missing: dict[str, str]):
        self.missing = dict(missing)
        lines = "".join(f"\n  - {layer}: {why}" for layer, why in self.missing.items())
        super().__init__("refusing to grade: --require-isolation, and this machine cannot apply every "
                         f"kernel protection:{lines}\n(`mlkata doctor` shows what is missing)")


@dataclass
class Applied:
    """What the child applied: sent to the parent before any learner code runs."""

    layers: list[str] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    listener: int | None = None        # the seccomp notification fd, to hand to the parent


def prepare() -> None:
    """Load now what :func:`confine` needs (for the fork server, so that no child pays for it):
    landlockpy and libc through it, libseccomp (``find_library`` runs ldconfig: ~15 ms each), the
    folders the child may read and whether a stranger can read them."""
    try:
        import landlockpy
        landlockpy.abi_version()
    except Exception:  # noqa: BLE001 - reported by confine() in the child, with its reason
        pass
    try:      # torch's cpuinfo, initialised lazily by some kernels (half precision, vector norms)
        import torch
        torch.backends.cpu.get_cpu_capability()
    except Exception:  # noqa: BLE001 - no torch, or an older one: the child reads /proc/cpuinfo itself
        pass
    lib = _libseccomp()
    if lib is not None:
        for name in (*ALLOWED, *CONDITIONAL, *ENOSYS_CALLS):
            _syscall_number(lib, name)
    _blocked_roots()


_ROOTS: list[str] | None = None
_BLOCKED: list[str] | None = None


def _blocked_roots() -> list[str]:
    """The read roots a stranger (uid 65534) could not read (see :func:`_drop_to_nobody`)."""
    global _BLOCKED
    if _BLOCKED is None:
        _BLOCKED = [r for r in read_roots() if not _world_readable(r)]
    return _BLOCKED


def read_roots() -> list[str]:
    """Folders the child may read: the interpreter, the venv, the toolkit, shared libraries."""
    global _ROOTS
    if _ROOTS is None:
        _ROOTS = _find_read_roots()
    return _ROOTS


def _find_read_roots() -> list[str]:
    import mlkata
    roots = {sys.base_prefix, sys.base_exec_prefix, sys.prefix, sys.exec_prefix,
             os.path.dirname(os.path.abspath(mlkata.__file__)),
             *site.getsitepackages(), "/usr/lib", "/usr/lib64", "/lib", "/lib64",
             "/sys/devices/system/cpu"}
    user_site = site.getusersitepackages()
    if user_site:
        roots.add(user_site)
    return sorted(os.path.realpath(r) for r in roots if os.path.isdir(r))


# /etc/passwd and /etc/group hold no secrets (the hashes are in /etc/shadow) and a user lookup
# (getpass.getuser, behind torch.optim's first import of torch._dynamo) needs them
READ_FILES = ("/etc/ld.so.cache", "/etc/localtime", "/etc/passwd", "/etc/group", "/etc/nsswitch.conf",
              "/proc/cpuinfo",     # torch's cpuinfo library reads it the first time a kernel asks
              "/dev/urandom", "/dev/random", "/dev/zero")
READ_WRITE_FILES = ("/dev/null",)


def confine(workdir: str, protected: list[str], *, landlock: bool = True, seccomp: bool = True,
            drop_user: bool = True, scratch: bool = True) -> Applied:
    """Apply every layer this kernel supports to the calling (single-threaded) process."""
    applied = Applied()
    if not sys.platform.startswith("linux"):
        applied.missing = {layer: f"not Linux ({sys.platform})" for layer in LAYERS}
        return applied
    threads = len(os.listdir("/proc/self/task"))
    if threads != 1:
        raise ConfinementError(f"the child has {threads} threads; confinement needs exactly one")
    if scratch and os.geteuid() == 0:
        _private_scratch(workdir, applied)
    elif scratch:
        applied.notes.append("the grader does not run as root: the child's folder has no size limit")
    ruleset = _landlock_ruleset(workdir, protected, applied) if landlock else None
    seccomp_ready = seccomp and _libseccomp() is not None and _seccomp_mode() is not None  # asks /proc
    notify = seccomp_ready and _notify_available()
    _set_no_new_privs()
    applied.layers.append("no_new_privs")
    if drop_user and os.geteuid() == 0:
        _drop_to_nobody(workdir, applied)
    elif drop_user:
        applied.notes.append("the grader does not run as root: the child keeps its user")
    if ruleset is not None:
        ruleset.restrict()
        ruleset.close()
        applied.layers.append(f"landlock (ABI {ruleset.abi_version})")
    if seccomp_ready:
        _load_seccomp(applied, notify)
    elif seccomp:
        applied.missing["seccomp"] = "libseccomp or the kernel's seccomp filters are missing"
    return applied


def _landlock_ruleset(workdir: str, protected: list[str], applied: Applied):
    try:
        import landlockpy
        from landlockpy import AccessFS, AccessNet, Ruleset, Scope
        abi = landlockpy.abi_version()
    except Exception as e:  # noqa: BLE001
        applied.missing["landlock"] = f"unavailable ({type(e).__name__}: {e})"
        return None
    roots = read_roots()
    for p in protected:
        real = os.path.realpath(p)
        for root in roots:
            if real == root or real.startswith(root.rstrip("/") + "/"):
                raise ConfinementError(f"{p} lies inside {root}, which the interpreter needs to read: "
                                       "move the course out of the Python installation")
    read = AccessFS.READ_FILE | AccessFS.READ_DIR | AccessFS.EXECUTE
    ruleset = Ruleset(handled_net=AccessNet.BIND_TCP | AccessNet.CONNECT_TCP,
                      scoped=Scope.ABSTRACT_UNIX_SOCKET | Scope.SIGNAL)
    for root in roots:
        ruleset.allow_path(root, read)
    for path in READ_FILES:
        if os.path.exists(path):
            ruleset.allow_path(path, AccessFS.READ_FILE)
    for path in READ_WRITE_FILES:
        ruleset.allow_path(path, AccessFS.READ_FILE | AccessFS.WRITE_FILE)
    ruleset.allow_path(workdir, landlockpy.fs_for_abi(abi) & ~(AccessFS.MAKE_CHAR | AccessFS.MAKE_BLOCK
                                                               | AccessFS.EXECUTE))
    if abi < 6:
        applied.missing["landlock scoping"] = f"Landlock ABI {abi}: signals and abstract sockets not scoped"
    return ruleset


_libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
if _libc is not None:
    _libc.free.argtypes = [ctypes.c_void_p]
_PR_SET_PDEATHSIG, _PR_SET_KEEPCAPS, _PR_SET_NO_NEW_PRIVS = 1, 8, 38


def _prctl(option: int, value: int) -> None:
    if _libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise ConfinementError(f"prctl({option}) failed: {os.strerror(err)}")


def _set_no_new_privs() -> None:
    _prctl(_PR_SET_NO_NEW_PRIVS, 1)


def die_with_parent(expected_parent: int) -> None:
    """SIGKILL when the parent exits (a credential change clears this, so it is set again after)."""
    _prctl(_PR_SET_PDEATHSIG, 9)
    if os.getppid() != expected_parent:        # the parent died before prctl took effect
        os._exit(1)


SCRATCH_BYTES = 256 * 2**20     # the child's folder, all files together (RLIMIT_FSIZE caps one file)
_CLONE_NEWNS = 0x00020000
_MS_NOSUID, _MS_NODEV, _MS_NOEXEC, _MS_REC, _MS_PRIVATE = 0x2, 0x4, 0x8, 0x4000, 0x40000


def _private_scratch(workdir: str, applied: Applied) -> None:
    """As root: the child's folder becomes a tmpfs of ``SCRATCH_BYTES`` in a mount namespace of its
    own, so that the files it creates cannot fill the grader's disk (RLIMIT_FSIZE caps each file,
    not their number).  The files already there (the copy of the submission) are copied in; the
    output log stays open on the folder below, where the parent reads it.  The tmpfs goes with
    the child's namespace; the parent, in its own, never sees it."""
    kept = {}
    for name in os.listdir(workdir):
        path = os.path.join(workdir, name)
        if name != ".output.log" and os.path.isfile(path) and not os.path.islink(path):
            with open(path, "rb") as f:
                kept[name] = f.read()
    if _libc.unshare(_CLONE_NEWNS) != 0:
        applied.notes.append(f"no private scratch folder: unshare failed ({os.strerror(ctypes.get_errno())})")
        return
    try:          # a container may refuse mounts even to root: then the folder stays as it is
        _mount(None, "/", None, _MS_REC | _MS_PRIVATE, None)     # nothing propagates to the host
        _mount("tmpfs", workdir, "tmpfs", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC, f"size={SCRATCH_BYTES},mode=0700")
    except ConfinementError as e:
        applied.notes.append(f"no private scratch folder: {e}")
        return
    for name, data in kept.items():
        with open(os.path.join(workdir, name), "wb") as f:
            f.write(data)
    os.chdir(workdir)                                             # the cwd was the folder below
    applied.layers.append(f"private scratch folder ({SCRATCH_BYTES >> 20} MiB tmpfs)")


def _mount(source, target, fstype, flags, data) -> None:
    enc = lambda x: None if x is None else x.encode()  # noqa: E731
    if _libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)) != 0:
        err = ctypes.get_errno()
        raise ConfinementError(f"mount of {target} failed: {os.strerror(err)}")


def _drop_to_nobody(workdir: str, applied: Applied) -> None:
    """Become uid/gid 65534; keep CAP_DAC_READ_SEARCH only if the interpreter needs it."""
    parent = os.getppid()
    for folder, _, files in os.walk(workdir):
        os.chown(folder, NOBODY, NOBODY)
        for name in files:
            os.chown(os.path.join(folder, name), NOBODY, NOBODY)
    blocked = _blocked_roots()
    if blocked:
        _prctl(_PR_SET_KEEPCAPS, 1)
    os.setgroups([])
    os.setresgid(NOBODY, NOBODY, NOBODY)
    os.setresuid(NOBODY, NOBODY, NOBODY)
    _set_capabilities(effective_and_permitted=(1 << _CAP_DAC_READ_SEARCH) if blocked else 0)
    if blocked:
        _prctl(_PR_SET_KEEPCAPS, 0)
        applied.notes.append(f"uid 65534 keeps CAP_DAC_READ_SEARCH: {blocked[0]} is not readable by "
                             "other users (Landlock decides what it reads)")
    die_with_parent(parent)
    applied.layers.append("unprivileged user (uid 65534)")


def _world_readable(path: str) -> bool:
    """Can a stranger reach and list ``path``: o+x on every ancestor, o+rx on it?"""
    parts = os.path.realpath(path).split("/")
    for i in range(2, len(parts) + 1):
        mode = os.stat("/".join(parts[:i]) or "/").st_mode
        if not mode & 0o001 or (i == len(parts) and not mode & 0o004):
            return False
    return True


_CAP_DAC_READ_SEARCH = 2
_CAP_VERSION_3 = 0x20080522


def _set_capabilities(effective_and_permitted: int) -> None:
    header = struct.pack("Ii", _CAP_VERSION_3, 0)
    low, high = effective_and_permitted & 0xFFFFFFFF, effective_and_permitted >> 32
    data = struct.pack("6I", low, low, 0, high, high, 0)       # effective, permitted, inheritable x2
    if _libc.capset(ctypes.c_char_p(header), ctypes.c_char_p(data)) != 0:
        raise ConfinementError(f"capset failed: {os.strerror(ctypes.get_errno())}")


# --------------------------------------------------------------------------------------------
# seccomp through libseccomp
# --------------------------------------------------------------------------------------------

_SCMP_ACT_ALLOW = 0x7FFF0000
_SCMP_ACT_NOTIFY = 0x7FC00000
_SCMP_ACT_KILL_PROCESS = 0x80000000
_SCMP_FLTATR_ACT_BADARCH = 2
_OPS = {"eq": 4, "masked_eq": 7}


def _errno_action(code: int) -> int:
    return 0x00050000 | (code & 0xFFFF)


class _ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("datum_a", ctypes.c_uint64),
                ("datum_b", ctypes.c_uint64)]


_LIB = None


def _libseccomp():
    global _LIB
    if _LIB is None:
        path = ctypes.util.find_library("seccomp") if sys.platform.startswith("linux") else None
        for candidate in filter(None, [path, "libseccomp.so.2"]):
            try:
                lib = ctypes.CDLL(candidate, use_errno=True)
                break
            except OSError:
                continue
        else:
            return None
        lib.seccomp_init.restype = ctypes.c_void_p
        lib.seccomp_init.argtypes = [ctypes.c_uint32]
        lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int,
                                               ctypes.c_uint, ctypes.POINTER(_ArgCmp)]
        lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
        lib.seccomp_syscall_resolve_num_arch.restype = ctypes.c_void_p
        lib.seccomp_syscall_resolve_num_arch.argtypes = [ctypes.c_uint32, ctypes.c_int]
        lib.seccomp_load.argtypes = [ctypes.c_void_p]
        lib.seccomp_release.argtypes = [ctypes.c_void_p]
        lib.seccomp_attr_set.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint32]
        if hasattr(lib, "seccomp_notify_fd"):
            lib.seccomp_notify_fd.argtypes = [ctypes.c_void_p]
        _LIB = lib
    return _LIB


def _notify_available() -> bool:
    """The kernel supports SECCOMP_RET_USER_NOTIF (asked with SECCOMP_GET_ACTION_AVAIL)."""
    if _libseccomp() is None or not hasattr(_LIB, "seccomp_notify_fd"):
        return False
    nr = _LIB.seccomp_syscall_resolve_name(b"seccomp")
    action = ctypes.c_uint32(_SCMP_ACT_NOTIFY)
    return _libc.syscall(nr, 2, 0, ctypes.byref(action)) == 0      # SECCOMP_GET_ACTION_AVAIL


def _load_seccomp(applied: Applied, notify: bool) -> None:
    lib = _libseccomp()
    ctx = lib.seccomp_init(_SCMP_ACT_NOTIFY if notify else _errno_action(errno.EPERM))
    if not ctx:
        raise ConfinementError("seccomp_init failed")
    try:
        _check(lib.seccomp_attr_set(ctx, _SCMP_FLTATR_ACT_BADARCH, _SCMP_ACT_KILL_PROCESS), "attr")
        for name in ALLOWED:
            _add_rule(lib, ctx, _SCMP_ACT_ALLOW, name, [])
        me = os.getpid()
        for name, alternatives in CONDITIONAL.items():
            for conditions in alternatives:
                args = [(i, op, me if v == "SELF" else v) for i, op, v in conditions]
                _add_rule(lib, ctx, _SCMP_ACT_ALLOW, name, args)
        for name in ENOSYS_CALLS:
            _add_rule(lib, ctx, _errno_action(errno.ENOSYS), name, [])
        _check(lib.seccomp_load(ctx), "seccomp_load")
        if notify:
            fd = lib.seccomp_notify_fd(ctx)
            _check(fd, "seccomp_notify_fd")
            applied.listener = fd
    finally:
        lib.seccomp_release(ctx)
    applied.layers.append("seccomp" + (" (refusals reported by the kernel)" if notify else " (EPERM)"))
    if not notify:
        applied.missing["seccomp notification"] = "refused calls are not reported to the grader"


_NUMBERS: dict[str, int] = {}


def _syscall_number(lib, name: str) -> int:
    """The native number of a system call, -1 if this architecture lacks it (fork on arm64)."""
    if name not in _NUMBERS:
        _NUMBERS[name] = lib.seccomp_syscall_resolve_name(name.encode())
    return _NUMBERS[name]


def _add_rule(lib, ctx, action: int, name: str, conditions: list) -> None:
    nr = _syscall_number(lib, name)
    if nr == -1:          # __NR_SCMP_ERROR
        return
    array = (_ArgCmp * max(1, len(conditions)))()
    for slot, (index, op, value) in zip(array, conditions):
        slot.arg, slot.op = index, _OPS[op]
        if op == "masked_eq":
            slot.datum_a, slot.datum_b = value
        else:
            slot.datum_a = value
    _check(lib.seccomp_rule_add_array(ctx, action, nr, len(conditions), array), f"rule for {name}")


def _check(rc: int, what: str) -> None:
    if rc < 0:
        raise ConfinementError(f"{what} failed: {os.strerror(-rc)}")


# --------------------------------------------------------------------------------------------
# The parent's side: answer and record refused calls
# --------------------------------------------------------------------------------------------

# struct seccomp_notif {u64 id; u32 pid; u32 flags; struct seccomp_data {int nr; u32 arch;
#   u64 instruction_pointer; u64 args[6];}} = 80 bytes; struct seccomp_notif_resp {u64 id;
#   s64 val; s32 error; u32 flags;} = 24 bytes.  _IOWR('!', 0 / 1, ...).
_AF_UNIX = 1
_NOTIF = struct.Struct("=QIIiIQ6Q")
_RESP = struct.Struct("=QqiI")
_IOCTL_RECV = 0xC0000000 | (_NOTIF.size << 16) | (ord("!") << 8) | 0
_IOCTL_SEND = 0xC0000000 | (_RESP.size << 16) | (ord("!") << 8) | 1


@dataclass
class Refusal:
    syscall: str
    args: tuple

    def describe(self) -> str:
        why = WHY_DENIED.get(self.syscall, "not on the sandbox's list of allowed system calls")
        return f"the kernel refused the system call {self.syscall} ({why})"

    @property
    def incidental(self) -> bool:
        """A refusal libraries cause on their own and cope with: glibc asks the nscd daemon
        through a UNIX socket before it reads /etc/passwd (any user lookup does).  Still refused;
        it does not zero the exercise."""
        return self.syscall == "socket" and self.args[:1] == (_AF_UNIX,)


class Refusals:
    """The parent's end of a child's seccomp filter: every call the filter does not allow arrives
    here; it is answered EPERM and recorded.  Reading never blocks (``answer`` is called when
    ``poll`` says the descriptor is readable)."""

    def __init__(self, fd: int):
        self.fd = fd
        self.seen: list[Refusal] = []

    def answer(self) -> None:
        buf = bytearray(_NOTIF.size)
        try:
            fcntl.ioctl(self.fd, _IOCTL_RECV, buf)
        except OSError:           # the child died or the call was interrupted meanwhile
            return
        ident, _pid, _flags, nr, _arch, _ip, *args = _NOTIF.unpack(buf)
        self.seen.append(Refusal(syscall_name(nr), tuple(args)))
        try:
            fcntl.ioctl(self.fd, _IOCTL_SEND, bytearray(_RESP.pack(ident, 0, -errno.EPERM, 0)))
        except OSError:
            pass

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def wait_readable(conn_fd: int, refusals: Refusals | None, timeout: float, clock) -> bool:
    """Wait until ``conn_fd`` is readable (True) or ``timeout`` runs out (False), answering the
    child's refused system calls meanwhile."""
    deadline = clock() + timeout
    poller = select.poll()
    poller.register(conn_fd, select.POLLIN)
    if refusals is not None and refusals.fd >= 0:
        poller.register(refusals.fd, select.POLLIN)
    while True:
        remaining = deadline - clock()
        if remaining <= 0:
            return False
        for fd, events in poller.poll(remaining * 1000):
            if fd == conn_fd:
                return True
            if events & select.POLLIN:
                refusals.answer()
            elif events & (select.POLLHUP | select.POLLERR | select.POLLNVAL):
                poller.unregister(fd)       # the filter has no process left: nothing more comes


def syscall_name(nr: int) -> str:
    lib = _libseccomp()
    if lib is not None:
        ptr = lib.seccomp_syscall_resolve_num_arch(0, nr)       # 0: the native architecture
        if ptr:
            name = ctypes.string_at(ptr).decode()
            _libc.free(ptr)
            return name
    return f"#{nr}"
