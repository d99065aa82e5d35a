/* A JSONC parser (see jsonc.h): recursive descent over the bytes, building cJSON items, with the
 * line and the start of the current line kept as it goes so that an error can name the exact
 * place. Comments count as whitespace; a comma may precede a closing bracket. Strings are
 * decoded (escapes, surrogate pairs) to UTF-8; numbers follow the JSON grammar. The _pos
 * variants also note where each item starts (see dcfs_jsonc_positions). */
#include "jsonc.h"

#include "strbuf.h"

#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "map.h"
#include "utf8.h"

typedef struct parser {
	const char *p, *end;
	const char *line_start;
	int line;
	int depth;
	const char *name;
	dcfs_error *e;
	dcfs_jsonc_positions *pos; /* NULL: the plain parse */
} parser;

/* Columns count characters: UTF-8 continuation bytes do not start one. */
static int column_of(const parser *ps, const char *at, const char *line_start)
{
	int col = 1;
	for (const char *q = line_start; q < at; q++)
		if (((unsigned char)*q & 0xc0) != 0x80)
			col++;
	return col;
}

/* ---- positions ---------------------------------------------------------------------------- */

/* Note that `item` starts at `at` (on the current line); a later item at the same address (the
 * earlier one was freed, as a repeated key's value is) takes the entry over. */
static int note_value(parser *ps, const cJSON *item, const char *at, int line,
		      const char *line_start)
{
	dcfs_jsonc_positions *pos = ps->pos;
	if (pos->n == pos->cap) {
		size_t cap = pos->cap ? pos->cap * 2 : 64;
		dcfs_jsonc_place *v = realloc(pos->v, cap * sizeof(*v));
		if (!v)
			return dcfs_error_set(ps->e, ENOMEM, "out of memory");
		pos->v = v, pos->cap = cap;
	}
	pos->v[pos->n] = (dcfs_jsonc_place){.line = line, .col = column_of(ps, at, line_start)};
	if (dcfs_map_put(pos->index, &item, sizeof(item), pos->n) < 0)
		return dcfs_error_set(ps->e, ENOMEM, "out of memory");
	pos->n++;
	return 0;
}

static void note_key(parser *ps, const cJSON *item, const char *at, int line,
		     const char *line_start)
{
	size_t i;
	if (dcfs_map_get(ps->pos->index, &item, sizeof(item), &i)) {
		ps->pos->v[i].key_line = line;
		ps->pos->v[i].key_col = column_of(ps, at, line_start);
	}
}

const dcfs_jsonc_place *dcfs_jsonc_place_of(const dcfs_jsonc_positions *pos, const cJSON *item)
{
	size_t i;
	if (!pos || !pos->index || !dcfs_map_get(pos->index, &item, sizeof(item), &i))
		return NULL;
	return &pos->v[i];
}

void dcfs_jsonc_positions_free(dcfs_jsonc_positions *pos)
{
	if (pos->index)
		dcfs_map_free(pos->index);
	free(pos->index);
	free(pos->v);
	*pos = (dcfs_jsonc_positions){0};
}

__attribute__((format(printf, 5, 6))) static int
fail_at(parser *ps, const char *at, int line, const char *line_start, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return dcfs_error_set(ps->e, EINVAL, "%s:%d:%d: %s", ps->name, line,
			      column_of(ps, at, line_start), msg);
}

#define fail(ps, ...) fail_at((ps), (ps)->p, (ps)->line, (ps)->line_start, __VA_ARGS__)

static void newline(parser *ps, const char *at)
{
	ps->line++;
	ps->line_start = at + 1;
}

static int skip_block_comment(parser *ps)
{
	const char *start = ps->p;
	int line = ps->line;
	const char *ls = ps->line_start;
	for (ps->p += 2; ps->p + 1 < ps->end; ps->p++) {
		if (*ps->p == '\n')
			newline(ps, ps->p);
		else if (ps->p[0] == '*' && ps->p[1] == '/') {
			ps->p += 2;
			return 0;
		}
	}
	return fail_at(ps, start, line, ls, "unterminated comment: expected '*/'");
}

