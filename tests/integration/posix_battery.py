"""A battery of POSIX permission and metadata checks, for differential tests: every case sets up
its starting content in a folder (as root, on a plain folder), then runs operations as root and
as unprivileged users and records each outcome (the errno name, or the result) and the
resulting modes and owners. Running the same case on ext4 and on a dcfs view of the same
starting content must record the same outcomes.

Users: U1 = 1000:1000, U2 = 1001:1001 also in group 1000, U3 = 1002:1002 in no other group.
"""
import errno
import os
import pickle
import stat
import subprocess

ROOT = (0, 0, ())
U1 = (1000, 1000, ())
U2 = (1001, 1001, (1000,))
U3 = (1002, 1002, ())


def call_as(ids, fn, *args, umask=None):
    """fn(*args) in a forked child that takes `ids` (uid, gid, supplementary groups) and, unless
    None, `umask`: (True, its result) or (False, the exception it raised)."""
    uid, gid, groups = ids
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            os.setgroups(list(groups))
            os.setgid(gid)
            os.setuid(uid)
            if umask is not None:
                os.umask(umask)
            out = (True, fn(*args))
        except BaseException as e:  # noqa: B902 - everything goes back to the parent
            out = (False, e)
        try:
            data = pickle.dumps(out)
        except Exception as e:  # an unpicklable result
            data = pickle.dumps((False, RuntimeError(repr(e))))
        os.write(w, data)
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        data = f.read()
    os.waitpid(pid, 0)
    return pickle.loads(data)


def run_as(user, fn, *args, umask=0o022):
    """fn(*args) in a forked child with `user`'s ids and `umask`: ("ok", value) or the errno name."""
    uid, gid, groups = user
    ok, value = call_as((uid, gid, [gid, *groups] if uid else []), fn, *args, umask=umask)
    if ok:
        return ("ok", value)
    if isinstance(value, OSError):
        return (errno.errorcode.get(value.errno, str(value.errno)),)
    return ("exception", repr(value))  # a bug in the case, reported as such


def meta(path):
    """What the checks compare about an entry: type and mode bits, owner, group, link count."""
    st = os.lstat(path)
    return (stat.filemode(st.st_mode), oct(stat.S_IMODE(st.st_mode)), st.st_uid, st.st_gid,
            st.st_nlink if not stat.S_ISDIR(st.st_mode) else None)


def acl_of(path, default=False):
    name = "system.posix_acl_default" if default else "system.posix_acl_access"
    try:
        return os.getxattr(path, name, follow_symlinks=False).hex()
    except OSError as e:
        return errno.errorcode.get(e.errno)


class Run:
    """Runs one case's operations in folder `d` and records the outcomes."""

    def __init__(self, d):
        self.d = d
        self.out = []

    def p(self, *names):
        return os.path.join(self.d, *names)

    def do(self, label, user, fn, *args, umask=0o022):
        self.out.append((label, run_as(user, fn, *args, umask=umask)))

    def meta(self, *names):
        for n in names:
            try:
                self.out.append((f"meta {n}", meta(self.p(n))))
            except OSError as e:
                self.out.append((f"meta {n}", errno.errorcode.get(e.errno)))

    def acl(self, name, default=False):
        self.out.append((f"acl {name}{' default' if default else ''}",
                         acl_of(self.p(name), default)))

    def setfacl(self, *args):
        """setfacl ARGS..., as root, the last argument a name in the case's folder."""
        *opts, name = args
        p = subprocess.run(["setfacl", *opts, self.p(name)], capture_output=True, text=True)
        self.out.append((f"setfacl {' '.join(args)}", p.returncode))


# ---- operations (run in the forked child) ----


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def append(path, data=b"x"):
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        return os.write(fd, data)
    finally:
        os.close(fd)


def write_at(path, data=b"x"):
    fd = os.open(path, os.O_WRONLY)
    try:
        return os.pwrite(fd, data, 0)
    finally:
        os.close(fd)


def fallocate(path, size):
    fd = os.open(path, os.O_WRONLY)
    try:
        os.posix_fallocate(fd, 0, size)
    finally:
        os.close(fd)


def copy_range(src, dst):
    fi = os.open(src, os.O_RDONLY)
    fo = os.open(dst, os.O_WRONLY)
    try:
        return os.copy_file_range(fi, fo, 3, 0, 0)
    finally:
        os.close(fi)
        os.close(fo)


