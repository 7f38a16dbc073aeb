/* report_mail - names and mail of an aggregate report.
 *
 *   report_mail_id, report_mail_filename	the Report-ID and RFC 9990 file name
 *   report_mail_build				the MIME message
 *   report_mail_send				pipe it to sendmail(1)
 *
 * Every header value is checked here once more (domain, address, Report-ID
 * syntax) before it is written, whatever the caller checked: a rua or a
 * policy domain comes from other people's DNS.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "report_mail.h"
#include "xalloc.h"

/* mail_alnum - an ASCII letter or digit */
static bool
mail_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* report_mail_id - the claim's id without what is not a letter or digit */
void
report_mail_id(const char *claim_id, char *out, size_t outlen)
{
	size_t n = 0;

	for (const char *p = claim_id; *p != '\0' && n + 1 < outlen; p++)
		if (mail_alnum(*p))
			out[n++] = *p;
	out[n] = '\0';
}

/* report_mail_filename - the RFC 9990 §3.5 file name */
void
report_mail_filename(struct buf *out, const char *receiver, const char *domain,
    time_t begin, time_t end, const char *id)
{
	buf_reset(out);
	buf_printf(out, "%s!%s!%lld!%lld!%s.xml.gz", receiver, domain, (long long)begin,
	    (long long)end, id);
}

/* report_mail_addr_ok - local@domain with a dot-atom local part, as report_dest makes */
bool
report_mail_addr_ok(const char *a)
{
	const char *at = strrchr(a, '@');

	if (at == NULL || at == a || at - a > 64 || !report_dest_domain_ok(at + 1))
		return false;
	for (const char *p = a; p < at; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || (*p != '\0' &&
		    strchr(".!#$%&'*+-/=?^_`{|}~", *p) != NULL)))
			return false;
	return true;
}

/* mail_id_ok - 1..64 letters and digits, as report_mail_id makes them */
static bool
mail_id_ok(const char *id)
{
	size_t n = 0;

	for (; id[n] != '\0'; n++)
		if (!mail_alnum(id[n]))
			return false;
	return n > 0 && n <= 64;
}

/* mail_base64 - data as base64 in lines of 76 */
static void
mail_base64(struct buf *out, const unsigned char *data, size_t len)
{
	unsigned char line[80];

	for (size_t i = 0; i < len; i += 57) {
		size_t n = len - i < 57 ? len - i : 57;
		int k = EVP_EncodeBlock(line, data + i, (int)n);

		buf_append(out, line, (size_t)k);
		buf_putc(out, '\n');
	}
}

/* report_mail_from_to - the From and To fields, To folded after each address */
void
report_mail_from_to(struct buf *out, const char *from, const struct report_dest *to,
    size_t n_to)
{
	buf_printf(out, "From: %s\n", from);
	buf_puts(out, "To: ");
	for (size_t i = 0; i < n_to; i++)
		buf_printf(out, "%s%s", i > 0 ? ",\n " : "", to[i].addr);
	buf_puts(out, "\n");
}

