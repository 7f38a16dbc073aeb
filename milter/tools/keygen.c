/* keygen - authmilter-keygen: make a DKIM signing key and its DNS record, or
 * check that the record published in DNS matches a key.
 *
 *   authmilter-keygen -a rsa|ed25519 [-b BITS] -d DOMAIN -s SELECTOR [-o DIR]
 *   authmilter-keygen --check -d DOMAIN -s SELECTOR -k KEYFILE
 *       [-c milter.conf | -n ADDR[@PORT]]
 *   authmilter-keygen --rotate -c milter.conf [--now EPOCH] [--zone FILE] [--dry-run]
 *
 * Generation writes DIR/SELECTOR.DOMAIN.key (PEM PKCS#8, mode 0600, never over an
 * existing file) and prints the zone-file TXT record on stdout. The check looks
 * the record up through dns.c, parses it with dkim_keyrec.c and compares its key
 * with the private key's. Exit: 0 done/match, 1 failure/mismatch/missing, 2 usage.
 * --rotate is keygen_rotate.c (exit 0 nothing to do, 1 DNS to change, 2 error).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "buf.h"
#include "conf.h"
#include "dkim_key.h"
#include "dkim_sign.h"
#include "dkim_keycheck.h"
#include "dns.h"
#include "keygen.h"
#include "xalloc.h"

#define KEYGEN_EXIT_OK		0
#define KEYGEN_EXIT_FAIL	1	/* could not, mismatch, missing record */
#define KEYGEN_EXIT_USAGE	2
#define KEYGEN_RSA_DEFAULT	2048
#define KEYGEN_RSA_MAX		8192	/* the signer's buffer holds RSA-8192 */
#define KEYGEN_DNS_TIMEOUT_MS	5000

const char *keygen_prog = "authmilter-keygen";

/* keygen_usage - the synopsis, to stdout for -h and to stderr for mistakes */
static void
keygen_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: %s -a rsa|ed25519 [-b BITS] -d DOMAIN -s SELECTOR [-o DIR]\n"
	    "       %s --check -d DOMAIN -s SELECTOR -k KEYFILE "
	    "[-c CONFIG | -n ADDR[@PORT]]\n"
	    "       %s --rotate -c CONFIG [--now EPOCH] [--zone FILE] [--dry-run]\n"
	    "  -a, --algorithm    key type: rsa or ed25519\n"
	    "  -b, --bits         RSA modulus size, %d to %d (default %d)\n"
	    "  -d, --domain       the signing domain (d=)\n"
	    "  -s, --selector     the selector (s=)\n"
	    "  -o, --output-dir   where SELECTOR.DOMAIN.key is written (default .)\n"
	    "      --check        compare the DNS record with KEYFILE\n"
	    "  -k, --key          the private key file to check\n"
	    "  -c, --config       take the nameservers from this milter.conf\n"
	    "  -n, --nameserver   ask this resolver (repeatable)\n"
	    "      --rotate       move dkim.keys_directory's keys along (-c CONFIG)\n"
	    "      --now EPOCH    decide as if it were that time (with --rotate)\n"
	    "      --zone FILE    write the records DNS must hold (with --rotate)\n"
	    "      --dry-run      say what --rotate would do, change nothing\n"
	    "  -h, --help         this text\n",
	    keygen_prog, keygen_prog, keygen_prog, DKIM_RSA_MIN_BITS, KEYGEN_RSA_MAX,
	    KEYGEN_RSA_DEFAULT);
}

/* keygen_ossl - print the latest OpenSSL error after what failed */
void
keygen_ossl(const char *what)
{
	unsigned long e = ERR_get_error();
	const char *why = e != 0 ? ERR_reason_error_string(e) : NULL;

	fprintf(stderr, "%s: %s failed%s%s\n", keygen_prog, what, why ? ": " : "",
	    why ? why : "");
}

/* keygen_new_pkey - a new Ed25519 key, or an RSA key of bits; NULL after
 * printing why */
