/* appPort's host side: "HOST:CONTAINER" and "IP:HOST:CONTAINER" mappings forwarded as Docker's
 * userland proxy (docker-proxy) forwards them. The container shares the host's network, so a
 * plain port (3000, "3000", "3000:3000") listens on the host already and needs nothing; any
 * other mapping gets a listener on HOST (on IP only, when one is given; else on every address)
 * whose TCP connections are relayed to 127.0.0.1:CONTAINER.
 *
 * The relay is one process per container (a fork of `up`, named dcfs-forward): it holds the
 * listeners `up` bound (so a port in use is `up`'s error), relays with a fixed buffer per
 * direction and connection, and exits when the container's process 1 exits. Its pid and start
 * time are kept in STORE/containers/<id>/forward.pid (a pid reused since is not taken for it);
 * stopping the container stops it. */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"

typedef struct dcfs_port_map {
	char addr[64]; /* the host address to listen on; "" for every address */
	int host, container;
} dcfs_port_map;

/* One appPort entry (a number or a string "[[IP:]HOST:]CONTAINER[/tcp]"): 0 with *out filled,
 * or -EINVAL with "WHERE: appPort: ..." naming the entry (UDP and SCTP are refused by name). */
int dcfs_port_map_parse(const cJSON *entry, const char *where, dcfs_port_map *out, dcfs_error *e);

/* appPort (one entry or an array of them): the mappings that need forwarding (host port not
 * the container port), in *out (malloc'd; NULL when none). */
int dcfs_app_port_forwards(const cJSON *app_port, const char *where, dcfs_port_map **out,
			   size_t *n, dcfs_error *e);

/* Listen on each mapping's host side ("WHERE: appPort: cannot listen on port 8921: Address
 * already in use" when it cannot), then start the relay, which stops when process
 * `container_pid` exits, and write its pid to `pid_file`. */
int dcfs_port_forward_start(const dcfs_port_map *maps, size_t n, pid_t container_pid,
			    const char *pid_file, const char *where, dcfs_error *e);

/* Is the relay recorded in `pid_file` running? */
bool dcfs_port_forward_running(const char *pid_file);

/* Stop the relay recorded in `pid_file` (SIGTERM, SIGKILL after 5 s), wait until it is gone
 * and remove the file. Quiet when there is none. */
int dcfs_port_forward_stop(const char *pid_file, dcfs_error *e);

/* port_relay.c: relay connections accepted on `listeners` (listening, non-blocking) to
 * 127.0.0.1 at the matching maps[i].container, until `until_fd` (a pidfd; -1: none) is
 * readable (the container exited): 0 then, -errno when polling fails. */
int dcfs_port_relay(const int *listeners, const dcfs_port_map *maps, size_t n, int until_fd);