/* Whitespace and comments. */
static int skip_ws(parser *ps)
{
	while (ps->p < ps->end) {
		char c = *ps->p;
		if (c == '\n') {
			newline(ps, ps->p);
			ps->p++;
		} else if (c == ' ' || c == '\t' || c == '\r') {
			ps->p++;
		} else if (c == '/' && ps->p + 1 < ps->end && ps->p[1] == '/') {
			while (ps->p < ps->end && *ps->p != '\n')
				ps->p++;
		} else if (c == '/' && ps->p + 1 < ps->end && ps->p[1] == '*') {
			int r = skip_block_comment(ps);
			if (r < 0)
				return r;
		} else {
			break;
		}
	}
	return 0;
}

static bool at_end(const parser *ps)
{
	return ps->p >= ps->end;
}

/* ---- strings ---------------------------------------------------------------------------- */

static int sb_put_cp(dcfs_strbuf *b, uint32_t cp)
{
	char u[4];
	size_t n;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return dcfs_strbuf_put(b, u, n);
}

static int hex4(const char *s, const char *end, uint32_t *out)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++) {
		if (s + i >= end)
			return -1;
		char c = s[i];
		int d = c >= '0' && c <= '9'   ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10
					       : -1;
		if (d < 0)
			return -1;
		v = v << 4 | (uint32_t)d;
	}
	*out = v;
	return 0;
}

/* \uXXXX at ps->p (the backslash), with a following low surrogate when it is a high one. A
 * lone surrogate, which UTF-8 cannot hold, becomes U+FFFD. */
static int unicode_escape(parser *ps, dcfs_strbuf *b)
{
	uint32_t cp, lo;
	if (hex4(ps->p + 2, ps->end, &cp) < 0)
		return fail(ps, "bad escape: expected four hex digits after '\\u'");
	ps->p += 6;
	if (cp >= 0xd800 && cp < 0xdc00 && ps->end - ps->p >= 6 && ps->p[0] == '\\' &&
	    ps->p[1] == 'u' && hex4(ps->p + 2, ps->end, &lo) == 0 && lo >= 0xdc00 && lo < 0xe000) {
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		ps->p += 6;
	} else if (cp >= 0xd800 && cp < 0xe000) {
		cp = 0xfffd;
	}
	if (cp == 0)
		return fail_at(ps, ps->p - 6, ps->line, ps->line_start,
			       "unsupported escape '\\u0000': strings cannot hold NUL");
	return sb_put_cp(b, cp);
}

static int escape(parser *ps, dcfs_strbuf *b)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	if (ps->p + 1 >= ps->end)
		return 1; /* unterminated */
	char c = ps->p[1];
	if (c == 'u')
		return unicode_escape(ps, b);
	const char *k = c ? strchr(from, c) : NULL;
	if (!k)
		return fail(
			ps,
			"bad escape: expected one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX");
	ps->p += 2;
	return dcfs_strbuf_put(b, &to[k - from], 1);
}

/* A string at ps->p (the opening quote); *out is malloc'd. */
static int parse_string(parser *ps, char **out)
{
	const char *start = ps->p;
	_cleanup_free_ char *unused = NULL;
	dcfs_strbuf b = {0};
	int r = dcfs_strbuf_put(&b, "", 0);
	ps->p++;
	while (r >= 0) {
		const char *run = ps->p;
		while (ps->p < ps->end && *ps->p != '"' && *ps->p != '\\' &&
		       (unsigned char)*ps->p >= 0x20)
			ps->p++;
		r = dcfs_strbuf_put(&b, run, (size_t)(ps->p - run));
		if (r < 0)
			break;
		if (at_end(ps) || *ps->p == '\n') {
			r = fail_at(ps, start, ps->line, ps->line_start,
				    "unterminated string: expected '\"' before the end of the %s",
				    at_end(ps) ? "input" : "line");
		} else if (*ps->p == '"') {
			ps->p++;
			*out = b.s;
			return 0;
		} else if (*ps->p == '\\') {
			r = escape(ps, &b);
			if (r == 1)
				r = fail_at(ps, start, ps->line, ps->line_start,
					    "unterminated string: expected '\"' before the end of "
					    "the input");
		} else {
			r = fail(ps, "control character U+%04X in a string: expected it escaped",
				 (unsigned char)*ps->p);
		}
	}
	unused = b.s;
	return r == -ENOMEM ? dcfs_error_set(ps->e, ENOMEM, "out of memory") : r;
}

/* ---- numbers and literals ----------------------------------------------------------------- */