def open_trunc(path):
    os.close(os.open(path, os.O_WRONLY | os.O_TRUNC))


def ftruncate(path, size):
    fd = os.open(path, os.O_WRONLY)
    try:
        os.ftruncate(fd, size)
    finally:
        os.close(fd)


def create(path, mode=0o666, flags=os.O_CREAT | os.O_WRONLY):
    os.close(os.open(path, flags, mode))


def create_excl(path, mode=0o644):
    create(path, mode, os.O_CREAT | os.O_EXCL | os.O_WRONLY)


def open_flags(path, flags):
    os.close(os.open(path, flags))


def listdir(path):
    return sorted(os.listdir(path))


def lstat_meta(path):
    return meta(path)


def stat_size(path):
    return os.stat(path).st_size


def utime_now(path):
    os.utime(path, None)


def utime_ns(path, ns):
    os.utime(path, ns=ns)
    st = os.stat(path)
    return (st.st_atime_ns, st.st_mtime_ns)


def lchown(path, uid, gid):
    os.chown(path, uid, gid, follow_symlinks=False)


def mkfifo(path, mode):
    os.mkfifo(path, mode)


def mknod_chr(path):
    os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, 3))


def renameat2(old, new, flags):
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.renameat2(-100, os.fsencode(old), -100, os.fsencode(new), flags) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def access(path, mode):
    return os.access(path, mode)


# ---- the cases: setup(d) on a plain folder, run(r) on the target ----


def f(d, name, mode=0o644, owner=(0, 0), data=b"data\n"):
    p = os.path.join(d, name)
    with open(p, "wb") as fh:
        fh.write(data)
    os.chown(p, *owner)
    os.chmod(p, mode)
    return p


def files(d, owner, **modes):
    """f() of each name=mode, in that order, all owned by `owner`."""
    for name, mode in modes.items():
        f(d, name, mode, owner)


def dr(d, name, mode=0o755, owner=(0, 0)):
    p = os.path.join(d, name)
    os.mkdir(p)
    os.chown(p, *owner)
    os.chmod(p, mode)
    return p


def setup_create_modes(d):
    os.chmod(d, 0o777)


def run_create_modes(r):
    r.do("U1 create 0666 umask 022", U1, create, r.p("f"), 0o666)
    r.do("U1 create 0666 umask 077", U1, create, r.p("g"), 0o666, umask=0o077)
    r.do("U1 create 07777 umask 0", U1, create, r.p("h"), 0o7777, umask=0)
    r.do("U1 mkdir 0777", U1, os.mkdir, r.p("sub"), 0o777)
    r.do("U1 mkdir 01777 umask 0", U1, os.mkdir, r.p("sub2"), 0o1777, umask=0)
    r.do("U1 mkfifo", U1, mkfifo, r.p("fifo"), 0o666)
    r.do("U1 symlink", U1, os.symlink, "f", r.p("link"))
    r.do("U1 mknod chr", U1, mknod_chr, r.p("chr"))
    r.meta("f", "g", "h", "sub", "sub2", "fifo", "link", "chr")


def setup_chmod_rules(d):
    f(d, "f", 0o644, (1000, 1000))
    f(d, "g", 0o644, (1000, 1001))
    f(d, "h", 0o644, (1001, 1001))
    f(d, "k", 0o644, (1001, 1000))


def run_chmod_rules(r):
    r.do("U2 chmod other's file", U2, os.chmod, r.p("f"), 0o600)
    r.do("U1 chmod own file", U1, os.chmod, r.p("f"), 0o600)
    r.do("U1 chmod 02755 own group", U1, os.chmod, r.p("f"), 0o2755)
    r.do("U1 chmod 02755 foreign group", U1, os.chmod, r.p("g"), 0o2755)
    r.do("U1 chmod 04755", U1, os.chmod, r.p("g"), 0o4755)
    r.do("U2 chmod 02755 supplementary group", U2, os.chmod, r.p("h"), 0o2755)
    r.do("U2 chmod 02755, group only a supplementary one", U2, os.chmod, r.p("k"), 0o2755)
    r.do("root chmod 07777", ROOT, os.chmod, r.p("h"), 0o7777)
    r.meta("f", "g", "h", "k")


def setup_chown_rules(d):
    f(d, "f", 0o644, (1000, 1000))
    f(d, "f2", 0o644, (1001, 1001))
    f(d, "f3", 0o644, (1000, 1000))


