/* `dcfs prebuild`: a fresh container of the configuration runs onCreateCommand and
 * updateContentCommand, its changes become a prebuild snapshot keyed by the configuration
 * (prebuild_key.h), the container is removed, and only the newest `keep` prebuilds of the
 * configuration stay; older ones become reclaimable. Requests for one key are queued and
 * collapse into the latest (prebuild_queue.h). */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "layer_writer.h"
#include "prebuild_key.h"
#include "report.h"
#include "store.h"

typedef struct dcfs_prebuild_opts {
	const char *folder, *config_file;
	int keep;    /* 1 to 5 */
	const char *builder; /* a Dockerfile configuration's builder; NULL: chosen */
	const dcfs_report *report; /* notes, labels and warnings of its `up`; NULL: none said */
} dcfs_prebuild_opts;

typedef struct dcfs_prebuild_result {
	bool collapsed; /* a newer request for the same key superseded this one */
	char *ref;      /* the snapshot */
	dcfs_prebuild_key key;
	dcfs_layer_writer_stats stats;
	int released;   /* older prebuilds of the configuration made reclaimable */
} dcfs_prebuild_result;

int dcfs_prebuild(dcfs_store *s, const dcfs_prebuild_opts *o, dcfs_prebuild_result *res,
		  dcfs_error *e);
void dcfs_prebuild_result_free(dcfs_prebuild_result *res);
