/* HANDLE_KILLPRIV_V2 for libfuse < 3.17, which cannot negotiate it: the session's reads and
 * writes of /dev/fuse go through libfuse's custom-I/O hooks, which note the kernel's INIT
 * flags and add FUSE_HANDLE_KILLPRIV_V2 to the INIT reply when the kernel offers it and the
 * view asked for it (dcfs_killpriv_v2_take, from its init handler). The kernel then skips
 * its getxattr(security.capability) round trip before every write, and the view drops
 * set-user-ID and set-group-ID bits itself, as it does where libfuse negotiates the flag.
 * Every other request and reply passes through untouched, spliced as libfuse would. */
#include "killpriv_io.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#if DCFS_FUSE_VERSION < 317

/* One session per daemon process: the state is the process's. */
static _Atomic uint64_t init_unique;	/* the INIT request's id, 0 before it came */
static atomic_bool offered, taken;

static ssize_t io_read(int fd, void *buf, size_t len, void *userdata)
{
	ssize_t n = read(fd, buf, len);
	const struct fuse_in_header *h = buf;
	if (n >= (ssize_t)(sizeof(*h) + offsetof(struct fuse_init_in, flags) + sizeof(uint32_t)) &&
	    h->opcode == FUSE_INIT && !atomic_load(&init_unique)) {
		const struct fuse_init_in *in = (const void *)(h + 1);
		atomic_store(&offered, in->minor >= 33 && (in->flags & FUSE_HANDLE_KILLPRIV_V2));
		atomic_store(&init_unique, h->unique);
	}
	return n;
}

static ssize_t io_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	uint64_t unique = atomic_load(&init_unique);
	if (unique && atomic_load(&taken) && count >= 2 &&
	    iov[0].iov_len >= sizeof(struct fuse_out_header) &&
	    iov[1].iov_len >= offsetof(struct fuse_init_out, flags) + sizeof(uint32_t)) {
		const struct fuse_out_header *h = iov[0].iov_base;
		if (h->unique == unique && h->error == 0) {
			struct fuse_init_out *out = iov[1].iov_base;
			out->flags |= FUSE_HANDLE_KILLPRIV_V2;
			atomic_store(&taken, false); /* once */
		}
	}
	return writev(fd, iov, count);
}

static ssize_t io_splice(int fdin, off_t *offin, int fdout, off_t *offout, size_t len,
			 unsigned int flags, void *userdata)
{
	return splice(fdin, offin, fdout, offout, len, flags);
}

static const struct fuse_custom_io io = {
	.writev = io_writev,
	.read = io_read,
	.splice_receive = io_splice,
	.splice_send = io_splice,
};

int dcfs_killpriv_io_install(struct fuse_session *se)
{
	/* libfuse (3.14) only swaps the descriptor's reads and writes: the session keeps its
	 * mount point and unmounts as before */
	return fuse_session_custom_io(se, &io, fuse_session_fd(se));
}

bool dcfs_killpriv_v2_take(struct fuse_conn_info *conn)
{
	if (!atomic_load(&offered))
		return false;
	atomic_store(&taken, true);
	return true;
}

#else

int dcfs_killpriv_io_install(struct fuse_session *se)
{
	return 0;
}

bool dcfs_killpriv_v2_take(struct fuse_conn_info *conn)
{
	return fuse_set_feature_flag(conn, FUSE_CAP_HANDLE_KILLPRIV_V2);
}

#endif
