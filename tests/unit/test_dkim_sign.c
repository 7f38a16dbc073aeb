/* test_dkim_sign - key loading and DKIM signing.
 *
 * The RFC 8463 Appendix A vector (shipped with python3-dkim) pins both algorithms:
 * Ed25519 and RSA PKCS#1 v1.5 are deterministic, so signing the vector's own
 * canonicalized headers must give its b= byte for byte. dkim_sign_header's own
 * output is checked by verifying it with OpenSSL and with dkimpy, and pinned.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "buf.h"
#include "dkim_canon.h"
#include "dkim_key.h"
#include "dkim_sign.h"
#include "header.h"
#include "tap.h"

/* python3-dkim's test data; CI installs the package */
#define VECTOR_DIR	"/usr/lib/python3/dist-packages/dkim/tests/data/"
#define DKIMPY		"/usr/bin/python3"
#define MAX_FILE	(64 * 1024)

/* read_file - a whole small file, LF turned into CRLF when crlf (caller frees) */
static char *
read_file(const char *path, bool crlf, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	struct buf b = BUF_INIT;
	int c;

	if (fp == NULL) {
		printf("# %s: %s\n", path, strerror(errno));
		return NULL;
	}
	while ((c = getc(fp)) != EOF && b.len < MAX_FILE) {
		if (crlf && c == '\n')
			buf_putc(&b, '\r');
		buf_putc(&b, c);
	}
	fclose(fp);
	*len = b.len;
	return buf_steal(&b);
}

/* parse_message - headers into h (values as after the colon), body offset back */
static size_t
parse_message(const char *m, size_t len, struct header_list *h)
{
	size_t i = 0;

	while (i < len && !(m[i] == '\r' && m[i + 1] == '\n')) {
		const char *colon = memchr(m + i, ':', len - i);
		size_t end = i;

		/* the field ends at a CRLF not followed by WSP */
		for (;;) {
			const char *crlf = strstr(m + end, "\r\n");
			end = (size_t)(crlf - m) + 2;
			if (m[end] != ' ' && m[end] != '\t')
				break;
		}
		char *name = strndup(m + i, (size_t)(colon - (m + i)));
		char *value = strndup(colon + 1, end - 2 - (size_t)(colon + 1 - m));
		header_list_add(h, name, value);
		free(name);
		free(value);
		i = end;
	}
	return i + 2;
}

/* b64 - base64 of bytes, in a static buffer */
static const char *
b64(const void *p, size_t len)
{
	static char out[2048];

	EVP_EncodeBlock((unsigned char *)out, p, (int)len);
	return out;
}

/* body_hash - simple or relaxed body hash of a body */
static void
body_hash(enum dkim_canon c, const char *body, size_t len, unsigned char d[DKIM_HASH_LEN])
{
	struct dkim_body_set *s = dkim_body_set_new();
	struct dkim_body_hash *h = dkim_body_set_add(s, c, -1);

	dkim_body_set_update(s, (const unsigned char *)body, len);
	dkim_body_set_final(s);
	dkim_body_hash_result(h, d, NULL);
	dkim_body_set_free(s);
}

/* tag_value - the value of tag t in a DKIM-Signature, FWS removed (caller frees) */
static char *
tag_value(const char *sig, const char *t)
{
	struct buf v = BUF_INIT;
	size_t tl = strlen(t);
	const char *p = sig;

	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' || *p == ';')
			p++;
		const char *eq = strchr(p, '=');
		if (eq == NULL)
			break;
		const char *end = strchr(eq, ';');
		if (end == NULL)
			end = eq + strlen(eq);
		const char *ne = eq;
		while (ne > p && (ne[-1] == ' ' || ne[-1] == '\t' || ne[-1] == '\n' ||
		    ne[-1] == '\r'))
			ne--;
		if ((size_t)(ne - p) == tl && strncmp(p, t, tl) == 0) {
			for (const char *q = eq + 1; q < end; q++)
				if (*q != ' ' && *q != '\t' && *q != '\r' && *q != '\n')
					buf_putc(&v, *q);
			return buf_steal(&v);
		}
		p = end;
	}
	buf_free(&v);
	return NULL;
}