EVP_PKEY *
keygen_new_pkey(enum dkim_alg alg, long bits)
{
	EVP_PKEY *pkey;

	if (alg == DKIM_ALG_ED25519_SHA256)
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	else
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	if (pkey == NULL)
		keygen_ossl("key generation");
	return pkey;
}

/* keygen_write_pem - pkey into a new file path (PEM PKCS#8, mode 0600, synced
 * to disk); false after printing why, with no file left */
bool
keygen_write_pem(const char *path, EVP_PKEY *pkey)
{
	/* O_EXCL: an existing key may be the one in DNS; never replace it */
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    S_IRUSR | S_IWUSR);

	if (fd == -1) {
		fprintf(stderr, "%s: %s: %s%s\n", keygen_prog, path, strerror(errno),
		    errno == EEXIST ? " (refusing to overwrite a key)" : "");
		return false;
	}
	if (fchmod(fd, S_IRUSR | S_IWUSR) == -1) {
		fprintf(stderr, "%s: %s: chmod: %s\n", keygen_prog, path, strerror(errno));
		close(fd);
		unlink(path);
		return false;
	}
	BIO *bio = BIO_new_fd(fd, BIO_NOCLOSE);
	if (bio == NULL || PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL,
	    NULL) != 1 || BIO_flush(bio) != 1) {
		keygen_ossl("writing the key");
		BIO_free(bio);
		close(fd);
		unlink(path);
		return false;
	}
	BIO_free(bio);
	if (fsync(fd) == -1 || close(fd) == -1) {
		fprintf(stderr, "%s: %s: %s\n", keygen_prog, path, strerror(errno));
		unlink(path);
		return false;
	}
	return true;
}

/* keygen_generate - make the key, write it, print its record */
static int
keygen_generate(const char *alg, long bits, const char *domain, const char *selector,
    const char *dir)
{
	struct dkim_key k = { 0 };
	struct buf path = BUF_INIT;
	int rc = KEYGEN_EXIT_FAIL;

	k.alg = strcmp(alg, "ed25519") == 0 ? DKIM_ALG_ED25519_SHA256 : DKIM_ALG_RSA_SHA256;
	if ((k.pkey = keygen_new_pkey(k.alg, bits)) == NULL)
		return KEYGEN_EXIT_FAIL;
	buf_printf(&path, "%s/%s.%s.key", dir, selector, domain);
	if (!keygen_write_pem(path.data, k.pkey))
		goto out;

	char *p = dkim_key_public_b64(&k);
	if (p == NULL) {
		keygen_ossl("encoding the public key");
		goto out;
	}
	struct buf rec = BUF_INIT;

	dkim_keycheck_zone_record(selector, domain, k.alg, p, &rec);
	printf("%s\n", buf_cstr(&rec));
	buf_free(&rec);
	free(p);
	if (fflush(stdout) != 0) {
		fprintf(stderr, "%s: stdout: %s\n", keygen_prog, strerror(errno));
		goto out;
	}
	fprintf(stderr, "%s: wrote %s (%s, %d bits); publish the record above\n",
	    keygen_prog, path.data, dkim_alg_name(k.alg), EVP_PKEY_get_bits(k.pkey));
	rc = KEYGEN_EXIT_OK;
out:
	EVP_PKEY_free(k.pkey);
	buf_free(&path);
	return rc;
}

