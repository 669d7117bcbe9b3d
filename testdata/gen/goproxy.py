#!/usr/bin/env python3
"""Minimal Go module proxy (GOPROXY protocol) for make-captures.sh (runs in tt-server).

Serves ONE module, by default corp.example/Tools/greet at v1.0.0 (--module/--version/--time
choose another; make-captures.sh uses corp.example/MyOrg/BigTool at a pseudo-version). Uppercase
letters in the path are case-escaped by the go command ("T" -> "!t"), so it asks for
corp.example/!tools/greet:

  GET /corp.example/!tools/greet/@v/list          -> "v1.0.0\n"
  GET /corp.example/!tools/greet/@v/v1.0.0.info   -> {"Version":"v1.0.0","Time":...}
  GET /corp.example/!tools/greet/@latest          -> same .info
  GET /corp.example/!tools/greet/@v/v1.0.0.mod    -> go.mod
  GET /corp.example/!tools/greet/@v/v1.0.0.zip    -> module zip (entries under the UNescaped
                                                     prefix corp.example/Tools/greet@v1.0.0/)
  GET /                                           -> 200 short text (TLS control connection)
  anything else                                   -> 404 (e.g. /sumdb/sum.golang.org/supported:
                                                     go then asks the checksum DB directly)

The go command percent-encodes the "!" (GET /corp.example/%21tools/greet/...); paths are unquoted.
HTTP/1.1 with keep-alive (Content-Length on every answer). Modes:
  ok            answer everything
  stall-zip     read the .zip request, send nothing, keep the socket open until the peer closes
                or --hold seconds pass
  stall-mod     the same for the .mod request
  reset-zip     read the .zip request, then close with SO_LINGER {1,0} -> RST
  forbid-info   answer the .info request "403 Forbidden" (keep-alive, short text body)
  auth-info     answer the .info request "407 Proxy Authentication Required" with
                Proxy-Authenticate: Basic realm="corp"
With --tls-cert/--tls-key the listener speaks TLS (forced to TLS 1.2 so that the certificate is
visible on the wire). --sni-allow NAME[,NAME...] (TLS only) adds an SNI check: a ClientHello whose
server_name is not in the list (or has none) is refused with a fatal alert in the clear, before
any ServerHello (--sni-alert: unrecognized_name 112 by default, or handshake_failure 40).
Listens on [::]:port dual-stack. Bounded by --max-seconds.
"""
import argparse, io, json, socket, ssl, struct, sys, threading, time, urllib.parse, zipfile

MOD = VER = ESC = ""   # set by configure() from the command line
GOMOD = INFO = ZIP = b""
ROUTES = {}
GREET = b"""package greet

// Hello returns a greeting.
func Hello(name string) string { return "hello, " + name }
"""


