/* What the files of launcher/engine/ share: one HTTP request over the engine's socket (its reply
 * buffered, or handed over line by line), the mapping of a failed status onto -errno and a
 * one-line message, the label filters of a list, and the hijacked connection of an exec. */
#pragma once

#include <stddef.h>

#include <cjson/cJSON.h>

#include "cleanup.h"
#include "engine.h"
#include "error.h"
#include "strbuf.h"

DEFINE_TRIVIAL_CLEANUP(cJSON *, cJSON_Delete)
#define _cleanup_json_ _cleanup_(cJSON_Deletep)

/* Called with each complete line of a 2xx reply (without its newline) as it arrives; a negative
 * return stops the transfer (and is returned by engine_request). */
typedef struct engine_lines {
	int (*line)(void *opaque, char *line);
	void *opaque;
	int result; /* the callback's first negative return */
} engine_lines;

/* METHOD PATH with JSON text `body` (NULL: none); *status the HTTP status; the reply's bytes in
 * `reply` (all of them, or, with `lines` and a 2xx status, the unfinished last line only).
 * Fails only when the engine cannot be reached or the transfer breaks. */
int engine_request(dcfs_engine *en, const char *method, const char *path, const char *body,
		   engine_lines *lines, dcfs_strbuf *reply, long *status, const char *what,
		   dcfs_error *e);

/* The error for a status >= 400: 404 -ENOENT, 409 -EEXIST, others -EIO; the message "KIND:
 * WHAT: " with the engine's own (the reply's "message", else its text, else the status). */
int engine_status_error(const dcfs_engine *en, long status, const char *reply, const char *what,
			dcfs_error *e);

/* "filters=" and the URL-escaped {"label":[...]} for `labels` (NULL-terminated), malloc'd; an
 * empty string for no labels. */
char *engine_label_filters(const dcfs_engine *en, const char *const *labels);

/* A URL-escaped copy of `s` (malloc'd). */
char *engine_escape(const dcfs_engine *en, const char *s);

/* A hijacked connection (an exec's start): its own CURL handle that only connects
 * (CURLOPT_CONNECT_ONLY), the request written by hand with "Connection: Upgrade" and "Upgrade:
 * tcp", the 101 or 200 answer's head read; then the raw socket carries the process's streams. */
typedef struct engine_hijack {
	void *curl;
	int fd;		 /* the socket (curl's: closed with the handle), non-blocking */
	dcfs_strbuf rest; /* stream bytes read along with the head */
} engine_hijack;

/* POST PATH with JSON text `body` on a new connection; an answer other than 101 or 200 fails as
 * engine_status_error says. */
int engine_hijack_open(dcfs_engine *en, const char *path, const char *body, const char *what,
		       engine_hijack *h, dcfs_error *e);
void engine_hijack_close(engine_hijack *h);

/* Relaying an exec's streams over a hijacked socket until the engine closes it: in_fd to the
 * socket (the socket's write side shut at in_fd's EOF), the socket to out_fd/err_fd (decoded,
 * or raw with a terminal); each SIGWINCH read from winch_fd (-1: none) calls resize. */
typedef struct engine_pump {
	int sock, in_fd, out_fd, err_fd, winch_fd;
	bool tty;
	void (*resize)(void *opaque);
	void *opaque;
} engine_pump;

int engine_pump_run(const engine_pump *p, const dcfs_strbuf *first, dcfs_error *e);

/* Write all of buf to fd (which may be non-blocking). */
int engine_write_all(int fd, const void *buf, size_t n);

/* PREFIX + the URL-escaped `name` + SUFFIX ("/containers/" "x" "/json"), malloc'd. */
char *engine_path(const dcfs_engine *en, const char *prefix, const char *name,
		  const char *suffix);

/* dcfs_engine_call where an object that is gone (404) is success: removals, stops. */
int engine_call_gone_ok(dcfs_engine *en, const char *method, const char *path, const char *what,
			dcfs_error *e);

/* The "Id" of a create's answer, malloc'd in *id. */
int engine_reply_id(const dcfs_engine *en, const cJSON *reply, const char *what, char **id,
		    dcfs_error *e);