/* keygen_check - does the published record carry this key's public half? */
static int
keygen_check(const char *domain, const char *selector, const char *keyfile,
    const char *config, char **ns, size_t n_ns)
{
	char err[512];
	struct conf *conf = NULL;
	struct dns_options opts = { 0 };
	int rc = KEYGEN_EXIT_FAIL;

	struct dkim_key *key = dkim_key_load(keyfile, false, err, sizeof(err));
	if (key == NULL) {
		fprintf(stderr, "%s: %s\n", keygen_prog, err);
		return KEYGEN_EXIT_FAIL;
	}
	opts.timeout_ms = KEYGEN_DNS_TIMEOUT_MS;
	if (config != NULL) {
		if ((conf = conf_load(config, stderr)) == NULL) {
			dkim_key_free(key);
			return KEYGEN_EXIT_FAIL;
		}
		opts.nameservers = conf->dns.nameservers;
		opts.n_nameservers = conf->dns.n_nameservers;
		opts.timeout_ms = conf->dns.timeout * 1000;
		opts.trust_anchor = conf->dns.trust_anchor;
	} else {
		opts.nameservers = ns;
		opts.n_nameservers = n_ns;
	}

	struct dns_resolver *r = dns_resolver_new(&opts, err, sizeof(err));
	if (r == NULL) {
		fprintf(stderr, "%s: resolver: %s\n", keygen_prog, err);
		goto out;
	}
	struct dkim_keycheck kc;
	enum dkim_keycheck_status st = dkim_keycheck_run(r, domain, selector, key, &kc);
	const char *n = buf_cstr(&kc.name);

	switch (st) {
	case DKIM_KEYCHECK_TEMPFAIL:
		printf("error: %s TXT: lookup failed (%s)\n", n, buf_cstr(&kc.why));
		break;
	case DKIM_KEYCHECK_MISSING:
		printf("missing: %s has no TXT record (%s)\n", n, buf_cstr(&kc.why));
		break;
	case DKIM_KEYCHECK_MATCH:
	case DKIM_KEYCHECK_MISMATCH:
		for (const char *l = buf_cstr(&kc.notes); *l != '\0';) {
			size_t len = strcspn(l, "\n");

			printf("# %s %.*s\n", n, (int)len, l);
			l += len + (l[len] == '\n');
		}
		if (kc.status == DKIM_KEYCHECK_MATCH) {
			printf("match: %s publishes the public key of %s\n", n, keyfile);
			rc = KEYGEN_EXIT_OK;
		} else {
			printf("mismatch: %s does not publish the public key of %s\n",
			    n, keyfile);
			if (kc.expected_p != NULL)
				printf("# expected p=%s\n", kc.expected_p);
		}
		if (kc.n_records > 1)
			printf("# warning: %zu TXT records at %s; verifiers may pick any "
			    "(RFC 6376 §3.6.2.2)\n", kc.n_records, n);
		break;
	}
	dkim_keycheck_clear(&kc);
	dns_resolver_free(r);
out:
	conf_free(conf);
	dkim_key_free(key);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "algorithm", required_argument, NULL, 'a' },
		{ "bits", required_argument, NULL, 'b' },
		{ "domain", required_argument, NULL, 'd' },
		{ "selector", required_argument, NULL, 's' },
		{ "output-dir", required_argument, NULL, 'o' },
		{ "check", no_argument, NULL, 'C' },
		{ "key", required_argument, NULL, 'k' },
		{ "config", required_argument, NULL, 'c' },
		{ "nameserver", required_argument, NULL, 'n' },
		{ "rotate", no_argument, NULL, 'R' },
		{ "now", required_argument, NULL, 'N' },
		{ "zone", required_argument, NULL, 'Z' },
		{ "dry-run", no_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *alg = NULL, *domain = NULL, *selector = NULL, *dir = ".";
	const char *keyfile = NULL, *config = NULL, *bits_arg = NULL;
	char **ns = NULL;
	size_t n_ns = 0;
	const char *now_arg = NULL, *zone = NULL;
	bool check = false, rotate = false, dry_run = false;
	long bits = KEYGEN_RSA_DEFAULT;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "a:b:d:s:o:k:c:n:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a': alg = optarg; break;
		case 'b': bits_arg = optarg; break;
		case 'd': domain = optarg; break;
		case 's': selector = optarg; break;
		case 'o': dir = optarg; break;
		case 'C': check = true; break;
		case 'R': rotate = true; break;
		case 'N': now_arg = optarg; break;
		case 'Z': zone = optarg; break;
		case 'D': dry_run = true; break;
		case 'k': keyfile = optarg; break;
		case 'c': config = optarg; break;
		case 'n':
			ns = xreallocarray(ns, n_ns + 1, sizeof(*ns));
			ns[n_ns++] = optarg;
			break;
		case 'h':
			keygen_usage(stdout);
			free(ns);
			return KEYGEN_EXIT_OK;
		default:
			keygen_usage(stderr);
			free(ns);
			return KEYGEN_EXIT_USAGE;
		}
	}