def build_zip():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in (("go.mod", GOMOD), ("greet.go", GREET)):
            zi = zipfile.ZipInfo(f"{MOD}@{VER}/{name}", date_time=(2024, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, data)
    return buf.getvalue()


def escape_path(mod):
    """The go command's case escaping of a module path: every uppercase letter -> "!" + lower."""
    return "".join("!" + ch.lower() if ch.isupper() else ch for ch in mod)


def configure(mod, ver, when):
    global MOD, VER, ESC, GOMOD, INFO, ZIP, ROUTES
    MOD, VER, ESC = mod, ver, escape_path(mod)
    GOMOD = f"module {MOD}\n\ngo 1.19\n".encode()
    INFO = json.dumps({"Version": VER, "Time": when}).encode() + b"\n"
    ZIP = build_zip()
    ROUTES = {
        f"/{ESC}/@v/list": (b"text/plain; charset=utf-8", VER.encode() + b"\n"),
        f"/{ESC}/@v/{VER}.info": (b"application/json", INFO),
        f"/{ESC}/@latest": (b"application/json", INFO),
        f"/{ESC}/@v/{VER}.mod": (b"text/plain; charset=utf-8", GOMOD),
        f"/{ESC}/@v/{VER}.zip": (b"application/zip", ZIP),
        "/": (b"text/plain; charset=utf-8", b"tcptriage test goproxy\n"),
    }


def log(*a):
    print(f"[goproxy {time.strftime('%H:%M:%S')}]", *a, flush=True)


def read_request(c, buf):
    """Return (request head bytes, rest) or (None, buf) on EOF/timeout."""
    while b"\r\n\r\n" not in buf:
        if len(buf) > 65536:
            return None, buf
        chunk = c.recv(4096)
        if not chunk:
            return None, buf
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    return head, rest


def wait_peer_close(c, hold):
    end = time.monotonic() + hold
    while time.monotonic() < end:
        c.settimeout(max(0.05, end - time.monotonic()))
        try:
            if not c.recv(65536):
                return
        except (socket.timeout, OSError):
            return


def handle(c, a):
    try:
        if A.tls_cert:
            c.settimeout(A.hold)
            c = CTX.wrap_socket(c, server_side=True)
            log(a[0], "TLS", c.version(), c.cipher()[0])
        c.settimeout(A.idle)
        buf = b""
        while True:
            head, buf = read_request(c, buf)
            if head is None:
                break
            line = head.split(b"\r\n", 1)[0].decode("latin-1")
            log(a[0], a[1], line)
            parts = line.split()
            path = urllib.parse.unquote(parts[1] if len(parts) > 1 else "/")  # go sends %21 for !
            if (path.endswith(".zip") and A.mode == "stall-zip") or \
                    (path.endswith(".mod") and A.mode == "stall-mod"):
                log("stall: sending nothing")
                wait_peer_close(c, A.hold)
                break
            if path.endswith(".zip") and A.mode == "reset-zip":
                log("reset: SO_LINGER 0 close")
                time.sleep(0.05)
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                break
            if path.endswith(".info") and A.mode in ("forbid-info", "auth-info"):
                if A.mode == "forbid-info":
                    status, extra = b"403 Forbidden", b""
                else:
                    status = b"407 Proxy Authentication Required"
                    extra = b'\r\nProxy-Authenticate: Basic realm="corp"'
                body = b"access denied\n"
                c.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Type: text/plain; charset=utf-8" +
                          b"\r\nContent-Length: " + str(len(body)).encode() + extra + b"\r\n\r\n" + body)
                continue
            ctype, body = ROUTES.get(path, (b"text/plain; charset=utf-8", b"not found\n"))
            status = b"200 OK" if path in ROUTES else b"404 Not Found"
            close = b"connection: close" in head.lower()
            c.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Type: " + ctype +
                      b"\r\nContent-Length: " + str(len(body)).encode() +
                      (b"\r\nConnection: close" if close else b"") + b"\r\n\r\n" + body)
            if close:
                break
    except (OSError, ssl.SSLError) as e:
        log(a[0], "error", e)
    finally:
        try:
            c.close()
        except OSError:
            pass


def main():
    global A, CTX
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--mode", choices=["ok", "stall-zip", "stall-mod", "reset-zip", "forbid-info", "auth-info"],
                    default="ok")
    ap.add_argument("--module", default="corp.example/Tools/greet", help="module path (unescaped)")
    ap.add_argument("--version", default="v1.0.0")
    ap.add_argument("--time", default="2024-01-01T00:00:00Z", help="Time in the .info answer")
    ap.add_argument("--tls-cert", help="PEM chain (leaf first)")
    ap.add_argument("--tls-key")
    ap.add_argument("--sni-allow", help="comma-separated SNI names accepted; others get --sni-alert")
    ap.add_argument("--sni-alert", choices=["unrecognized_name", "handshake_failure"],
                    default="unrecognized_name")
    ap.add_argument("--hold", type=float, default=30, help="stall / TLS handshake bound")
    ap.add_argument("--idle", type=float, default=15, help="keep-alive idle bound")
    ap.add_argument("--max-seconds", type=float, default=120)
    ap.add_argument("--write-zip", help="only write the module zip to this file and exit")
    A = ap.parse_args()
    configure(A.module, A.version, A.time)
    if A.write_zip:
        open(A.write_zip, "wb").write(ZIP)
        return
    CTX = None
    if A.tls_cert:
        CTX = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        CTX.minimum_version = ssl.TLSVersion.TLSv1_2
        CTX.maximum_version = ssl.TLSVersion.TLSv1_2
        CTX.load_cert_chain(A.tls_cert, A.tls_key)
        if A.sni_allow:
            allow = {n.strip().lower() for n in A.sni_allow.split(",") if n.strip()}
            alert = {"unrecognized_name": ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME,
                     "handshake_failure": ssl.ALERT_DESCRIPTION_HANDSHAKE_FAILURE}[A.sni_alert]

            def sni_check(sock, name, ctx):
                if (name or "").lower() in allow:
                    return None
                log("SNI", repr(name), "refused:", A.sni_alert, alert)
                return alert   # OpenSSL answers the ClientHello with this fatal alert
            CTX.sni_callback = sni_check
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", A.port))
    s.listen(16)
    s.settimeout(0.5)
    log(f"listening on {A.port} mode {A.mode} tls={bool(A.tls_cert)} module {MOD}@{VER} zip={len(ZIP)} bytes")
    end = time.monotonic() + A.max_seconds
    while time.monotonic() < end:
        try:
            c, a = s.accept()
        except socket.timeout:
            continue
        threading.Thread(target=handle, args=(c, a), daemon=True).start()


if __name__ == "__main__":
    main()
