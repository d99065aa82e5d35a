/* Waiting out a snapshot's freeze of a container (container_wait.h). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "container_wait.h"

enum { POLL_US = 100000, MAX_POLLS = 6000 }; /* 100 ms, 10 minutes */

static bool paused(const char *state)
{
	return state && !strcmp(state, "paused");
}

char *dcfs_container_wait_unpaused(const dcfs_runc *rc, const char *id, const char *name, FILE *notes)
{
	char *state = NULL;
	dcfs_runc_state(rc, id, &state);
	for (int waited = 0; paused(state) && waited < MAX_POLLS; waited++) {
		if (waited == 0 && notes)
			fprintf(notes, "dcfs: exec: %s is frozen while a snapshot is taken; waiting\n", name);
		usleep(POLL_US);
		free(state);
		state = NULL;
		dcfs_runc_state(rc, id, &state);
	}
	return state;
}