/* strip_b - the signature value with b='s value cut (b= is last in all we test) */
static char *
strip_b(const char *sig)
{
	const char *b = strstr(sig, "\tb=");

	if (b == NULL)
		b = strstr(sig, " b=");
	if (b == NULL)
		return NULL;
	return strndup(sig, (size_t)(b + 3 - sig));
}

/* canon_vector - the data the RFC 8463 signature number which covers: the fields
 * of its h= bottom-up, then itself with b= empty */
static void
canon_vector(const struct header_list *h, size_t which, struct buf *out)
{
	static const char *hnames[] = { "from", "to", "subject", "date", "message-id",
	    "from", "subject", "date" };

	for (size_t i = 0; i < 8; i++) {
		size_t count = header_list_count(h, hnames[i]), used = 0;

		for (size_t j = 0; j < i; j++)
			if (strcmp(hnames[j], hnames[i]) == 0)
				used++;
		if (used >= count)
			continue;
		long at = header_list_find(h, hnames[i], count - 1 - used);
		dkim_canon_header(DKIM_CANON_SIMPLE, h->v[at].name, h->v[at].value,
		    h->v[at].value_len, 1, out);
	}
	char *cut = strip_b(h->v[which].value);
	dkim_canon_header(DKIM_CANON_SIMPLE, h->v[which].name, cut, strlen(cut), 0, out);
	free(cut);
}

/* ed25519_from_seed - the RFC 8032 7.1 key, stored as a base64 seed */
static struct dkim_key *
ed25519_from_seed(const char *path)
{
	size_t len;
	char *text = read_file(path, false, &len);
	unsigned char seed[48];

	if (text == NULL)
		return NULL;
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	int n = EVP_DecodeBlock(seed, (unsigned char *)text, (int)len);
	free(text);
	if (n < 32)
		return NULL;

	char err[256];
	EVP_PKEY *pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);

	return pkey != NULL ? dkim_key_new(pkey, path, err, sizeof(err)) : NULL;
}

/* verify_openssl - check a dkim_sign_header value ourselves: canonicalize the
 * headers named in h= and the value with b= emptied, and verify b= */
static bool
verify_openssl(const struct dkim_key *k, const struct header_list *h, enum dkim_canon hc,
    const char *sigval)
{
	char *hv = tag_value(sigval, "h"), *bv = tag_value(sigval, "b");
	struct buf data = BUF_INIT;
	char *names[64];
	size_t n = 0;
	bool ok = false;

	if (hv == NULL || bv == NULL)
		goto out;
	for (char *save = NULL, *t = strtok_r(hv, ":", &save); t && n < 64;
	    t = strtok_r(NULL, ":", &save))
		names[n++] = t;
	for (size_t i = 0; i < n; i++) {
		size_t count = header_list_count(h, names[i]), u = 0;

		for (size_t j = 0; j < i; j++)
			if (strcasecmp(names[j], names[i]) == 0)
				u++;
		if (u >= count)
			continue;
		long at = header_list_find(h, names[i], count - 1 - u);
		dkim_canon_header(hc, h->v[at].name, h->v[at].value, h->v[at].value_len, 1,
		    &data);
	}
	char *cut = strip_b(sigval);
	dkim_canon_header(hc, "DKIM-Signature", cut, strlen(cut), 0, &data);
	free(cut);

	unsigned char sig[1024], md[DKIM_HASH_LEN];
	int slen = EVP_DecodeBlock(sig, (unsigned char *)bv, (int)strlen(bv));
	size_t bl = strlen(bv);
	while (bl > 0 && bv[bl - 1] == '=') {	/* DecodeBlock counts padding */
		slen--;
		bl--;
	}
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (k->alg == DKIM_ALG_ED25519_SHA256) {
		EVP_Digest(data.data, data.len, md, NULL, EVP_sha256(), NULL);
		ok = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
		    EVP_DigestVerify(ctx, sig, (size_t)slen, md, sizeof(md)) == 1;
	} else {
		ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, k->pkey) == 1 &&
		    EVP_DigestVerify(ctx, sig, (size_t)slen, (unsigned char *)data.data,
		    data.len) == 1;
	}
	EVP_MD_CTX_free(ctx);
