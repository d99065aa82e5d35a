/* The reference CLI's keep-alive script with the features' entrypoints (see keep_alive.h). */
#include "keep_alive.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

char *dcfs_keep_alive_script(const cJSON *entrypoints)
{
	dcfs_strbuf sb = {0};
	static const char head[] = "echo Container started\ntrap \"exit 0\" 15\n";
	int r = dcfs_strbuf_put(&sb, head, sizeof(head) - 1);
	const cJSON *ep;
	bool first = true;
	cJSON_ArrayForEach(ep, entrypoints) {
		const char *s = cJSON_GetStringValue(ep);
		if (!s || r < 0)
			continue;
		r = first ? 0 : dcfs_strbuf_put(&sb, "\n", 1);
		r = r ?: dcfs_strbuf_put(&sb, s, strlen(s));
		first = false;
	}
	static const char tail[] = "\nexec \"$@\"\nwhile sleep 1 & wait $!; do :; done";
	r = r ?: dcfs_strbuf_put(&sb, tail, sizeof(tail) - 1);
	if (r < 0) {
		free(sb.s);
		return NULL;
	}
	return sb.s;
}