static bool is_digit(const parser *ps)
{
	return !at_end(ps) && *ps->p >= '0' && *ps->p <= '9';
}

static int digits(parser *ps, const char *after)
{
	if (!is_digit(ps))
		return fail(ps, "bad number: expected a digit after %s", after);
	while (is_digit(ps))
		ps->p++;
	return 0;
}

static int parse_number(parser *ps, cJSON **out)
{
	const char *start = ps->p;
	int r = 0;
	if (*ps->p == '-')
		ps->p++;
	if (!at_end(ps) && *ps->p == '0')
		ps->p++;
	else if ((r = digits(ps, "'-'")) < 0)
		return r;
	if (!at_end(ps) && *ps->p == '.') {
		ps->p++;
		if ((r = digits(ps, "'.'")) < 0)
			return r;
	}
	if (!at_end(ps) && (*ps->p == 'e' || *ps->p == 'E')) {
		ps->p++;
		if (!at_end(ps) && (*ps->p == '+' || *ps->p == '-'))
			ps->p++;
		if ((r = digits(ps, "the exponent")) < 0)
			return r;
	}
	if (is_digit(ps))
		return fail(ps, "bad number: a leading zero must stand alone");
	_cleanup_free_ char *num = strndup(start, (size_t)(ps->p - start));
	if (!num)
		return dcfs_error_set(ps->e, ENOMEM, "out of memory");
	*out = cJSON_CreateNumber(strtod(num, NULL));
	return *out ? 0 : dcfs_error_set(ps->e, ENOMEM, "out of memory");
}

static bool word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '$' || c == '.' || c == '+' || c == '-';
}

static const char expected_value[] =
	"expected a value (string, number, object, array, true, false or null)";

/* true, false, null; any other word is reported whole, at its start. */
static int parse_literal(parser *ps, cJSON **out)
{
	const char *w = ps->p;
	while (ps->p < ps->end && word_char(*ps->p))
		ps->p++;
	size_t n = (size_t)(ps->p - w);
	if (n == 4 && !memcmp(w, "true", 4))
		*out = cJSON_CreateTrue();
	else if (n == 5 && !memcmp(w, "false", 5))
		*out = cJSON_CreateFalse();
	else if (n == 4 && !memcmp(w, "null", 4))
		*out = cJSON_CreateNull();
	else if (n)
		return fail_at(ps, w, ps->line, ps->line_start, "bad literal '%.*s': %s",
			       (int)(n > 32 ? 32 : n), w, expected_value);
	else
		return fail_at(ps, w, ps->line, ps->line_start, "%s", expected_value);
	return *out ? 0 : dcfs_error_set(ps->e, ENOMEM, "out of memory");
}

/* ---- objects and arrays ------------------------------------------------------------------- */

static int parse_value(parser *ps, cJSON **out);

/* After an element: skip to ',' or the closing bracket. Returns 1 at the closing bracket (left
 * consumed), 0 after a comma. */
static int separator(parser *ps, char close, const char *what)
{
	int r = skip_ws(ps);
	if (r < 0)
		return r;
	if (!at_end(ps) && *ps->p == ',') {
		ps->p++;
		return 0;
	}
	if (!at_end(ps) && *ps->p == close) {
		ps->p++;
		return 1;
	}
	return fail(ps, "expected ',' or '%c' after %s", close, what);
}

/* Returns 1 when the next token closes the container (consumed); the trailing comma case. */
static int closes(parser *ps, char close)
{
	int r = skip_ws(ps);
	if (r < 0)
		return r;
	if (!at_end(ps) && *ps->p == close) {
		ps->p++;
		return 1;
	}
	return 0;
}

/* Add a member; a repeated key replaces the earlier value in its place. `keys` maps each key
 * to its item so that a large object is not searched once per member. */
static int add_member(parser *ps, cJSON *obj, dcfs_map *keys, const char *key, cJSON *val)
{
	size_t len = strlen(key), at;
	bool ok;
	if (dcfs_map_get(keys, key, len, &at)) {
		ok = cJSON_ReplaceItemViaPointer(obj, (cJSON *)at, val);
		if (ok && !(val->string = strdup(key)))
			return dcfs_error_set(ps->e, ENOMEM, "out of memory");
	} else {
		ok = cJSON_AddItemToObject(obj, key, val);
	}
	if (!ok) {
		cJSON_Delete(val);
		return dcfs_error_set(ps->e, ENOMEM, "out of memory");
	}
	if (dcfs_map_put(keys, key, len, (size_t)(uintptr_t)val) < 0)
		return dcfs_error_set(ps->e, ENOMEM, "out of memory");
	return 0;
}

