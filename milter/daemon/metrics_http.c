/* metrics_http - serve GET /metrics with libmicrohttpd.
 *
 * metrics_http_start binds the socket itself (so a port in use is reported with
 * its errno, at start-up) and hands it to libmicrohttpd, which runs one internal
 * polling thread for every scrape. metrics_http_stop ends it. A scrape renders
 * metrics_render into a fresh buffer that libmicrohttpd frees after sending.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "buf.h"
#include "metrics.h"
#include "metrics_http.h"
#include "sockspec.h"

#define METRICS_HTTP_CONNECTIONS	16	/* scrapers at once; more wait */
#define METRICS_HTTP_TIMEOUT		10	/* seconds a scraper may idle */

static struct MHD_Daemon *metrics_http_daemon;

/* metrics_http_reply - send a fixed text with status */
static enum MHD_Result
metrics_http_reply(struct MHD_Connection *conn, unsigned status, const char *text)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text),
	    (void *)text, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result rc;

	if (r == NULL)
		return MHD_NO;
	rc = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return rc;
}

/* metrics_http_handle - libmicrohttpd's request callback: GET /metrics only */
static enum MHD_Result
metrics_http_handle(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct MHD_Response *r;
	struct buf page = BUF_INIT;
	enum MHD_Result rc;
	size_t len;

	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return metrics_http_reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "only GET /metrics\n");
	if (*upload_data_size != 0)
		return MHD_NO;
	if (strcmp(url, "/metrics") != 0)
		return metrics_http_reply(conn, MHD_HTTP_NOT_FOUND, "see /metrics\n");
	metrics_render(&page);
	len = page.len;
	r = MHD_create_response_from_buffer(len, buf_steal(&page), MHD_RESPMEM_MUST_FREE);
	if (r == NULL)
		return MHD_NO;
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain; version=0.0.4; charset=utf-8") != MHD_YES) {
		MHD_destroy_response(r);
		return MHD_NO;
	}
	rc = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return rc;
}

/* metrics_http_start - bind, listen, and start libmicrohttpd's thread */
bool
metrics_http_start(const char *listen_on, char *err, size_t errlen)
{
	struct sockaddr_storage sa;
	socklen_t salen;
	int fd, one = 1;

	if (!sockspec_listen_addr(listen_on, &sa, &salen)) {
		snprintf(err, errlen, "\"%s\" is not ADDR:PORT", listen_on);
		return false;
	}
	fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&sa, salen) != 0 || listen(fd, 16) != 0) {
		snprintf(err, errlen, "%s: %s", listen_on, strerror(errno));
		if (fd != -1)
			close(fd);
		return false;
	}
	metrics_http_daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_POLL, 0, NULL, NULL, metrics_http_handle, NULL,
	    MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)METRICS_HTTP_CONNECTIONS,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)METRICS_HTTP_TIMEOUT,
	    MHD_OPTION_END);
	if (metrics_http_daemon == NULL) {
		snprintf(err, errlen, "%s: libmicrohttpd could not start", listen_on);
		close(fd);
		return false;
	}
	return true;
}

/* metrics_http_stop - stop the server thread (closes the socket) */
void
metrics_http_stop(void)
{
	if (metrics_http_daemon != NULL) {
		MHD_stop_daemon(metrics_http_daemon);
		metrics_http_daemon = NULL;
	}
}