def run_chown_rules(r):
    r.do("U2 chown other's file", U2, os.chown, r.p("f"), 1001, -1)
    r.do("U1 give away own file", U1, os.chown, r.p("f"), 1001, -1)
    r.do("U1 chown to itself", U1, os.chown, r.p("f"), 1000, -1)
    r.do("U1 chgrp non-member group", U1, os.chown, r.p("f"), -1, 1001)
    r.do("U2 chgrp supplementary group", U2, os.chown, r.p("f2"), -1, 1000)
    r.do("U3 chgrp other's file", U3, os.chown, r.p("f3"), -1, 1002)
    r.do("root chown", ROOT, os.chown, r.p("f3"), 1002, 1002)
    r.meta("f", "f2", "f3")


def setup_chown_kills_suid(d):
    files(d, (1000, 1000), s1=0o6755, s2=0o2745)
    f(d, "s3", 0o6755, (0, 0))
    f(d, "s4", 0o6755, (1001, 1001))
    dr(d, "sd", 0o2755, (1000, 1000))


def run_chown_kills_suid(r):
    r.do("U1 chgrp own suid+sgid file", U1, os.chown, r.p("s1"), -1, 1000)
    r.do("U1 chgrp own sgid no-gx file", U1, os.chown, r.p("s2"), -1, 1000)
    r.do("root chown suid+sgid file", ROOT, os.chown, r.p("s3"), 1000, 1000)
    r.do("U2 chgrp to supplementary group", U2, os.chown, r.p("s4"), -1, 1000)
    r.do("U1 chgrp sgid dir", U1, os.chown, r.p("sd"), -1, 1000)
    r.meta("s1", "s2", "s3", "s4", "sd")


def setup_suid_write(d):
    files(d, (1000, 1000), w1=0o6775, w2=0o4775, w3=0o2775, w4=0o2765, w5=0o6755, w6=0o6755,
          w7=0o6777, w8=0o6775)


def run_suid_write(r):
    r.do("U2 (group) append suid+sgid", U2, append, r.p("w1"))
    r.do("U2 (group) append suid", U2, append, r.p("w2"))
    r.do("U2 (group) append sgid", U2, append, r.p("w3"))
    r.do("U2 (group) append sgid without g+x", U2, append, r.p("w4"))
    r.do("U1 (owner) write suid+sgid", U1, write_at, r.p("w5"))
    r.do("root write suid+sgid", ROOT, write_at, r.p("w6"))
    r.do("U3 (other) write suid+sgid", U3, write_at, r.p("w7"))
    r.do("U2 (group) write, then write again", U2, write_at, r.p("w8"))
    r.do("U2 write again", U2, write_at, r.p("w8"), b"yy")
    r.meta("w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8")
    for n in ("w1", "w5", "w8"):
        r.do(f"size {n}", ROOT, stat_size, r.p(n))


def setup_suid_truncate(d):
    for n in ("t1", "t2", "t3", "t4", "t6"):
        f(d, n, 0o6775, (1000, 1000))
    f(d, "t5", 0o2765, (1000, 1000))
    f(d, "t7", 0o6775, (1000, 1000), data=b"")


def run_suid_truncate(r):
    r.do("U2 (group) open O_TRUNC", U2, open_trunc, r.p("t1"))
    r.do("U2 (group) truncate()", U2, os.truncate, r.p("t2"), 1)
    r.do("U1 (owner) ftruncate", U1, ftruncate, r.p("t3"), 2)
    r.do("root open O_TRUNC", ROOT, open_trunc, r.p("t4"))
    r.do("U2 (group) O_TRUNC sgid without g+x", U2, open_trunc, r.p("t5"))
    r.do("U2 (group) ftruncate", U2, ftruncate, r.p("t6"), 100)
    r.do("U2 (group) O_TRUNC empty file", U2, open_trunc, r.p("t7"))
    r.meta("t1", "t2", "t3", "t4", "t5", "t6", "t7")
    for n in ("t1", "t2", "t3", "t6"):
        r.do(f"size {n}", ROOT, stat_size, r.p(n))


def setup_suid_other_writes(d):
    files(d, (1000, 1000), fa=0o6775, fb=0o6775, cr=0o6775)