static int parse_member(parser *ps, cJSON *obj, dcfs_map *keys)
{
	if (at_end(ps) || *ps->p != '"')
		return fail(ps, "expected a string key or '}'");
	_cleanup_free_ char *key = NULL;
	const char *key_at = ps->p, *key_ls = ps->line_start;
	int key_line = ps->line;
	int r = parse_string(ps, &key);
	if (r < 0 || (r = skip_ws(ps)) < 0)
		return r;
	if (at_end(ps) || *ps->p != ':')
		return fail(ps, "expected ':' after an object key");
	ps->p++;
	cJSON *val = NULL;
	if ((r = parse_value(ps, &val)) < 0)
		return r;
	if ((r = add_member(ps, obj, keys, key, val)) < 0)
		return r;
	if (ps->pos)
		note_key(ps, val, key_at, key_line, key_ls);
	return 0;
}

static int parse_members(parser *ps, cJSON *obj, dcfs_map *keys)
{
	for (;;) {
		int r = closes(ps, '}');
		if (r != 0)
			return r < 0 ? r : 0;
		if ((r = parse_member(ps, obj, keys)) < 0)
			return r;
		r = separator(ps, '}', "an object member");
		if (r != 0)
			return r < 0 ? r : 0;
	}
}

static int parse_object(parser *ps, cJSON *obj)
{
	dcfs_map keys = {0};
	ps->p++;
	int r = parse_members(ps, obj, &keys);
	dcfs_map_free(&keys);
	return r;
}

static int parse_array(parser *ps, cJSON *arr)
{
	ps->p++;
	for (;;) {
		int r = closes(ps, ']');
		if (r != 0)
			return r < 0 ? r : 0;
		cJSON *val = NULL;
		if ((r = parse_value(ps, &val)) < 0)
			return r;
		if (!cJSON_AddItemToArray(arr, val)) {
			cJSON_Delete(val);
			return dcfs_error_set(ps->e, ENOMEM, "out of memory");
		}
		r = separator(ps, ']', "an array element");
		if (r != 0)
			return r < 0 ? r : 0;
	}
}

static int parse_container(parser *ps, cJSON **out)
{
	if (ps->depth >= DCFS_JSONC_MAX_DEPTH)
		return fail(ps, "nesting deeper than %d levels: expected fewer '[' and '{'",
			    DCFS_JSONC_MAX_DEPTH);
	bool obj = *ps->p == '{';
	_cleanup_json_ cJSON *c = obj ? cJSON_CreateObject() : cJSON_CreateArray();
	if (!c)
		return dcfs_error_set(ps->e, ENOMEM, "out of memory");
	ps->depth++;
	int r = obj ? parse_object(ps, c) : parse_array(ps, c);
	ps->depth--;
	if (r < 0)
		return r;
	*out = TAKE_PTR(c);
	return 0;
}

static int parse_value_at(parser *ps, cJSON **out);

/* A value, noted in ps->pos when positions are wanted. */
static int parse_value(parser *ps, cJSON **out)
{
	int r = skip_ws(ps);
	if (r < 0 || !ps->pos)
		return r < 0 ? r : parse_value_at(ps, out);
	const char *at = ps->p, *ls = ps->line_start;
	int line = ps->line;
	if ((r = parse_value_at(ps, out)) < 0)
		return r;
	return note_value(ps, *out, at, line, ls);
}

static int parse_value_at(parser *ps, cJSON **out)
{
	int r;
	if (at_end(ps))
		return fail(ps, "%s, found the end of the input", expected_value);
	char c = *ps->p;
	if (c == '{' || c == '[')
		return parse_container(ps, out);
	if (c == '"') {
		_cleanup_free_ char *s = NULL;
		if ((r = parse_string(ps, &s)) < 0)
			return r;
		*out = cJSON_CreateString(s);
		return *out ? 0 : dcfs_error_set(ps->e, ENOMEM, "out of memory");
	}
	if (c == '-' || (c >= '0' && c <= '9'))
		return parse_number(ps, out);
	return parse_literal(ps, out);
}

