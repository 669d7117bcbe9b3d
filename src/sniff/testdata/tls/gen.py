#!/usr/bin/env python3
"""Regenerates the TLS fixtures for src/sniff/tls.rs.

Every handshake runs in memory (ssl.MemoryBIO, no sockets, no network): the
bytes each side writes are recorded as one file per direction,
`<name>_c2s.bin` (client to server) and `<name>_s2c.bin` (server to client).
Needs Python 3.8+ with the `cryptography` package (for certificates with
fixed names and dates). Keys are fresh each run, so the bytes change, but
every value the tests assert (names, dates, versions, ciphers, alerts) stays
the same.

    python3 src/sniff/testdata/tls/gen.py
"""
import datetime
import os
import ssl
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

HERE = os.path.dirname(os.path.abspath(__file__))
UTC = datetime.timezone.utc


def key(bits):
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def cert(subject, issuer, pubkey, signkey, not_after, ca, san=None):
    b = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(pubkey)
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime.datetime(2024, 1, 1, tzinfo=UTC))
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if san:
        b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(san)]), critical=False)
    return b.sign(signkey, hashes.SHA256())


def pem(obj):
    if isinstance(obj, x509.Certificate):
        return obj.public_bytes(serialization.Encoding.PEM)
    return obj.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def write(tmp, name, data):
    path = os.path.join(tmp, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def pump(client, server, cin, cout, sin, sout, c2s, s2c, steps=50):
    """Moves bytes between the two sides until neither has anything to say."""
    cdone = sdone = False
    for _ in range(steps):
        moved = False
        for obj, flag in ((client, "c"), (server, "s")):
            if (flag == "c" and cdone) or (flag == "s" and sdone):
                continue
            try:
                obj.do_handshake()
                if flag == "c":
                    cdone = True
                else:
                    sdone = True
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLError as e:
                print(f"  {flag}: {e.reason}")
                if flag == "c":
                    cdone = True
                else:
                    sdone = True
        data = cout.read()
        if data:
            c2s.extend(data)
            sin.write(data)
            moved = True
        data = sout.read()
        if data:
            s2c.extend(data)
            cin.write(data)
            moved = True
        if not moved and cdone and sdone:
            break
        if not moved and (cdone or sdone):
            # One side failed: let the other read what is left, then stop.
            for obj in (client, server):
                try:
                    obj.do_handshake()
                except ssl.SSLError:
                    pass
            data = cout.read()
            c2s.extend(data)
            data = sout.read()
            s2c.extend(data)
            break
    return cdone and sdone


def session(name, sctx, cctx, sni, exchange=False):
    cin, cout, sin, sout = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    client = cctx.wrap_bio(cin, cout, server_side=False, server_hostname=sni)
    server = sctx.wrap_bio(sin, sout, server_side=True)
    c2s, s2c = bytearray(), bytearray()
    print(name)
    pump(client, server, cin, cout, sin, sout, c2s, s2c)
    if exchange:
        client.write(b"GET /golang.org/x/mod/@v/list HTTP/1.1\r\nHost: proxy.golang.org\r\n\r\n")
        data = cout.read()
        c2s.extend(data)
        sin.write(data)
        server.read(4096)
        server.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        data = sout.read()
        s2c.extend(data)
        cin.write(data)
        client.read(4096)
        try:
            client.unwrap()  # close_notify: an encrypted alert record
        except ssl.SSLError:
            pass
        c2s.extend(cout.read())
    for suffix, data in (("c2s", c2s), ("s2c", s2c)):
        with open(os.path.join(HERE, f"{name}_{suffix}.bin"), "wb") as f:
            f.write(bytes(data))
        print(f"  {suffix}: {len(data)} bytes")


def main():
    ca_name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Corp"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Corp Inspection CA"),
        ]
    )
    leaf_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "proxy.golang.org")])
    ca_key, leaf_key = key(4096), key(4096)
    ca = cert(ca_name, ca_name, ca_key.public_key(), ca_key,
              datetime.datetime(2030, 1, 1, tzinfo=UTC), True)
    leaf = cert(leaf_name, ca_name, leaf_key.public_key(), ca_key,
                datetime.datetime(2027, 1, 1, 12, 30, 0, tzinfo=UTC), False,
                san="proxy.golang.org")

    with tempfile.TemporaryDirectory() as tmp:
        chain = write(tmp, "chain.pem", pem(leaf) + pem(ca))
        leaf_key_path = write(tmp, "leaf.key", pem(leaf_key))
        ca_path = write(tmp, "ca.pem", pem(ca))
        ca_key_path = write(tmp, "ca.key", pem(ca_key))

        def server_ctx(certfile, keyfile, maxv, alpn):
            s = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            s.load_cert_chain(certfile, keyfile)
            s.maximum_version = maxv
            s.set_ciphers("ECDHE-RSA-AES128-GCM-SHA256")
            s.set_alpn_protocols(alpn)
            return s

        def client_ctx(maxv, alpn, trust=True):
            c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            if trust:
                c.load_verify_locations(ca_path)
            c.maximum_version = maxv
            c.set_alpn_protocols(alpn)
            return c

        # TLS 1.2, a Corp inspection CA's leaf for proxy.golang.org (chain of
        # two 4096-bit RSA certificates: a ~3 KB Certificate message).
        session(
            "tls12",
            server_ctx(chain, leaf_key_path, ssl.TLSVersion.TLSv1_2, ["h2", "http/1.1"]),
            client_ctx(ssl.TLSVersion.TLSv1_2, ["h2", "http/1.1"]),
            "Proxy.Golang.org",
            exchange=True,
        )
        # TLS 1.3: the certificate is encrypted.
        session(
            "tls13",
            server_ctx(chain, leaf_key_path, ssl.TLSVersion.TLSv1_3, ["h2"]),
            client_ctx(ssl.TLSVersion.TLSv1_3, ["h2", "http/1.1"]),
            "proxy.golang.org",
            exchange=True,
        )
        # The server rejects the SNI with a fatal unrecognized_name alert.
        s = server_ctx(chain, leaf_key_path, ssl.TLSVersion.TLSv1_3, ["h2"])
        s.sni_callback = lambda sock, name, ctx: (
            None if name == "proxy.golang.org" else ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME
        )
        session("sni_reject", s, client_ctx(ssl.TLSVersion.TLSv1_3, ["h2"]), "blocked.example.com")
        # TLS 1.2 with a self-signed certificate the client does not trust:
        # the client answers the server's flight with a fatal unknown_ca alert.
        session(
            "selfsigned",
            server_ctx(ca_path, ca_key_path, ssl.TLSVersion.TLSv1_2, ["http/1.1"]),
            client_ctx(ssl.TLSVersion.TLSv1_2, ["http/1.1"], trust=False),
            "proxy.golang.org",
        )


if __name__ == "__main__":
    main()