#define KEYGEN_BAD(...) do {						\
	fprintf(stderr, "%s: ", keygen_prog);				\
	fprintf(stderr, __VA_ARGS__);					\
	fprintf(stderr, "\n");						\
	free(ns);							\
	return KEYGEN_EXIT_USAGE;					\
} while (0)

	if (optind != argc)
		KEYGEN_BAD("unexpected argument \"%s\"", argv[optind]);
	if (rotate) {
		char *end;
		long long now = (long long)time(NULL);

		if (config == NULL || check || alg != NULL || bits_arg != NULL ||
		    domain != NULL || selector != NULL || keyfile != NULL || n_ns > 0)
			KEYGEN_BAD("--rotate takes -c CONFIG, and --now, --zone, --dry-run");
		if (now_arg != NULL) {
			errno = 0;
			now = strtoll(now_arg, &end, 10);
			if (errno != 0 || *end != '\0' || end == now_arg || now < 0)
				KEYGEN_BAD("--now %s: want seconds since 1970", now_arg);
		}
		free(ns);
		return keygen_rotate(config, (int64_t)now, zone, dry_run);
	}
	if (now_arg != NULL || zone != NULL || dry_run)
		KEYGEN_BAD("--now, --zone and --dry-run go with --rotate");
	if (domain == NULL || selector == NULL)
		KEYGEN_BAD("-d DOMAIN and -s SELECTOR are required (-h for help)");
	if (!dns_name_ok(domain, DNS_NAME_HEADER))
		KEYGEN_BAD("-d %s: not a domain name (letters, digits, '-', '_', '.')",
		    domain);
	if (!dns_name_ok(selector, DNS_NAME_HEADER))
		KEYGEN_BAD("-s %s: not a selector (letters, digits, '-', '_', '.')",
		    selector);

	if (check) {
		if (keyfile == NULL)
			KEYGEN_BAD("--check needs -k KEYFILE");
		if (alg != NULL || bits_arg != NULL)
			KEYGEN_BAD("-a and -b make keys; --check takes the key from -k");
		if (config != NULL && n_ns > 0)
			KEYGEN_BAD("-c and -n both name resolvers; give one");
		rc = keygen_check(domain, selector, keyfile, config, ns, n_ns);
	} else {
		if (keyfile != NULL || config != NULL || n_ns > 0)
			KEYGEN_BAD("-k, -c and -n go with --check");
		if (alg == NULL)
			KEYGEN_BAD("-a rsa|ed25519 is required");
		if (strcmp(alg, "rsa") != 0 && strcmp(alg, "ed25519") != 0)
			KEYGEN_BAD("-a %s: want rsa or ed25519", alg);
		if (bits_arg != NULL) {
			char *end;

			if (strcmp(alg, "rsa") != 0)
				KEYGEN_BAD("-b applies to rsa keys only");
			errno = 0;
			bits = strtol(bits_arg, &end, 10);
			if (errno != 0 || *end != '\0' || end == bits_arg ||
			    bits < DKIM_RSA_MIN_BITS || bits > KEYGEN_RSA_MAX)
				KEYGEN_BAD("-b %s: RSA keys must have %d to %d bits "
				    "(RFC 8301 refuses fewer than %d)", bits_arg,
				    DKIM_RSA_MIN_BITS, KEYGEN_RSA_MAX, DKIM_RSA_MIN_BITS);
		}
		rc = keygen_generate(alg, bits, domain, selector, dir);
	}
	free(ns);
	return rc;
}
