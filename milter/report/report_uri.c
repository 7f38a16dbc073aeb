/* report_uri - the form of a report database URI (see report_uri.h).
 *
 * report_uri_is_pg: the PostgreSQL schemes; report_uri_form_check: sqlite: with
 * a file name, or one of them.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "bytes.h"
#include "report_uri.h"
#include "xalloc.h"

/* report_uri_is_pg - does uri name PostgreSQL? */
bool
report_uri_is_pg(const char *uri)
{
	return strncmp(uri, "postgresql://", 13) == 0 || strncmp(uri, "postgres://", 11) == 0;
}

/* report_uri_form_check - sqlite: with a name, or a PostgreSQL scheme */
bool
report_uri_form_check(const char *uri, char *err, size_t errlen)
{
	if (strncmp(uri, "sqlite:", 7) == 0) {
		if (uri[7] == '\0') {
			snprintf(err, errlen, "\"sqlite:\" needs a file name, e.g. "
			    "\"sqlite:/var/lib/authmilter/reports.db\"");
			return false;
		}
		return true;
	}
	if (!report_uri_is_pg(uri)) {
		snprintf(err, errlen, "expected \"sqlite:PATH\" or \"postgresql://USER@HOST/DBNAME\"");
		return false;
	}
	return true;
}

/* report_uri_mask_userinfo - uri with the password of its userinfo (between the
 * first ':' and the last '@' before any '?') replaced by "***". A value without
 * "://" keeps only its scheme before that '@': a typo there must not show the
 * password either. */
static void
report_uri_mask_userinfo(struct buf *b, const char *uri)
{
	const char *query = uri + strcspn(uri, "?"), *at = NULL, *auth = strstr(uri, "://");
	const char *keep, *colon;

	for (const char *p = uri; p < query; p++)
		if (*p == '@')
			at = p;
	if (at == NULL) {
		buf_puts(b, uri);
		return;
	}
	if (auth != NULL && auth < at) {
		colon = memchr(auth + 3, ':', (size_t)(at - auth - 3));
		keep = colon != NULL ? colon + 1 : at;
	} else {
		keep = uri + strspn(uri, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");
		if (keep < at && *keep == ':')
			keep += 1 + strspn(keep + 1, "/");
		else
			keep = uri;
		colon = keep;	/* all of it may be a password */
	}
	buf_append(b, uri, (size_t)(keep - uri));
	if (colon != NULL)
		buf_puts(b, "***");
	buf_puts(b, at);
}

/* report_uri_secret_key - is the key before '=' (percent-decoded, any case) a
 * password one: "password", "sslpassword"? */
static bool
report_uri_secret_key(const char *key, size_t len)
{
	char low[64];
	size_t n = 0;

	for (size_t i = 0; i < len && n < sizeof(low) - 1; i++) {
		int c = (unsigned char)key[i];

		if (c == '%' && i + 2 < len && bytes_hex_value((unsigned char)key[i + 1]) >= 0 &&
		    bytes_hex_value((unsigned char)key[i + 2]) >= 0) {
			c = bytes_hex_value((unsigned char)key[i + 1]) * 16 +
			    bytes_hex_value((unsigned char)key[i + 2]);
			i += 2;
		}
		low[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 'a' - 'A' : c);
	}
	low[n] = '\0';
	return strstr(low, "password") != NULL;
}

char *
report_uri_mask(const char *uri)
{
	struct buf in = BUF_INIT, out = BUF_INIT;
	const char *p;

	if (strncmp(uri, "sqlite:", 7) == 0)
		return xstrdup(uri);
	report_uri_mask_userinfo(&in, uri);
	/* then every password=VALUE, in a URI's query or a "key=value" string */
	for (p = buf_cstr(&in); *p != '\0';) {
		size_t field = strcspn(p, "?& \t"), key = strcspn(p, "=?& \t");

		if (key < field && report_uri_secret_key(p, key)) {
			buf_append(&out, p, key + 1);
			buf_puts(&out, "***");
		} else {
			buf_append(&out, p, field);
		}
		p += field;
		if (*p != '\0')
			buf_putc(&out, *p++);
	}
	buf_free(&in);
	return buf_steal(&out);
}

bool
report_uri_has_secret(const char *uri)
{
	char *shown = report_uri_mask(uri);
	bool secret = strcmp(shown, uri) != 0;

	free(shown);
	return secret;
}
