/* Growing an array by doubling: one home for the realloc step of the lists the modules build. */
#pragma once

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

/* Make room in the array *arr (capacity *cap, elements of `size` bytes) for element `n`:
 * doubling the capacity, `first` elements at first. 0, or -ENOMEM with *arr unchanged. */
static inline int dcfs_grow(void **arr, size_t *cap, size_t n, size_t size, size_t first)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : first;
	void *p = realloc(*arr, c * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = c;
	return 0;
}

/* dcfs_grow for an array variable `arr` of `n` elements. */
#define DCFS_GROW(arr, cap, n, first) dcfs_grow((void **)&(arr), &(cap), (n), sizeof(*(arr)), (first))
