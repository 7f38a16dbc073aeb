"""dkimsig - sign a message with any DKIM-Signature tag list (test helper).

dkimpy's own sign() writes a fixed tag set (v, a, c, d, i, q, s, t, h, bh, b). The
conformance tests need shapes it will not write: x= in the past, t= in the future,
a quoted-printable i=, q= lists, v= absent or 0.5. sign_tags() builds the tag list
as given and lets dkimpy's header hashing and RSA/Ed25519 code make b= over it, so
each signature is cryptographically good and only the tag under test is odd.
"""
import base64
import hashlib

import dkim  # Debian's python3-dkim, under /usr/bin/python3
from dkim.canonicalization import CanonicalizationPolicy
from dkim.crypto import parse_pem_private_key


def sign_tags(msg, tags, key, alg=b"rsa-sha256", linesep=b"\n"):
    """msg (bytes) with a DKIM-Signature on top made from tags, a list of
    (name, value) byte pairs in order. c= and h= are read from tags (defaults
    simple/simple); bh= is computed unless given; b= is added last when absent."""
    d = dkim.DKIM(msg, signature_algorithm=alg, linesep=linesep)
    fields = list(tags)
    names = [k for k, _ in fields]
    c = dict(fields).get(b"c", b"simple/simple")
    canon = CanonicalizationPolicy.from_c_value(c)
    include = [x.strip().lower() for x in dict(fields)[b"h"].split(b":")]
    if b"bh" not in names:
        body = canon.canonicalize_body(d.body)
        fields.append((b"bh", base64.b64encode(hashlib.sha256(body).digest())))
    if b"b" not in names:
        fields.append((b"b", b"0" * 60))
    if alg == b"ed25519-sha256":
        import nacl.encoding
        import nacl.signing
        pk = nacl.signing.SigningKey(key, encoder=nacl.encoding.Base64Encoder)
    else:
        pk = parse_pem_private_key(key)
    d.hasher = hashlib.sha256
    value = d.gen_header(fields, include, canon, b"DKIM-Signature", pk)
    return b"DKIM-Signature: " + value + msg