def run_suid_other_writes(r):
    r.do("U2 (group) fallocate growing", U2, fallocate, r.p("fa"), 8192)
    r.do("root fallocate growing", ROOT, fallocate, r.p("fb"), 8192)
    r.do("root creates a source", ROOT, create, r.p("src"), 0o644)
    r.do("root fills it", ROOT, append, r.p("src"), b"abcdef")
    r.do("U2 (group) copy_file_range into", U2, copy_range, r.p("src"), r.p("cr"))
    r.meta("fa", "fb", "cr")
    r.do("read cr", ROOT, read_file, r.p("cr"))


def setup_copy_from_start(d):
    f(d, "src", 0o644, data=b"abcdef")
    f(d, "dst", 0o666)


def run_copy_from_start(r):
    """copy_file_range from a file of the starting content into another one."""
    r.do("U2 copy_file_range", U2, copy_range, r.p("src"), r.p("dst"))
    r.do("read dst", ROOT, read_file, r.p("dst"))


def setup_sticky(d):
    os.chmod(d, 0o1777)
    f(d, "a", 0o644, (1000, 1000))
    f(d, "b", 0o644, (1000, 1000))
    f(d, "c", 0o644, (1001, 1001))
    f(d, "e", 0o666, (1000, 1000))
    dr(d, "sub", 0o777, (1000, 1000))


def run_sticky(r):
    r.do("U2 unlink other's file", U2, os.unlink, r.p("a"))
    r.do("U2 rename other's file", U2, os.rename, r.p("b"), r.p("b2"))
    r.do("U2 rename over other's file", U2, os.rename, r.p("c"), r.p("e"))
    r.do("U2 rename own file", U2, os.rename, r.p("c"), r.p("c2"))
    r.do("U2 rmdir other's dir", U2, os.rmdir, r.p("sub"))
    r.do("U2 write other's 0666 file", U2, write_at, r.p("e"))
    r.do("U1 unlink own file", U1, os.unlink, r.p("a"))
    r.do("root unlink", ROOT, os.unlink, r.p("b"))
    r.do("list", ROOT, listdir, r.d)


def setup_acl(d):
    os.chmod(d, 0o755)
    f(d, "f", 0o644)
    f(d, "g", 0o600)
    f(d, "h", 0o666, (1000, 1000))
    dr(d, "dd", 0o777)
    f(d, "dd/x", 0o644)
    dr(d, "dd2", 0o755)
    dr(d, "dd3", 0o777)


def run_acl(r):
    r.setfacl("-m", "u:1000:---", "f")
    r.do("U1 read denied by ACL", U1, read_file, r.p("f"))
    r.do("U1 write denied by ACL", U1, append, r.p("f"))
    r.do("U2 read allowed by other", U2, read_file, r.p("f"))
    r.do("U1 access R_OK", U1, access, r.p("f"), os.R_OK)
    r.setfacl("-m", "u:1001:rw", "g")
    r.do("U2 read allowed by ACL", U2, read_file, r.p("g"))
    r.do("U2 write allowed by ACL", U2, append, r.p("g"))
    r.do("U1 read not in ACL", U1, read_file, r.p("g"))
    r.meta("f", "g")
    r.acl("f")
    r.acl("g")
    r.do("root chmod g 0600 (mask ---)", ROOT, os.chmod, r.p("g"), 0o600)
    r.do("U2 read after the mask", U2, read_file, r.p("g"))
    r.acl("g")
    r.setfacl("-m", "g:1000:rw", "f")
    r.do("U2 read via group ACL (U1 entry still ---)", U2, append, r.p("f"))
    r.do("U1 read, user entry wins", U1, read_file, r.p("f"))
    r.setfacl("-m", "u:1000:r-x", "dd")
    r.do("U1 create in dir denied by ACL", U1, create, r.p("dd", "new"))
    r.do("U1 hardlink into dir denied by ACL", U1, os.link, r.p("h"), r.p("dd", "h"))
    r.do("U1 unlink in dir denied by ACL", U1, os.unlink, r.p("dd", "x"))
    r.do("U1 rename into dir denied by ACL", U1, os.rename, r.p("h"), r.p("dd", "h2"))
    r.do("U1 list dir", U1, listdir, r.p("dd"))
    r.do("U2 create in dir", U2, create, r.p("dd", "y"))
    r.setfacl("-d", "-m", "u:1000:rwx", "dd2")
    r.setfacl("-m", "u:1000:rwx", "dd2")
    r.do("U1 create in dir allowed by ACL, umask 077", U1, create, r.p("dd2", "n"), 0o666,
         umask=0o077)
    r.do("U1 mkdir in dir with default ACL", U1, os.mkdir, r.p("dd2", "m"), 0o777,
         umask=0o077)
    r.do("root create in dir with default ACL", ROOT, create, r.p("dd2", "o"), 0o640)
    r.meta("dd2", "dd2/n", "dd2/m", "dd2/o")
    r.acl("dd2/n")
    r.acl("dd2/m")
    r.acl("dd2/m", default=True)
    r.acl("dd2/o")
    r.setfacl("-m", "u:1000:---", "dd3")
    r.do("U1 stat through dir denied by ACL", U1, lstat_meta, r.p("dd3", "."))
    r.setfacl("-b", "f")
    r.do("U1 read after the ACL is removed", U1, read_file, r.p("f"))
    r.meta("f")
    r.acl("f")


