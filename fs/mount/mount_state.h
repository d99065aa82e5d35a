/* What each running dcfs FUSE mount negotiated with the kernel, for `dcfs info`: the daemon
 * writes one small file per mount, DCFS_MOUNT_STATE_DIR/<major>:<minor> (the mount's device
 * number, as /proc/self/mountinfo shows it), once the kernel's INIT is answered, and removes it
 * when it stops serving. Lines of "KEY VALUE": pid, start (its start time), view, mode,
 * features, libfuse, protocol, and mountpoint last. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#define DCFS_MOUNT_STATE_DIR "/run/dcfs/mounts"

/* The mount's device number for the file's name, from mountinfo; from dcfs_mount_serve once
 * it has mounted MOUNTPOINT. Without it (not found) nothing is published. */
void dcfs_mount_state_begin(const char *mountpoint);

/* From the view's init handler: VIEW ("workspace", "image"), MODE (the data path: "passthrough",
 * "writeback", "write-through", "read-only"), FEATURES (space-separated flags negotiated), the
 * FUSE protocol version the kernel speaks. Best effort: a failure is logged, never fatal. */
void dcfs_mount_state_publish(const char *view, const char *mode, const char *features,
			      unsigned proto_major, unsigned proto_minor);

/* Remove the file (dcfs_mount_serve, when the loop ends). */
void dcfs_mount_state_end(void);

typedef struct dcfs_mount_state {
	char dev[32];
	pid_t pid;
	char view[32], mode[32], features[256], libfuse[32], protocol[16];
	char mountpoint[4096];
} dcfs_mount_state;

/* One line of /proc/self/mountinfo: the device ("0:52"), the mount point (its octal escapes,
 * \040 for a space, decoded) and the file system type; false when the line is not one. */
typedef struct dcfs_mountinfo_line {
	char dev[32], mountpoint[4096], fstype[64];
} dcfs_mountinfo_line;
bool dcfs_mountinfo_parse(const char *line, dcfs_mountinfo_line *m);

/* Read the record of the mount with device DEV ("0:52"); false when there is none, or when its
 * daemon is gone (a record left by a killed daemon: the pid and its start time no longer name a
 * running process). */
bool dcfs_mount_state_read(const char *dev, dcfs_mount_state *st);