out:
	free(hv);
	free(bv);
	buf_free(&data);
	return ok;
}

/* verify_dkimpy - dkimpy's verdict on "DKIM-Signature:" sigval + message, with
 * the key record handed to it directly (this tests the signature, not DNS) */
static bool
verify_dkimpy(const char *sigval, const char *msg, size_t msglen, const char *record)
{
	char path[] = "/tmp/test_dkim_sign.XXXXXX";
	int fd = mkstemp(path);
	struct buf cmd = BUF_INIT;
	char line[64] = "";

	if (fd == -1)
		return false;
	FILE *fp = fdopen(fd, "wb");
	fprintf(fp, "DKIM-Signature:%s\r\n", sigval);
	fwrite(msg, 1, msglen, fp);
	fclose(fp);
	buf_printf(&cmd, DKIMPY " -c 'import sys, dkim; m = open(sys.argv[1], \"rb\").read(); "
	    "r = sys.argv[2].encode(); "
	    "print(\"PASS\" if dkim.verify(m, dnsfunc=lambda n, timeout=5: r) else \"FAIL\")' "
	    "%s '%s' 2>&1", path, record);
	FILE *p = popen(cmd.data, "r");
	if (p != NULL) {
		if (fgets(line, sizeof(line), p) == NULL)
			line[0] = '\0';
		pclose(p);
	}
	unlink(path);
	buf_free(&cmd);
	if (strncmp(line, "PASS", 4) != 0)
		printf("# dkimpy: %s", line);
	return strncmp(line, "PASS", 4) == 0;
}

/* lines_fit - every line of "DKIM-Signature:" value within 78 bytes (TAB as 8) */
static bool
lines_fit(const char *value)
{
	size_t col = strlen("DKIM-Signature:");

	for (const char *p = value; *p != '\0'; p++) {
		if (*p == '\r' && p[1] == '\n') {
			p++;
			col = 0;
		} else {
			col += *p == '\t' ? 8 : 1;
		}
		if (col > 78)
			return false;
	}
	return true;
}

/* write_key - a PEM file of a fresh key; traditional selects PKCS#1 for RSA */
static bool
write_key(const char *path, EVP_PKEY *pk, bool traditional, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd == -1)
		return false;
	BIO *bio = BIO_new_fd(fd, BIO_CLOSE);
	int ok = traditional ? PEM_write_bio_PrivateKey_traditional(bio, pk, NULL, NULL,
	    0, NULL, NULL) : PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL);
	BIO_free(bio);
	return ok == 1 && chmod(path, mode) == 0;
}

