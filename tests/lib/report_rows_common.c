/* report_rows_common - a report row as the report tests build them: the values
 * every such row shares, which a test then changes where it needs others
 * (tests/lib/report_rows for the report tests and the benchmark,
 * tests/unit/test_report_store).
 *
 *   report_rows_sample	a row from ip for policy domain dom received at t; dom
 *			is also its From, MAIL FROM and SPF domain: p=reject,
 *			relaxed alignment, fo=0, tree walk, SPF pass in mfrom
 *			scope, nd DKIM signatures by dom that pass (selectors
 *			s2026, then e2026), both aligned, disposition pass,
 *			rua mailto:dmarc@rua.example, ruf "", no sp, np or RCPT
 *   report_rows_set	replace one string member of a row
 *
 * The row's members are the caller's, freed by report_row_free.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "report_rows_common.h"
#include "xalloc.h"

/* report_rows_set - replace the string *field with a copy of value (NULL: none) */
void
report_rows_set(char **field, const char *value)
{
	free(*field);
	*field = value != NULL ? xstrdup(value) : NULL;
}

/* report_rows_sample - a row from ip for policy domain dom at t, nd signatures */
void
report_rows_sample(struct report_row *r, const char *dom, const char *ip, time_t t,
    size_t nd)
{
	memset(r, 0, sizeof(*r));
	r->received = t;
	r->source_ip = xstrdup(ip);
	r->header_from = xstrdup(dom);
	r->envelope_from = xstrdup(dom);
	r->policy_domain = xstrdup(dom);
	r->rua = xstrdup("mailto:dmarc@rua.example");
	r->ruf = xstrdup("");
	r->p = xstrdup("reject");
	r->adkim = xstrdup("r");
	r->aspf = xstrdup("r");
	r->fo = xstrdup("0");
	r->testing = xstrdup("n");
	r->discovery = xstrdup("treewalk");
	r->spf_domain = xstrdup(dom);
	r->spf_scope = xstrdup("mfrom");
	r->spf_result = xstrdup("pass");
	r->n_dkim = nd;
	r->dkim = xcalloc(nd ? nd : 1, sizeof(*r->dkim));
	for (size_t k = 0; k < nd; k++) {
		r->dkim[k].domain = xstrdup(dom);
		r->dkim[k].selector = xstrdup(k == 0 ? "s2026" : "e2026");
		r->dkim[k].result = xstrdup("pass");
	}
	r->dkim_aligned = xstrdup("pass");
	r->spf_aligned = xstrdup("pass");
	r->disposition = xstrdup("pass");
	r->reasons = xstrdup("");
}