/* report_mail_build - the whole message */
bool
report_mail_build(struct buf *out, const struct report_mail *m)
{
	struct buf name = BUF_INIT;
	char date[64];
	struct tm tm;

	if (!report_mail_addr_ok(m->from) || !report_dest_domain_ok(m->domain) ||
	    !report_dest_domain_ok(m->submitter) || !mail_id_ok(m->id) || m->n_to == 0)
		return false;
	for (size_t i = 0; i < m->n_to; i++)
		if (!report_mail_addr_ok(m->to[i].addr))
			return false;
	if (gmtime_r(&m->now, &tm) == NULL ||
	    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm) == 0)
		return false;
	report_mail_filename(&name, m->submitter, m->domain, m->begin, m->end, m->id);
	buf_reset(out);
	report_mail_from_to(out, m->from, m->to, m->n_to);
	/* RFC 9990 §3.5: the literals are case-sensitive; folded at FWS */
	buf_printf(out, "Subject: Report Domain: %s\n Submitter: %s\n Report-ID: <%s>\n",
	    m->domain, m->submitter, m->id);
	buf_printf(out, "Date: %s\n", date);
	buf_printf(out, "Message-ID: <%s.%lld@%s>\n", m->id, (long long)m->begin,
	    m->submitter);
	buf_puts(out, "Auto-Submitted: auto-generated\n");
	buf_puts(out, "MIME-Version: 1.0\n");
	buf_printf(out, "Content-Type: multipart/mixed; boundary=\"=_report_%s\"\n\n",
	    m->id);
	buf_printf(out, "--=_report_%s\n", m->id);
	buf_puts(out, "Content-Type: text/plain; charset=us-ascii\n\n");
	buf_printf(out, "DMARC aggregate report (RFC 9990) for %s from %s,\n"
	    "period %lld to %lld (UTC epoch seconds), Report-ID %s.\n\n", m->domain,
	    m->submitter, (long long)m->begin, (long long)m->end, m->id);
	buf_printf(out, "--=_report_%s\n", m->id);
	buf_printf(out, "Content-Type: application/gzip; name=\"%s\"\n", buf_cstr(&name));
	buf_printf(out, "Content-Disposition: attachment; filename=\"%s\"\n",
	    buf_cstr(&name));
	buf_puts(out, "Content-Transfer-Encoding: base64\n\n");
	mail_base64(out, m->gz, m->gz_len);
	buf_printf(out, "--=_report_%s--\n", m->id);
	buf_free(&name);
	return true;
}

/* report_mail_send - fork, exec, feed, wait */
bool
report_mail_send(const char *command, const char *msg, size_t len, char *err,
    size_t errlen)
{
	char *words = xstrdup(command), *argv[REPORT_MAX_ARGV + 1], *save = NULL;
	size_t argc = 0;
	int fd[2], status;
	pid_t pid;
	bool ok = false;

	for (char *w = strtok_r(words, " \t", &save); w != NULL;
	    w = strtok_r(NULL, " \t", &save)) {
		if (argc == REPORT_MAX_ARGV) {
			snprintf(err, errlen, "\"%s\": more than %d words", command,
			    REPORT_MAX_ARGV);
			goto out;
		}
		argv[argc++] = w;
	}
	argv[argc] = NULL;
	if (argc == 0 || argv[0][0] != '/') {
		snprintf(err, errlen, "\"%s\": not an absolute path to a program", command);
		goto out;
	}
	if (pipe(fd) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto out;
	}
	if ((pid = fork()) < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(fd[0]);
		close(fd[1]);
		goto out;
	}
	if (pid == 0) {
		if (dup2(fd[0], STDIN_FILENO) < 0)
			_exit(127);
		close(fd[0]);
		close(fd[1]);
		signal(SIGPIPE, SIG_DFL);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fd[0]);
	/* the caller ignores SIGPIPE: a program that dies early is an EPIPE here */
	for (size_t done = 0; done < len;) {
		ssize_t w = write(fd[1], msg + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			snprintf(err, errlen, "%s: writing the message: %s", argv[0],
			    w < 0 ? strerror(errno) : "nothing written");
			break;
		}
		done += (size_t)w;
		if (done == len)
			ok = true;
	}
	if (len == 0)
		ok = true;
	close(fd[1]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			snprintf(err, errlen, "waitpid: %s", strerror(errno));
			ok = false;
			goto out;
		}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		goto out;
	if (ok) {
		if (WIFEXITED(status))
			snprintf(err, errlen, "%s exited with status %d%s", argv[0],
			    WEXITSTATUS(status), WEXITSTATUS(status) == 127 ?
			    " (could not run it)" : "");
		else
			snprintf(err, errlen, "%s killed by signal %d", argv[0],
			    WTERMSIG(status));
	}
	ok = false;
out:
	free(words);
	return ok;
}