static void
test_key_load(const char *dir)
{
	char path[512];
	char err[512];
	struct dkim_key *k;
	EVP_PKEY *rsa2048 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	EVP_PKEY *rsa512 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)512);
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

	static const struct {
		const char	*file;
		int		 which;		/* 0 rsa2048 1 rsa512 2 ed 3 ec 4 text */
		bool		 pkcs1;
		mode_t		 mode;
		bool		 safe;
		const char	*err;		/* NULL: loads */
		enum dkim_alg	 alg;
		int		 bits;
	} cases[] = {
		{ "rsa-pkcs1.key", 0, true, 0600, true, NULL, DKIM_ALG_RSA_SHA256, 2048 },
		{ "rsa-pkcs8.key", 0, false, 0400, true, NULL, DKIM_ALG_RSA_SHA256, 2048 },
		{ "ed.key", 2, false, 0600, true, NULL, DKIM_ALG_ED25519_SHA256, 256 },
		{ "open.key", 0, false, 0644, false, NULL, DKIM_ALG_RSA_SHA256, 2048 },
		{ "open.key", 0, false, 0644, true,
		    "open.key: mode 0644: readable by group or others; chmod 600", 0, 0 },
		{ "grp.key", 2, false, 0640, true,
		    "grp.key: mode 0640: readable by group or others; chmod 600", 0, 0 },
		{ "oth.key", 2, false, 0601, true,
		    "oth.key: mode 0601: readable by group or others; chmod 600", 0, 0 },
		{ "short.key", 1, true, 0600, true,
		    "short.key: RSA key of 512 bits; at least 1024 required (RFC 8301)", 0, 0 },
		{ "ec.key", 3, false, 0600, true,
		    "ec.key: EC key; only RSA and Ed25519 keys can sign DKIM", 0, 0 },
		{ "text.key", 4, false, 0600, true,
		    "text.key: no usable PEM private key (want unencrypted PKCS#1 or PKCS#8)",
		    0, 0 },
		{ "missing.key", -1, false, 0600, true,
		    "missing.key: No such file or directory", 0, 0 },
	};
	EVP_PKEY *pk[] = { rsa2048, rsa512, ed, ec };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, cases[i].file);
		if (cases[i].which >= 0 && cases[i].which < 4) {
			if (!write_key(path, pk[cases[i].which], cases[i].pkcs1, cases[i].mode))
				printf("# could not write %s\n", path);
		} else if (cases[i].which == 4) {
			FILE *fp = fopen(path, "w");
			fputs("-----BEGIN NOTHING-----\nAAAA\n-----END NOTHING-----\n", fp);
			fclose(fp);
			chmod(path, cases[i].mode);
		}
		err[0] = '\0';
		k = dkim_key_load(path, cases[i].safe, err, sizeof(err));
		if (cases[i].err == NULL) {
			CHECK(k != NULL && k->alg == cases[i].alg && k->bits == cases[i].bits,
			    "key %s loads (%s)", cases[i].file, err);
		} else {
			/* the message starts with the path: compare what follows dir/ */
			const char *e = strncmp(err, dir, strlen(dir)) == 0 ?
			    err + strlen(dir) + 1 : err;
			CHECK(k == NULL, "key %s refused", cases[i].file);
			CHECK(strncmp(e, cases[i].err, strlen(cases[i].err)) == 0,
			    "key %s: error \"%s\"", cases[i].file, e);
		}
		dkim_key_free(k);
	}

	/* An encrypted key is refused, without a password prompt. */
	snprintf(path, sizeof(path), "%s/enc.key", dir);
	{
		FILE *fp = fopen(path, "w");
		PEM_write_PrivateKey(fp, rsa2048, EVP_aes_128_cbc(), NULL, 0, NULL,
		    (void *)"secret");
		fclose(fp);
		chmod(path, 0600);
		k = dkim_key_load(path, true, err, sizeof(err));
		CHECK(k == NULL && strstr(err, "no usable PEM private key") != NULL,
		    "encrypted key refused: %s", err);
		dkim_key_free(k);
	}

	/* p= of a loaded Ed25519 key is its raw public key. */
	snprintf(path, sizeof(path), "%s/ed.key", dir);
	k = dkim_key_load(path, true, err, sizeof(err));
	if (k != NULL) {
		unsigned char raw[32];
		size_t rl = sizeof(raw);
		char *p = dkim_key_public_b64(k);

		EVP_PKEY_get_raw_public_key(ed, raw, &rl);
		CHECK_STR(p, b64(raw, rl), "Ed25519 p= is the raw 32-byte key");
		free(p);
	}
	dkim_key_free(k);
	CHECK_STR(dkim_alg_name(DKIM_ALG_RSA_SHA256), "rsa-sha256", "alg name rsa");
	CHECK_STR(dkim_alg_name(DKIM_ALG_ED25519_SHA256), "ed25519-sha256", "alg name ed25519");
	EVP_PKEY_free(rsa2048);
	EVP_PKEY_free(rsa512);
	EVP_PKEY_free(ed);
	EVP_PKEY_free(ec);
}