def setup_acl_sgid(d):
    os.chmod(d, 0o777)
    f(d, "s", 0o2775, (1000, 1002))


def run_acl_sgid(r):
    # an owner not in the file's group setting an ACL loses the sgid bit, as with chmod
    r.do("U1 setfacl own sgid file, not in its group", U1, subprocess.call,
         ["setfacl", "-m", "u:1001:r", r.p("s")])
    r.meta("s")


def setup_hardlink(d):
    os.chmod(d, 0o777)
    f(d, "f", 0o600, (1000, 1000))
    f(d, "g", 0o644, (1000, 1000))
    f(d, "w", 0o666, (1000, 1000))
    dr(d, "rd", 0o555)
    dr(d, "sub", 0o755, (1001, 1001))


def run_hardlink(r):
    r.do("U2 link unreadable file of another (protected_hardlinks)", U2, os.link, r.p("f"),
         r.p("sub", "f"))
    r.do("U2 link read-only file of another", U2, os.link, r.p("g"), r.p("sub", "g"))
    r.do("U2 link rw file of another", U2, os.link, r.p("w"), r.p("sub", "w"))
    r.do("U1 link into unwritable dir", U1, os.link, r.p("f"), r.p("rd", "f"))
    r.do("U1 link own file", U1, os.link, r.p("f"), r.p("f2"))
    r.do("U1 link over existing", U1, os.link, r.p("f"), r.p("g"))
    r.do("root link a dir", ROOT, os.link, r.p("sub"), r.p("sub2"))
    r.do("root link", ROOT, os.link, r.p("g"), r.p("g2"))
    r.meta("f", "f2", "g", "g2", "w", "sub/w")


def setup_rename(d):
    os.chmod(d, 0o755)
    dr(d, "a")
    f(d, "a/x")
    dr(d, "b")
    f(d, "f")
    f(d, "g")
    f(d, "h")
    dr(d, "p", 0o777)
    f(d, "p/mine", 0o644, (1000, 1000))


def run_rename(r):
    """Renames of files, and failing renames of folders."""
    r.do("dir into its own subdir", ROOT, os.rename, r.p("a"), r.p("a", "sub"))
    r.do("file over dir", ROOT, os.rename, r.p("f"), r.p("b"))
    r.do("dir over file", ROOT, os.rename, r.p("b"), r.p("f"))
    r.do("NOREPLACE over existing", ROOT, renameat2, r.p("f"), r.p("g"), 1)
    r.do("EXCHANGE two files", ROOT, renameat2, r.p("f"), r.p("g"), 2)
    r.do("file over file", ROOT, os.rename, r.p("g"), r.p("h"))
    r.do("U1 rename in root's dir", U1, os.rename, r.p("h"), r.p("h2"))
    r.do("U1 rename own file out of a writable dir", U1, os.rename, r.p("p", "mine"),
         r.p("mine"))
    r.do("U1 rename own file within a writable dir", U1, os.rename, r.p("p", "mine"),
         r.p("p", "mine2"))
    r.do("U1 mkdir and move a new dir", U1, lambda: (os.mkdir(r.p("p", "new")),
                                                      os.rename(r.p("p", "new"),
                                                                r.p("p", "new2"))))
    r.do("list", ROOT, listdir, r.d)
    r.do("list p", ROOT, listdir, r.p("p"))
    r.meta("f", "g")


