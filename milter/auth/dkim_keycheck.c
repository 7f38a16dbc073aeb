/* dkim_keycheck - compare the key record published for a selector with the
 * public half of a private key.
 *
 * dkim_keycheck_run          one TXT lookup through dns.c, each record parsed by
 *                            dkim_keyrec.c and compared with the key
 * dkim_keycheck_clear        free what a check holds
 * dkim_keycheck_zone_record  the record to publish, cut into 255-byte strings
 * The findings (struct dkim_keycheck) are the caller's; each program words them
 * its own way (authmilter-keygen --check, authmilter-check).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "buf.h"
#include "dkim_key.h"
#include "dkim_keycheck.h"
#include "dkim_keyrec.h"
#include "dns.h"

/* dkim_keycheck_zone_record - the zone-file record, text cut at 255 bytes */
void
dkim_keycheck_zone_record(const char *selector, const char *domain, enum dkim_alg alg,
    const char *p, struct buf *out)
{
	struct buf txt = BUF_INIT;

	buf_printf(&txt, "v=DKIM1; k=%s; p=%s",
	    alg == DKIM_ALG_ED25519_SHA256 ? "ed25519" : "rsa", p);
	buf_printf(out, "%s._domainkey.%s. IN TXT (", selector, domain);
	for (size_t i = 0; i < txt.len; i += DKIM_KEYCHECK_TXT_STRING) {
		size_t n = txt.len - i < DKIM_KEYCHECK_TXT_STRING ? txt.len - i :
		    DKIM_KEYCHECK_TXT_STRING;

		/* base64, digits and "v=DKIM1; k=" need no escaping in quotes */
		buf_puts(out, " \"");
		buf_append(out, txt.data + i, n);
		buf_putc(out, '"');
	}
	buf_puts(out, " )");
	buf_free(&txt);
}

/* dkim_keycheck_run - look the record up and compare it with key */
enum dkim_keycheck_status
dkim_keycheck_run(struct dns_resolver *r, const char *domain, const char *selector,
    const struct dkim_key *key, struct dkim_keycheck *out)
{
	char err[256];

	memset(out, 0, sizeof(*out));
	buf_printf(&out->name, "%s._domainkey.%s", selector, domain);
	out->expected_p = dkim_key_public_b64(key);
	if (out->expected_p != NULL)
		dkim_keycheck_zone_record(selector, domain, key->alg, out->expected_p,
		    &out->expected);

	struct dns_query *q = dns_query_start(r, buf_cstr(&out->name), DNS_T_TXT);
	const struct dns_answer *a = dns_query_wait(q);

	if (a->status == DNS_TEMPFAIL) {
		out->status = DKIM_KEYCHECK_TEMPFAIL;
		buf_puts(&out->why, a->why != NULL ? a->why : "temporary failure");
		dns_query_free(q);
		return out->status;
	}
	if (a->status != DNS_OK) {
		out->status = DKIM_KEYCHECK_MISSING;
		buf_puts(&out->why, dns_status_name(a->status));
		dns_query_free(q);
		return out->status;
	}
	out->status = DKIM_KEYCHECK_MISMATCH;
	out->n_records = a->count;
	for (size_t i = 0; i < a->count; i++) {
		struct dkim_keyrec rec = { 0 };

		if (!dkim_keyrec_parse(a->rr[i].txt, a->rr[i].txt_len, &rec, err,
		    sizeof(err))) {
			buf_printf(&out->notes, "TXT record %zu: not a key record: %s\n",
			    i + 1, err);
			continue;
		}
		if (rec.revoked)
			buf_printf(&out->notes, "TXT record %zu: key revoked (empty p=)\n",
			    i + 1);
		else if (out->status != DKIM_KEYCHECK_MATCH && rec.alg == key->alg &&
		    rec.pkey != NULL && EVP_PKEY_eq(rec.pkey, key->pkey) == 1) {
			out->status = DKIM_KEYCHECK_MATCH;
			out->testing = rec.testing;
			out->bits = rec.bits;
			out->record_len = a->rr[i].txt_len;
		}
		dkim_keyrec_clear(&rec);
	}
	dns_query_free(q);
	return out->status;
}

/* dkim_keycheck_clear - free what a check holds; it may be run again */
void
dkim_keycheck_clear(struct dkim_keycheck *kc)
{
	if (kc == NULL)
		return;
	buf_free(&kc->name);
	buf_free(&kc->why);
	buf_free(&kc->notes);
	buf_free(&kc->expected);
	free(kc->expected_p);
	memset(kc, 0, sizeof(*kc));
}