int
main(void)
{
	char err[512];
	size_t mlen;
	char *msg = read_file(VECTOR_DIR "rfc6376.signed.msg", true, &mlen);
	struct dkim_key *ed = ed25519_from_seed(VECTOR_DIR "rfc8032_7_1.key");
	struct dkim_key *rsa = dkim_key_load(VECTOR_DIR "test.private", false, err,
	    sizeof(err));
	struct header_list h = { 0 };

	CHECK(msg != NULL, "RFC 8463 vector readable");
	CHECK(ed != NULL && ed->pkey != NULL, "RFC 8032 7.1 key");
	CHECK(rsa != NULL && rsa->bits == 1024, "test.private loads (%s)", rsa ? "" : err);
	if (msg == NULL || ed == NULL || ed->pkey == NULL || rsa == NULL)
		return tap_done();

	size_t body = parse_message(msg, mlen, &h);
	CHECK(h.n == 7 && strcasecmp(h.v[0].name, "DKIM-Signature") == 0,
	    "vector: 7 header fields");

	/* body hash */
	unsigned char bh[DKIM_HASH_LEN];
	body_hash(DKIM_CANON_SIMPLE, msg + body, mlen - body, bh);
	CHECK_STR(b64(bh, sizeof(bh)), "4bLNXImK9drULnmePzZNEBleUanJCX5PIsDIFoH4KTQ=",
	    "vector: simple body hash is bh=");

	/* public keys: RFC 8463 Appendix A.2 and test.txt */
	char *p = dkim_key_public_b64(ed);
	CHECK_STR(p, "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
	    "RFC 8463 A.2: Ed25519 p=");
	free(p);
	size_t tl;
	char *txt = read_file(VECTOR_DIR "test.txt", false, &tl);
	p = dkim_key_public_b64(rsa);
	CHECK(txt != NULL && p != NULL && strstr(txt, p) != NULL, "test.txt: RSA p= (DER SPKI)");
	free(p);

	/* both signatures of the vector, byte for byte */
	for (size_t which = 0; which < 2; which++) {
		struct buf data = BUF_INIT, sig = BUF_INIT;
		const struct dkim_key *k = which == 0 ? ed : rsa;
		char *want = tag_value(h.v[which].value, "b");

		canon_vector(&h, which, &data);
		CHECK(dkim_sign_data(k, data.data, data.len, &sig, err, sizeof(err)),
		    "vector %s: signs", dkim_alg_name(k->alg));
		CHECK_STR(b64(sig.data, sig.len), want, "vector %s: b= reproduced exactly",
		    dkim_alg_name(k->alg));
		free(want);
		buf_free(&data);
		buf_free(&sig);
	}

	/* dkim_sign_header on the vector message, without its signatures */
	struct header_list plain = { 0 };
	for (size_t i = 2; i < h.n; i++)
		header_list_add(&plain, h.v[i].name, h.v[i].value);
	static char *const hlist[] = { "from", "to", "subject", "date", "message-id" };
	static char *const over[] = { "from", "subject", "date" };
	const char *edrec = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
	const char *rsarec = txt;
	const char *unsigned_msg = strstr(msg, "\r\nFrom:") + 2;	/* no signatures */

	for (int ki = 0; ki < 2; ki++) {
		for (int c = 0; c < 4; c++) {
			enum dkim_canon hc = c & 1 ? DKIM_CANON_RELAXED : DKIM_CANON_SIMPLE;
			enum dkim_canon bc = c & 2 ? DKIM_CANON_RELAXED : DKIM_CANON_SIMPLE;
			const struct dkim_key *k = ki == 0 ? ed : rsa;
			struct dkim_sign_params sp = {
				.key = k, .domain = "football.example.com",
				.selector = ki == 0 ? "brisbane" : "test",
				.header_canon = hc, .body_canon = bc,
				.headers = hlist, .n_headers = 5,
				.oversign = over, .n_oversign = 3,
				.now = 1518460054, .expire = c == 3 ? 2000000000u : 0,
			};
			struct buf out = BUF_INIT;
			const char *cn = hc == DKIM_CANON_RELAXED ?
			    (bc == DKIM_CANON_RELAXED ? "relaxed/relaxed" : "relaxed/simple") :
			    (bc == DKIM_CANON_RELAXED ? "simple/relaxed" : "simple/simple");

			body_hash(bc, msg + body, mlen - body, bh);
			bool ok = dkim_sign_header(&sp, &plain, bh, &out, err, sizeof(err));
			CHECK(ok, "sign %s %s (%s)", dkim_alg_name(k->alg), cn, ok ? "" : err);
			if (!ok)
				continue;
			char *hv = tag_value(out.data, "h"), *cv = tag_value(out.data, "c");
			char *xv = tag_value(out.data, "x");
			CHECK_STR(hv, "From:From:to:subject:subject:date:date:message-id",
			    "sign %s %s: h= bottom-up with oversigning", dkim_alg_name(k->alg), cn);
			CHECK_STR(cv, cn, "sign %s %s: c=", dkim_alg_name(k->alg), cn);
			CHECK_STR(xv, c == 3 ? "3518460054" : NULL, "sign %s %s: x=",
			    dkim_alg_name(k->alg), cn);
			CHECK(out.data[0] == ' ' && lines_fit(out.data),
			    "sign %s %s: leading SP, lines within 78", dkim_alg_name(k->alg), cn);
			CHECK(verify_openssl(k, &plain, hc, out.data),
			    "sign %s %s: verifies with OpenSSL", dkim_alg_name(k->alg), cn);
			CHECK(verify_dkimpy(out.data, unsigned_msg,
			    mlen - (size_t)(unsigned_msg - msg), ki == 0 ? edrec : rsarec),
			    "sign %s %s: verifies with dkimpy", dkim_alg_name(k->alg), cn);
			if (ki == 0 && c == 1) {
				/* Ed25519 is deterministic: pin the whole relaxed/simple
				 * output (checked by dkimpy above) so folding stays put */
				CHECK_STR(out.data,
				    " v=1; a=ed25519-sha256; c=relaxed/simple;\r\n"
				    "\td=football.example.com; s=brisbane; t=1518460054;\r\n"
				    "\th=From:From:to:subject:subject:date:date:message-id;\r\n"
				    "\tbh=4bLNXImK9drULnmePzZNEBleUanJCX5PIsDIFoH4KTQ=;\r\n"
				    "\tb=QComjb55VhT3/58C15Qyx/uYtQ5zPaLSOxq/OKS9W2ONeoXdCeGKlsxwmYyQbojRwKU4\r\n"
				    "\t1J6vxVlFAv9VU20vAg==",
				    "sign ed25519 relaxed/simple: exact output");
			}
			free(hv);
			free(cv);
			free(xv);
			buf_free(&out);
		}
	}

	/* Default set: present names only, From always, each occurrence listed. */
	{
		struct header_list d = { 0 };
		struct buf out = BUF_INIT;
		struct dkim_sign_params sp = {
			.key = ed, .domain = "example.com", .selector = "s1",
			.header_canon = DKIM_CANON_RELAXED, .body_canon = DKIM_CANON_RELAXED,
			.now = 1,
		};

		header_list_add(&d, "Received", " from x");
		header_list_add(&d, "To", " a@example.net");
		header_list_add(&d, "Subject", " hi");
		header_list_add(&d, "X-Custom", " 1");
		header_list_add(&d, "TO", " b@example.net");
		header_list_add(&d, "Message-Id", " <1@example.com>");
		memset(bh, 0, sizeof(bh));
		CHECK(dkim_sign_header(&sp, &d, bh, &out, err, sizeof(err)), "default set signs");
		char *hv = tag_value(out.data, "h");
		CHECK_STR(hv, "From:Subject:To:To:Message-ID",
		    "default set: present names, From always, every occurrence");
		CHECK(verify_openssl(ed, &d, DKIM_CANON_RELAXED, out.data),
		    "default set: verifies with OpenSSL");
		free(hv);
		buf_free(&out);

		/* RFC 8058 one-click unsubscribe: List-Unsubscribe-Post in the default set */
		header_list_add(&d, "List-Unsubscribe", " <https://example.com/u>");
		header_list_add(&d, "List-Unsubscribe-Post", " List-Unsubscribe=One-Click");
		CHECK(dkim_sign_header(&sp, &d, bh, &out, err, sizeof(err)),
		    "default set with List-Unsubscribe signs");
		hv = tag_value(out.data, "h");
		CHECK_STR(hv, "From:Subject:To:To:List-Unsubscribe:List-Unsubscribe-Post:"
		    "Message-ID", "default set: List-Unsubscribe-Post signed (RFC 8058)");
		free(hv);
		buf_free(&out);
		header_list_remove(&d, d.n - 1);
		header_list_remove(&d, d.n - 1);

		/* oversign of an absent name lists it once; of a present one, once more */
		static char *const ov[] = { "Reply-To", "Subject", "reply-to" };
		sp.oversign = ov;
		sp.n_oversign = 3;
		CHECK(dkim_sign_header(&sp, &d, bh, &out, err, sizeof(err)), "oversign signs");
		hv = tag_value(out.data, "h");
		CHECK_STR(hv, "From:Subject:Subject:To:To:Message-ID:Reply-To",
		    "oversign: absent once, present once more, duplicates ignored");
		free(hv);
		buf_free(&out);

		/* many names: h= folds at colons and stays within the line length */
		static char *const many[] = { "From", "Reply-To", "Subject", "Date", "To",
		    "Cc", "Resent-Date", "Resent-From", "Resent-Sender", "Resent-To",
		    "Resent-Cc", "In-Reply-To", "References", "List-Id", "List-Help",
		    "List-Unsubscribe", "List-Subscribe", "List-Post" };
		sp.oversign = many;
		sp.n_oversign = 18;
		sp.key = rsa;
		CHECK(dkim_sign_header(&sp, &d, bh, &out, err, sizeof(err)) &&
		    lines_fit(out.data), "long h= folded within 78 columns");
		CHECK(verify_openssl(rsa, &d, DKIM_CANON_RELAXED, out.data),
		    "long h=: verifies with OpenSSL");
		buf_free(&out);

		/* refusals */
		static const struct {
			const char	*domain, *selector;
			char *const	 name;
			const char	*err;
		} bad[] = {
			{ "exa;mple.com", "s", NULL,
			    "d=exa;mple.com s=s: not a plain domain and selector" },
			{ "example.com", "s\r\nX: y", NULL,
			    "d=example.com s=s\r\nX: y: not a plain domain and selector" },
			{ "example.com", "", NULL, "d=example.com s=: not a plain domain and selector" },
			{ "example.com", "s", "Sub ject", "\"Sub ject\": not a header field name" },
			{ "example.com", "s", "X:y", "\"X:y\": not a header field name" },
		};
		sp.oversign = NULL;
		sp.n_oversign = 0;
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			char *const one[] = { bad[i].name };

			sp.domain = bad[i].domain;
			sp.selector = bad[i].selector;
			sp.headers = bad[i].name ? one : NULL;
			sp.n_headers = bad[i].name ? 1 : 0;
			err[0] = '\0';
			CHECK(!dkim_sign_header(&sp, &d, bh, &out, err, sizeof(err)) &&
			    out.len == 0, "refused: bad case %zu", i);
			CHECK_STR(err, bad[i].err, "refused: bad case %zu message", i);
		}
		header_list_reset(&d);
	}

	char dir[] = "/tmp/test_dkim_key.XXXXXX";
	if (mkdtemp(dir) != NULL) {
		test_key_load(dir);
		char cmd[600];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	}

	header_list_reset(&h);
	header_list_reset(&plain);
	EVP_PKEY_free(ed->pkey);
	free(ed);
	dkim_key_free(rsa);
	free(txt);
	free(msg);
	return tap_done();
}