def setup_rename_dirs(d):
    os.chmod(d, 0o755)
    dr(d, "b")
    dr(d, "c")
    f(d, "c/y")
    f(d, "f")
    dr(d, "p1", 0o777)
    dr(d, "p2", 0o777)
    dr(d, "p1/dd", 0o755)
    dr(d, "p1/mine", 0o755, (1000, 1000))


def run_rename_dirs(r):
    """Successful renames of folders that were in the starting content."""
    r.do("dir over non-empty dir", ROOT, os.rename, r.p("b"), r.p("c"))
    r.do("EXCHANGE file and dir", ROOT, renameat2, r.p("f"), r.p("c"), 2)
    r.do("U1 move root's dir across parents", U1, os.rename, r.p("p1", "dd"), r.p("p2", "dd"))
    r.do("U1 rename root's dir in place", U1, os.rename, r.p("p1", "dd"), r.p("p1", "de"))
    r.do("U1 move own dir across parents", U1, os.rename, r.p("p1", "mine"), r.p("p2", "mine"))
    r.do("list", ROOT, listdir, r.d)
    r.do("list p1", ROOT, listdir, r.p("p1"))
    r.do("list p2", ROOT, listdir, r.p("p2"))
    r.meta("f", "c")


def setup_unlink(d):
    dr(d, "e")
    dr(d, "ne")
    f(d, "ne/x")
    f(d, "f")


def run_unlink(r):
    r.do("rmdir a file", ROOT, os.rmdir, r.p("f"))
    r.do("unlink a dir", ROOT, os.unlink, r.p("e"))
    r.do("rmdir non-empty", ROOT, os.rmdir, r.p("ne"))
    r.do("unlink missing", ROOT, os.unlink, r.p("missing"))
    r.do("U1 unlink in root's dir", U1, os.unlink, r.p("f"))
    r.do("U1 rmdir in root's dir", U1, os.rmdir, r.p("e"))
    r.do("rmdir .", ROOT, os.rmdir, r.p("e", "."))
    r.do("rmdir empty", ROOT, os.rmdir, r.p("e"))
    r.do("list", ROOT, listdir, r.d)


def setup_excl(d):
    f(d, "f")
    os.symlink("target", os.path.join(d, "dangling"))
    os.symlink("f", os.path.join(d, "tof"))


def run_excl(r):
    r.do("O_EXCL existing", ROOT, create_excl, r.p("f"))
    r.do("O_EXCL dangling symlink", ROOT, create_excl, r.p("dangling"))
    r.do("O_EXCL symlink to file", ROOT, create_excl, r.p("tof"))
    r.do("O_CREAT through dangling symlink", ROOT, create, r.p("dangling"), 0o600)
    r.do("O_EXCL new", ROOT, create_excl, r.p("n"), 0o640)
    r.do("mkdir existing", ROOT, os.mkdir, r.p("f"))
    r.do("mkdir over symlink", ROOT, os.mkdir, r.p("tof"))
    r.meta("target", "n")


def setup_utimens(d):
    f(d, "f", 0o666, (1000, 1000))
    f(d, "g", 0o644, (1000, 1000))


def run_utimens(r):
    r.do("U2 touch writable file of another", U2, utime_now, r.p("f"))
    r.do("U2 explicit times on another's file", U2, utime_ns, r.p("f"), (1, 2))
    r.do("U2 touch read-only file of another", U2, utime_now, r.p("g"))
    r.do("U1 explicit times on own file", U1, utime_ns, r.p("g"),
         (5_000_000_001, 7_000_000_003))
    r.do("root explicit times", ROOT, utime_ns, r.p("f"), (11_000_000_000, 13_000_000_000))


def setup_symlink(d):
    f(d, "f", 0o640, (1000, 1000))
    os.symlink("f", os.path.join(d, "l"))
    os.symlink("loop2", os.path.join(d, "loop1"))
    os.symlink("loop1", os.path.join(d, "loop2"))
    os.symlink("nowhere", os.path.join(d, "dangling"))


def run_symlink(r):
    r.do("readlink", ROOT, os.readlink, r.p("l"))
    r.do("O_NOFOLLOW", ROOT, open_flags, r.p("l"), os.O_RDONLY | os.O_NOFOLLOW)
    r.do("O_PATH|O_NOFOLLOW", ROOT, open_flags, r.p("l"), os.O_PATH | os.O_NOFOLLOW)
    r.do("loop", ROOT, read_file, r.p("loop1"))
    r.do("dangling", ROOT, read_file, r.p("dangling"))
    r.do("U2 read through link", U2, read_file, r.p("l"))
    r.do("chmod follows", ROOT, os.chmod, r.p("l"), 0o600)
    r.do("lchown", ROOT, lchown, r.p("l"), 1000, 1000)
    r.do("U1 symlink over existing", U1, os.symlink, "x", r.p("f"))
    r.meta("f", "l", "dangling")