/* JSON text is UTF-8: the first byte that is not fails with its place. */
static int check_utf8(parser *ps)
{
	int line = ps->line;
	const char *line_start = ps->line_start;
	for (const char *q = ps->p; q < ps->end;) {
		uint32_t cp;
		size_t n = (unsigned char)*q < 0x80 ? 1 : dcfs_utf8_char(q, (size_t)(ps->end - q), &cp);
		if (n == 0)
			return fail_at(ps, q, line, line_start, "invalid UTF-8 (byte 0x%02x)",
				       (unsigned char)*q);
		if (*q == '\n')
			line++, line_start = q + 1;
		q += n;
	}
	return 0;
}

static int parse_text(const char *text, size_t len, const char *name, cJSON **out,
		      dcfs_jsonc_positions *pos, dcfs_error *e)
{
	parser ps = {.p = text, .end = text + len, .line_start = text, .line = 1, .name = name,
		     .e = e, .pos = pos};
	*out = NULL;
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		ps.p = ps.line_start = text + 3;
	_cleanup_json_ cJSON *v = NULL;
	int r = check_utf8(&ps);
	if (r < 0 || (r = parse_value(&ps, &v)) < 0 || (r = skip_ws(&ps)) < 0)
		return r;
	if (!at_end(&ps))
		return fail(&ps, "expected the end of the input after the top-level value");
	*out = TAKE_PTR(v);
	return 0;
}

int dcfs_jsonc_parse(const char *text, size_t len, const char *name, cJSON **out, dcfs_error *e)
{
	return parse_text(text, len, name, out, NULL, e);
}

int dcfs_jsonc_parse_pos(const char *text, size_t len, const char *name, cJSON **out,
			 dcfs_jsonc_positions *pos, dcfs_error *e)
{
	if (!pos->index && !(pos->index = calloc(1, sizeof(*pos->index))))
		return dcfs_error_set(e, ENOMEM, "out of memory");
	return parse_text(text, len, name, out, pos, e);
}

/* The whole file, malloc'd, in *buf (NULL when empty). */
static int read_file(const char *path, char **out, size_t *out_len, dcfs_error *e)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	if (!f)
		return dcfs_error_set(e, errno, "cannot open '%s': %s", path, strerror(errno));
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 8192;
			char *nb = realloc(buf, cap);
			if (!nb)
				return dcfs_error_set(e, ENOMEM, "out of memory");
			buf = nb;
		}
		size_t n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f))
		return dcfs_error_set(e, EIO, "cannot read '%s': %s", path, strerror(errno));
	*out = TAKE_PTR(buf);
	*out_len = len;
	return 0;
}

int dcfs_jsonc_parse_file(const char *path, cJSON **out, dcfs_error *e)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r = read_file(path, &buf, &len, e);
	return r < 0 ? r : dcfs_jsonc_parse(buf ? buf : "", len, path, out, e);
}

int dcfs_jsonc_parse_file_pos(const char *path, cJSON **out, dcfs_jsonc_positions *pos,
			      dcfs_error *e)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r = read_file(path, &buf, &len, e);
	return r < 0 ? r : dcfs_jsonc_parse_pos(buf ? buf : "", len, path, out, pos, e);
}

/* ---- printing as JSON.stringify ----------------------------------------------------------- */

