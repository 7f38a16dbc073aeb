/* sockspec - the milter socket as milter.conf writes it: unix:/path (or local:),
 * inet:PORT[@HOST], inet6:PORT[@[ADDR]]. One parser for the config check, the
 * loopback rule, TCP_NODELAY and the stop watcher; and the numeric listen
 * address of the metrics endpoint.
 */
#ifndef AUTHMILTER_SOCKSPEC_H
#define AUTHMILTER_SOCKSPEC_H

#include <stdbool.h>
#include <sys/socket.h>

enum sockspec_kind { SOCKSPEC_UNIX, SOCKSPEC_INET, SOCKSPEC_INET6 };

struct sockspec {
	enum sockspec_kind kind;
	char		*path;	/* SOCKSPEC_UNIX: the absolute path */
	unsigned	 port;	/* inet: 1..65535 */
	char		*host;	/* inet: without brackets; NULL when none (every address) */
};

/* sockspec_parse - false when spec is not one of the forms above (out is then
 * empty); release with sockspec_clear */
bool	 sockspec_parse(const char *spec, struct sockspec *out);
/* sockspec_family - AF_UNIX, AF_INET or AF_INET6 */
int	 sockspec_family(const struct sockspec *s);
void	 sockspec_clear(struct sockspec *s);
/* sockspec_listen_addr - "ADDR:PORT" or "[ADDR6]:PORT", numeric, into sa
 * (metrics.listen) */
bool	 sockspec_listen_addr(const char *listen, struct sockaddr_storage *sa,
	    socklen_t *salen);

#endif