def setup_sgid_dir(d):
    os.chmod(d, 0o755)
    dr(d, "sd", 0o2777, (1000, 1000))


def run_sgid_dir(r):
    r.do("U3 create in sgid dir", U3, create, r.p("sd", "f"))
    r.do("U3 create 02755 in sgid dir (not in group)", U3, create, r.p("sd", "g"), 0o2755)
    r.do("U2 create 02755 in sgid dir (in group)", U2, create, r.p("sd", "h"), 0o2755)
    r.do("U3 mkdir in sgid dir", U3, os.mkdir, r.p("sd", "sub"), 0o755)
    r.do("U3 mknod fifo in sgid dir", U3, mkfifo, r.p("sd", "p"), 0o666)
    r.meta("sd", "sd/f", "sd/g", "sd/h", "sd/sub", "sd/p")


def setup_open_rules(d):
    os.chmod(d, 0o755)
    f(d, "secret", 0o600)
    f(d, "ro", 0o644)
    f(d, "x", 0o711)
    dr(d, "d")
    dr(d, "priv", 0o700)
    f(d, "priv/in", 0o644)
    dr(d, "xonly", 0o711)
    f(d, "xonly/in", 0o644)
    dr(d, "ronly", 0o744)
    f(d, "ronly/in", 0o644)


def run_open_rules(r):
    r.do("open dir O_WRONLY", ROOT, open_flags, r.p("d"), os.O_WRONLY)
    r.do("open file O_DIRECTORY", ROOT, open_flags, r.p("ro"), os.O_RDONLY | os.O_DIRECTORY)
    r.do("U1 read 0600 root file", U1, read_file, r.p("secret"))
    r.do("U1 write 0644 root file", U1, append, r.p("ro"))
    r.do("U1 O_TRUNC 0644 root file", U1, open_trunc, r.p("ro"))
    r.do("U1 read 0711 file", U1, read_file, r.p("x"))
    r.do("U1 access X_OK 0711", U1, access, r.p("x"), os.X_OK)
    r.do("U1 access W_OK", U1, access, r.p("ro"), os.W_OK)
    r.do("root access X_OK on 0644", ROOT, access, r.p("ro"), os.X_OK)
    r.do("U1 list 0700 dir", U1, listdir, r.p("priv"))
    r.do("U1 stat in 0700 dir", U1, lstat_meta, r.p("priv", "in"))
    r.do("U1 list 0711 dir", U1, listdir, r.p("xonly"))
    r.do("U1 stat in 0711 dir", U1, lstat_meta, r.p("xonly", "in"))
    r.do("U1 list 0744 dir", U1, listdir, r.p("ronly"))
    r.do("U1 stat in 0744 dir", U1, lstat_meta, r.p("ronly", "in"))
    r.do("U1 create in 0755 root dir", U1, create, r.p("new"))
    r.do("U1 mkdir in 0755 root dir", U1, os.mkdir, r.p("newd"))


CASES = {
    name[len("run_"):]: (globals()["setup_" + name[len("run_"):]], fn)
    for name, fn in list(globals().items())
    if name.startswith("run_") and "setup_" + name[len("run_"):] in globals()
}


def setup_all(root):
    """Every case's starting content, each in its own folder of `root` (as root)."""
    os.chmod(root, 0o755)
    for name, (setup, _) in CASES.items():
        d = os.path.join(root, name)
        os.mkdir(d, 0o755)
        setup(d)


def run_case(root, name):
    r = Run(os.path.join(root, name))
    CASES[name][1](r)
    return r.out


def differences(expected, got):
    """Readable lines for each outcome that differs (same labels in the same order)."""
    lines = []
    for (label, want), (label2, have) in zip(expected, got):
        if label != label2:
            lines.append(f"order differs: {label!r} vs {label2!r}")
            break
        if want != have:
            lines.append(f"{label}: ext4 {want!r}, here {have!r}")
    if len(expected) != len(got):
        lines.append(f"{len(expected)} outcomes on ext4, {len(got)} here")
    return lines