/* A key that JavaScript treats as an array index; its value in *out. */
static bool array_index(const char *k, uint64_t *out)
{
	if (!*k || (k[0] == '0' && k[1]) || strlen(k) > 10)
		return false;
	uint64_t v = 0;
	for (const char *p = k; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*out = v;
	return v < 4294967295ULL;
}

static int cmp_index(const void *a, const void *b)
{
	uint64_t x = 0, y = 0;
	array_index((*(cJSON *const *)a)->string, &x);
	array_index((*(cJSON *const *)b)->string, &y);
	return x < y ? -1 : x > y;
}

/* Index keys first, ascending (a stable order: indices are unique); then the rest. */
static int order_keys(cJSON *obj)
{
	size_t n = 0, ni = 0;
	for (cJSON *c = obj->child; c; c = c->next)
		n++;
	if (n < 2)
		return 0;
	_cleanup_free_ cJSON **v = malloc(n * sizeof(*v));
	if (!v)
		return -ENOMEM;
	uint64_t idx;
	for (cJSON *c = obj->child; c; c = c->next)
		if (array_index(c->string, &idx))
			v[ni++] = c;
	if (ni == 0)
		return 0;
	size_t k = ni;
	for (cJSON *c = obj->child; c; c = c->next)
		if (!array_index(c->string, &idx))
			v[k++] = c;
	qsort(v, ni, sizeof(*v), cmp_index);
	for (size_t i = 0; i < n; i++) {
		v[i]->prev = i ? v[i - 1] : v[n - 1];
		v[i]->next = i + 1 < n ? v[i + 1] : NULL;
	}
	obj->child = v[0];
	return 0;
}

/* JavaScript's Number.prototype.toString for a finite double. */
static void js_number(double d, char out[40])
{
	if (d == 0) {
		strcpy(out, "0");
		return;
	}
	char buf[40];
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*e", prec - 1, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	/* buf is [-]D[.DDD]e[+-]XX: gather the digits and the exponent */
	char digits[20];
	int k = 0, neg = buf[0] == '-';
	char *e = strchr(buf, 'e');
	for (char *p = buf + neg; p < e; p++)
		if (*p != '.')
			digits[k++] = *p;
	digits[k] = '\0';
	int n = atoi(e + 1) + 1; /* the decimal point sits after n digits */
	char zeros[24];
	memset(zeros, '0', sizeof(zeros));
	char *o = out + (neg ? 1 : 0);
	out[0] = '-';
	if (k <= n && n <= 21)
		sprintf(o, "%s%.*s", digits, n - k, zeros);
	else if (0 < n && n <= 21)
		sprintf(o, "%.*s.%s", n, digits, digits + n);
	else if (-6 < n && n <= 0)
		sprintf(o, "0.%.*s%s", -n, zeros, digits);
	else
		sprintf(o, "%c%s%se%c%d", digits[0], k > 1 ? "." : "", digits + 1,
			n - 1 < 0 ? '-' : '+', abs(n - 1));
}

static int js_form(cJSON *json)
{
	if (cJSON_IsNumber(json)) {
		char num[40];
		if (isfinite(json->valuedouble))
			js_number(json->valuedouble, num);
		else
			strcpy(num, "null");
		char *raw = strdup(num);
		if (!raw)
			return -ENOMEM;
		json->type = cJSON_Raw;
		json->valuestring = raw;
		return 0;
	}
	if (cJSON_IsObject(json) && order_keys(json) < 0)
		return -ENOMEM;
	for (cJSON *c = json->child; c; c = c->next)
		if (js_form(c) < 0)
			return -ENOMEM;
	return 0;
}

char *dcfs_json_print_js(cJSON *json)
{
	return js_form(json) < 0 ? NULL : cJSON_PrintUnformatted(json);
}

cJSON *dcfs_json_slot(cJSON *obj, const char *key, bool array)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (array ? cJSON_IsArray(v) : cJSON_IsObject(v))
		return v;
	cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
	return array ? cJSON_AddArrayToObject(obj, key) : cJSON_AddObjectToObject(obj, key);
}

static int cmp_member_names(const void *a, const void *b)
{
	return strcmp((*(cJSON *const *)a)->string, (*(cJSON *const *)b)->string);
}

/* See jsonc.h. */
int dcfs_json_sort_keys(cJSON *j)
{
	size_t n = 0;
	for (cJSON *it = j ? j->child : NULL; it; it = it->next) {
		int r = dcfs_json_sort_keys(it);
		if (r < 0)
			return r;
		n++;
	}
	if (!cJSON_IsObject(j) || n < 2)
		return 0;
	cJSON **items = malloc(n * sizeof(*items));
	if (!items)
		return -ENOMEM;
	size_t i = 0;
	for (cJSON *it = j->child; it; it = it->next)
		items[i++] = it;
	qsort(items, n, sizeof(*items), cmp_member_names);
	for (i = 0; i < n; i++) {
		items[i]->prev = i ? items[i - 1] : items[n - 1]; /* cJSON: head->prev is the tail */
		items[i]->next = i + 1 < n ? items[i + 1] : NULL;
	}
	j->child = items[0];
	free(items);
	return 0;
}
