#!/usr/bin/env bash
# Regenerate the tcptriage test captures from real Linux TCP stacks in network namespaces.
#
#   sudo testdata/make-captures.sh               # all scenarios
#   sudo testdata/make-captures.sh syn_drop ...  # only the named scenarios (see --list)
#   sudo testdata/make-captures.sh --list
#
# Topology (all namespaces are created here, prefixed tt-, removed at start and exit):
#
#   tt-client c0 ==veth== w0 tt-wire w1 ==veth== r0 tt-router r1 ==veth== s0 tt-server
#   10.77.1.10/24          (wire.py:           10.77.1.1/24   10.77.2.1/24    10.77.2.20/24
#   fd77::1:10/112          5 ms each way)     fd77::1:1/112  fd77::2:1/112   fd77::2:20/112
#
# tt-router forwards and is the egress firewall (iptables/ip6tables FORWARD rules per scenario).
# The kernel here has no sch_netem, so the 5 ms/direction delay (and the loss of loss_ok) is
# done by gen/wire.py, a userspace AF_PACKET frame forwarder in tt-wire; offloads are turned off
# (gen/nooffload.py) so frames are MTU-sized with valid checksums.
# tcpdump runs in tt-client on c0 (-U --immediate-mode -w), one file per scenario. No route leaves 10.77.0.0/16 /
# fd77::/64; URLs use IP literals; every client has a timeout; every helper is killed by PID.
#
# DNS / TLS / go scenarios (dns_*, *sni_reset, tls_sni_alert, gomod_*, icmp_admin_named): dnsmasq in tt-server answers on
# 10.77.2.20:53 (--no-resolv --no-hosts: it never forwards anywhere); tt-client's resolver is
# pointed at it with /etc/netns/tt-client/resolv.conf (bind-mounted by `ip netns exec`; the
# directory is created per scenario and removed again, /etc/netns too if this script made it).
# The capture filter of these scenarios adds `udp port 53`.
#
# Debian packages: iproute2 iptables tcpdump curl wireshark-common (editcap) python3
#   and, for the DNS/TLS/go scenarios, dnsmasq-base openssl golang-go (go 1.19)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${OUT:-$HERE}
GEN=$HERE/gen
PY=${PYTHON:-python3}
C4=10.77.1.10; R4C=10.77.1.1; R4S=10.77.2.1; S4=10.77.2.20
C6=fd77::1:10; R6C=fd77::1:1; R6S=fd77::2:1; S6=fd77::2:20
NSS=(tt-client tt-wire tt-router tt-server)
FILTER='tcp or icmp or (icmp6 and ip6[40] < 128)'   # TCP + ICMP errors; no ARP/NDP/MLD noise
FILTER_DNS="$FILTER or udp port 53"                   # the DNS scenarios: plus DNS over UDP
NETNS_ETC=/etc/netns/tt-client   # resolv.conf for tt-client (DNS scenarios only)
MADE_ETC_NETNS=""                # set if this script created /etc/netns itself
DNS_EXTRA=()                     # extra dnsmasq arguments of the current scenario (dns_servfail)
RESOLV_OPTS="timeout:2 attempts:2"   # tt-client resolv.conf options (dns_tcp adds use-vc)
GO_MODULE=corp.example/Tools/greet   # the module goproxy.py serves and go downloads
GO_VERSION=v1.0.0                    #   (gomod_pseudo_stall: another path, a pseudo-version)
CURL=(curl -q -sS -o /dev/null --noproxy '*')
TMP=""           # work dir, created only after argument checks (so --list leaves nothing behind)
PIDS=()          # every background process started by this script
SRV_PIDS=()      # servers of the current scenario
WIRE_PID=""
CAP_PID=""

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
inns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

kill_pid() {  # kill one child process we started (by PID), reap it; bounded wait
  local p=$1 sig=${2:-TERM} i st=""
  [ -n "$p" ] || return 0
  kill -"$sig" "$p" 2>/dev/null || true
  for i in $(seq 1 30); do
    st=$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null || true)
    { [ -z "$st" ] || [ "$st" = Z ]; } && break
    sleep 0.1
  done
  { [ -z "$st" ] || [ "$st" = Z ]; } || kill -KILL "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
}
is_child() { [ "$(awk '{print $4}' "/proc/$1/stat" 2>/dev/null)" = "$$" ]; }

cleanup_ns() { local ns; for ns in "${NSS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done; }
cleanup_etc() {  # remove what resolv_client created under /etc/netns
  rm -rf "$NETNS_ETC"
  [ -z "$MADE_ETC_NETNS" ] || rmdir /etc/netns 2>/dev/null || true
}

on_exit() {
  local p
  for p in "${PIDS[@]}"; do is_child "$p" && kill_pid "$p"; done
  cleanup_ns
  cleanup_etc
  [ -z "$TMP" ] || rm -rf "$TMP"
}

setup() {
  cleanup_ns
  local ns
  for ns in "${NSS[@]}"; do
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    inns "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
      net.ipv6.conf.all.router_solicitations=0 net.ipv6.conf.default.router_solicitations=0
  done
  ip link add name c0 netns tt-client type veth peer name w0 netns tt-wire
  ip link add name w1 netns tt-wire type veth peer name r0 netns tt-router
  ip link add name r1 netns tt-router type veth peer name s0 netns tt-server
  inns tt-wire sysctl -qw net.ipv6.conf.w0.disable_ipv6=1 net.ipv6.conf.w1.disable_ipv6=1
  ip -n tt-client addr add $C4/24 dev c0;  ip -n tt-client addr add $C6/112 dev c0 nodad
  ip -n tt-router addr add $R4C/24 dev r0; ip -n tt-router addr add $R6C/112 dev r0 nodad
  ip -n tt-router addr add $R4S/24 dev r1; ip -n tt-router addr add $R6S/112 dev r1 nodad
  ip -n tt-server addr add $S4/24 dev s0;  ip -n tt-server addr add $S6/112 dev s0 nodad
  inns tt-router sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
  inns tt-client "$PY" "$GEN/nooffload.py" c0
  inns tt-wire "$PY" "$GEN/nooffload.py" w0 w1
  inns tt-router "$PY" "$GEN/nooffload.py" r0 r1
  inns tt-server "$PY" "$GEN/nooffload.py" s0
  ip -n tt-client link set c0 up; ip -n tt-wire link set w0 up; ip -n tt-wire link set w1 up
  ip -n tt-router link set r0 up; ip -n tt-router link set r1 up; ip -n tt-server link set s0 up
  # only routes inside the lab, no default route
  ip -n tt-client route add 10.77.2.0/24 via $R4C
  ip -n tt-client -6 route add fd77::2:0/112 via $R6C
  ip -n tt-server route add 10.77.1.0/24 via $R4S
  ip -n tt-server -6 route add fd77::1:0/112 via $R6S
  start_wire 0
  # warm up ARP/NDP outside any capture (bounded): a refused connect proves the path works
  local rc
  rc=$(ccurl --max-time 3 http://$S4:9/);      [ "$rc" = 7 ] || { log "IPv4 path broken (curl rc=$rc)"; exit 1; }
  rc=$(ccurl -g --max-time 3 "http://[$S6]:9/"); [ "$rc" = 7 ] || { log "IPv6 path broken (curl rc=$rc)"; exit 1; }
  : >"$TMP/curl.log"
}

teardown() {
  kill_pid "$WIRE_PID"; WIRE_PID=""
  cleanup_ns
  cleanup_etc
}

start_wire() {  # start_wire LOSS
  [ -z "$WIRE_PID" ] || kill_pid "$WIRE_PID"
  ip netns exec tt-wire "$PY" -u "$GEN/wire.py" --a w0 --b w1 --delay-ms 5 --loss "$1" --seed 7 \
    --max-seconds 1800 >>"$TMP/wire.log" 2>&1 &
  WIRE_PID=$!; PIDS+=("$WIRE_PID")
  sleep 0.3
}

fw_reset() {
  inns tt-router iptables -F FORWARD; inns tt-router ip6tables -F FORWARD
}

srv() {  # srv PORT MODE [server.py args...]
  local port=$1 mode=$2 i; shift 2
  ip netns exec tt-server "$PY" -u "$GEN/server.py" --port "$port" --mode "$mode" --max-seconds 120 "$@" \
    >>"$TMP/server.log" 2>&1 &
  local p=$!; PIDS+=("$p"); SRV_PIDS+=("$p")
  for i in $(seq 1 40); do
    inns tt-server ss -Hltn "sport = :$port" | grep -q LISTEN && return 0; sleep 0.05
  done
  log "server $port did not start"; exit 1
}

stop_servers() { local p; for p in "${SRV_PIDS[@]}"; do kill_pid "$p"; done; SRV_PIDS=(); }

cap_start() {  # cap_start FILE [extra tcpdump args...]   (iface c0 unless -i given)
  local f=$1 i; shift
  local iface=(-i c0); case " $* " in *" -i "*) iface=();; esac
  rm -f "$OUT/$f"
  : >"$TMP/tcpdump.log"
  ip netns exec tt-client tcpdump "${iface[@]}" -U --immediate-mode -n -Z root -w "$OUT/$f" "$@" "$FILTER" 2>"$TMP/tcpdump.log" &
  CAP_PID=$!; PIDS+=("$CAP_PID")
  for i in $(seq 1 50); do grep -q "listening on" "$TMP/tcpdump.log" && break; sleep 0.1; done
  sleep 0.3
}

cap_stop() {  # cap_stop [settle seconds]
  sleep "${1:-1.5}"
  kill_pid "$CAP_PID" TERM; CAP_PID=""
  { grep -E "packets (captured|received|dropped)" "$TMP/tcpdump.log" || true; } | tr "\n" " " >&2; echo >&2
}

ccurl() { inns tt-client "${CURL[@]}" "$@" 2>>"$TMP/curl.log" && echo 0 || echo $?; }

# ---------------------------------------------------------------- scenarios
# building blocks (no capture handling)
do_ok()      { srv 8080 ok --body 40000;  log "curl ok rc=$(ccurl --max-time 10 http://$S4:8080/)"; }
do_closed()  { log "curl closed rc=$(ccurl --max-time 5 http://$S4:8082/)"; }
do_syndrop() {
  srv 8081 ok
  inns tt-router iptables -A FORWARD -p tcp --syn -d $S4 --dport 8081 -j DROP
  log "curl syn_drop rc=$(ccurl --connect-timeout 8 --max-time 10 http://$S4:8081/)"
}

sc_ok_download()  { cap_start ok_download.pcap; do_ok; cap_stop; }
sc_slow_ok()      { srv 8080 slow --wait 2 --body 20000; cap_start slow_ok.pcap
                    log "curl rc=$(ccurl --max-time 10 http://$S4:8080/)"; cap_stop; }
sc_syn_drop()     { cap_start syn_drop.pcap; do_syndrop; cap_stop 1; }
sc_icmp_admin_prohibited() {
  srv 8081 ok
  inns tt-router iptables -A FORWARD -p tcp -d $S4 --dport 8081 -j REJECT --reject-with icmp-admin-prohibited
  cap_start icmp_admin_prohibited.pcap
  log "curl rc=$(ccurl --connect-timeout 8 --max-time 10 http://$S4:8081/)"; cap_stop
}
sc_icmp_port_unreachable() {
  srv 8081 ok
  inns tt-router iptables -A FORWARD -p tcp -d $S4 --dport 8081 -j REJECT --reject-with icmp-port-unreachable
  cap_start icmp_port_unreachable.pcap
  log "curl rc=$(ccurl --connect-timeout 8 --max-time 10 http://$S4:8081/)"; cap_stop
}
sc_closed_port()  { cap_start closed_port.pcap; do_closed; cap_stop; }
sc_accept_no_response() {
  srv 8083 noanswer --hold 30; cap_start accept_no_response.pcap
  log "curl rc=$(ccurl --max-time 8 http://$S4:8083/)"; cap_stop 1.5
}
sc_accept_no_response_capture_ends() {
  # The request is never answered; tcpdump is stopped ~7 s later while curl (max-time 15) still
  # waits, then curl is killed. A pcap has no "capture end" record, so a second, unrelated
  # ok download at ~6.5 s shows that the capture was still running 6.5 s after the stall.
  srv 8083 noanswer --hold 30; srv 8080 ok --body 2000
  cap_start accept_no_response_capture_ends.pcap
  ip netns exec tt-client "${CURL[@]}" --max-time 15 http://$S4:8083/ 2>>"$TMP/curl.log" &
  local cp=$!; PIDS+=("$cp")
  sleep 6.5
  log "late ok curl rc=$(ccurl --max-time 3 http://$S4:8080/)"
  cap_stop 0.5        # capture ends (~7 s after the request) while the first curl still waits
  kill_pid "$cp"      # only then stop the client
}
sc_accept_no_response_capture_cut() {
  # Same stall, nothing else in the capture: the file ends 10 ms after the request was ACKed
  # (tcpdump stopped 7 s later, but a pcap cannot tell) -> outcome unknown.
  srv 8083 noanswer --hold 30; cap_start accept_no_response_capture_cut.pcap
  ip netns exec tt-client "${CURL[@]}" --max-time 15 http://$S4:8083/ 2>>"$TMP/curl.log" &
  local cp=$!; PIDS+=("$cp")
  cap_stop 7
  kill_pid "$cp"
}
sc_tls_no_serverhello() {
  srv 443 noanswer --hold 30; cap_start tls_no_serverhello.pcap
  log "curl rc=$(ccurl -k --max-time 8 https://$S4/)"; cap_stop 1.5
}
sc_server_abort_mid_body() {
  srv 8084 abort --body 30000; cap_start server_abort_mid_body.pcap
  log "curl rc=$(ccurl --max-time 10 http://$S4:8084/)"; cap_stop
}
sc_receiver_stops_reading() {
  srv 8080 bigwrite --sndbuf 4096 --hold 20; cap_start receiver_stops_reading.pcap
  inns tt-client "$PY" -u "$GEN/client.py" noread --host $S4 --port 8080 --rcvbuf 4096 --hold 9 >&2 || true
  cap_stop 1.5
}
sc_established_blackhole() {
  srv 8086 ok --body 20000; cap_start established_blackhole.pcap
  rm -f "$TMP/flag"
  ip netns exec tt-client "$PY" -u "$GEN/client.py" blackhole --host $S4 --port 8086 --hold 10 --flag "$TMP/flag" >&2 &
  local cp=$!; PIDS+=("$cp")
  sleep 1
  inns tt-router iptables -I FORWARD -p tcp -d $S4 --dport 8086 -j DROP
  inns tt-router iptables -I FORWARD -p tcp -s $S4 --sport 8086 -j DROP
  touch "$TMP/flag"
  wait "$cp" || true
  cap_stop 2
}
sc_loss_ok() {
  local try rc
  for try in 1 2 3; do
    start_wire 0.10
    srv 8080 ok --body 200000; cap_start loss_ok.pcap
    rc=$(ccurl --max-time 20 http://$S4:8080/); log "loss_ok try $try curl rc=$rc"
    cap_stop; stop_servers
    [ "$rc" = 0 ] && break
  done
  start_wire 0
}
sc_any_sll2()   { cap_start any_sll2.pcap -i any -y LINUX_SLL2; do_ok; do_closed; cap_stop; }
sc_snaplen96()  { cap_start snaplen96.pcap -s 96; do_ok; do_closed; cap_stop; }
sc_mixed() {
  cap_start mixed-nano.tmp.pcap --time-stamp-precision=nano; do_ok; do_syndrop; cap_stop 1
  editcap -F pcapng "$OUT/mixed-nano.tmp.pcap" "$OUT/mixed.pcapng"; rm -f "$OUT/mixed-nano.tmp.pcap"
}
sc_ipv6_ok()    { srv 8080 ok --body 40000; cap_start ipv6_ok.pcap
                  log "curl rc=$(ccurl -g --max-time 10 "http://[$S6]:8080/")"; cap_stop; }
sc_ipv6_closed_port() { cap_start ipv6_closed_port.pcap
                  log "curl rc=$(ccurl -g --max-time 5 "http://[$S6]:8082/")"; cap_stop; }
sc_ipv6_syn_drop() {
  srv 8081 ok
  inns tt-router ip6tables -A FORWARD -p tcp --syn -d $S6 --dport 8081 -j DROP
  cap_start ipv6_syn_drop.pcap
  log "curl rc=$(ccurl -g --connect-timeout 8 --max-time 10 "http://[$S6]:8081/")"; cap_stop 1
}
sc_ipv6_admin_prohibited() {
  srv 8081 ok
  inns tt-router ip6tables -A FORWARD -p tcp -d $S6 --dport 8081 -j REJECT --reject-with adm-prohibited
  cap_start ipv6_admin_prohibited.pcap
  log "curl rc=$(ccurl -g --connect-timeout 8 --max-time 10 "http://[$S6]:8081/")"; cap_stop
}
sc_all_failures() {
  srv 8080 ok --body 40000; srv 8081 ok; srv 8083 noanswer --hold 30; srv 8084 abort --body 30000
  inns tt-router iptables -A FORWARD -p tcp --syn -d $S4 --dport 8081 -j DROP
  cap_start all_failures.pcap
  local cps=() p
  ip netns exec tt-client "${CURL[@]}" --max-time 10 http://$S4:8080/ 2>>"$TMP/curl.log" & cps+=($!); sleep 0.3
  ip netns exec tt-client "${CURL[@]}" --connect-timeout 8 --max-time 10 http://$S4:8081/ 2>>"$TMP/curl.log" & cps+=($!); sleep 0.3
  ip netns exec tt-client "${CURL[@]}" --max-time 5 http://$S4:8082/ 2>>"$TMP/curl.log" & cps+=($!); sleep 0.3
  ip netns exec tt-client "${CURL[@]}" --max-time 8 http://$S4:8083/ 2>>"$TMP/curl.log" & cps+=($!); sleep 0.3
  ip netns exec tt-client "${CURL[@]}" --max-time 10 http://$S4:8084/ 2>>"$TMP/curl.log" & cps+=($!)
  PIDS+=("${cps[@]}")
  for p in "${cps[@]}"; do wait "$p" || true; done
  cap_stop 1.5
}
sc_port_reuse() {
  # 40000 -> 8080 three times: ok, ok, then (server process stopped) refused
  srv 8080 ok --body 2000; cap_start port_reuse.pcap
  rm -f "$TMP/flag"; : >"$TMP/reuse.log"
  ip netns exec tt-client "$PY" -u "$GEN/client.py" reuse --host $S4 --ports 8080,8080,8080 \
    --sport 40000 --src $C4 --flag "$TMP/flag" >"$TMP/reuse.log" 2>&1 &
  local cp=$! i; PIDS+=("$cp")
  for i in $(seq 1 100); do grep -q "reuse #2" "$TMP/reuse.log" && break; sleep 0.1; done
  stop_servers; touch "$TMP/flag"
  wait "$cp" || true; cat "$TMP/reuse.log" >&2
  cap_stop
}

sc_server_stalls_mid_body() {
  # headers (Content-Length 200000) + 30 000 body bytes, then the server goes silent with the
  # socket open; curl --max-time 8 gives up (FIN), then the server closes too
  srv 8087 stall --body 30000 --hold 30; cap_start server_stalls_mid_body.pcap
  log "curl rc=$(ccurl --max-time 8 http://$S4:8087/)"; cap_stop 1.5
}
sc_return_path_blackhole() {
  # the server answers 1 s after the GET; before that the router starts dropping everything
  # client->server of this flow, so the client's ACKs never arrive: the server re-sends data
  # the client already ACKed (RTO backoff); curl --max-time 8 gives up (FIN, also dropped)
  srv 8080 slow --wait 1 --body 40000; cap_start return_path_blackhole.pcap
  ip netns exec tt-client "${CURL[@]}" --max-time 8 http://$S4:8080/ 2>>"$TMP/curl.log" &
  local cp=$! i; PIDS+=("$cp")
  for i in $(seq 1 40); do   # bounded: wait until the connection is established (GET sent)
    [ -n "$(inns tt-client ss -Htn state established "dport = :8080")" ] && break; sleep 0.05
  done
  sleep 0.3
  inns tt-router iptables -I FORWARD -p tcp -s $C4 -d $S4 --dport 8080 -j DROP
  wait "$cp" || true
  cap_stop 1.5
}
sc_client_abort_mid_transfer() {
  # 2 MB download; the client reads ~16 kB, then closes with SO_LINGER 0 (RST/ACK) while the
  # server's segments are still in flight (each later one is answered by a bare RST)
  srv 8080 ok --body 2000000; cap_start client_abort_mid_transfer.pcap
  inns tt-client "$PY" -u "$GEN/client.py" abort --host $S4 --port 8080 --read 16000 >&2 || true
  cap_stop 1
}
sc_server_fin_no_answer() {
  # server reads the GET, waits 1 s, closes (FIN) without a response byte; curl exit 52
  srv 8088 closenoanswer --wait 1; cap_start server_fin_no_answer.pcap
  log "curl rc=$(ccurl --max-time 8 http://$S4:8088/)"; cap_stop 1
}
sc_icmp_host_unreachable() {
  srv 8081 ok
  inns tt-router iptables -A FORWARD -p tcp -d $S4 --dport 8081 -j REJECT --reject-with icmp-host-unreachable
  cap_start icmp_host_unreachable.pcap
  log "curl rc=$(ccurl --connect-timeout 8 --max-time 10 http://$S4:8081/)"; cap_stop
}

# ---------------------------------------------------------------- DNS / TLS / go scenarios
cap_start_dns() { local FILTER=$FILTER_DNS; cap_start "$@"; }   # capture with udp port 53

need() { local t; for t; do command -v "$t" >/dev/null || { log "missing tool: $t"; exit 1; }; done; }

dns_start() {  # dnsmasq on 10.77.2.20:53 in tt-server (never forwards: --no-resolv, no --server)
  local i
  need dnsmasq getent
  ip netns exec tt-server dnsmasq -d -C /dev/null --no-resolv --no-hosts --no-poll \
    --listen-address=$S4 --bind-interfaces --port=53 --log-queries --log-facility=- \
    --address=/proxy.golang.org/$S4 --local=/proxy.golang.org/ \
    --address=/goproxy.corp.example/$S4 --local=/goproxy.corp.example/ \
    --address=/blocked.example/ "${DNS_EXTRA[@]}" >>"$TMP/dnsmasq.log" 2>&1 &
  local p=$!; PIDS+=("$p"); SRV_PIDS+=("$p")
  for i in $(seq 1 40); do
    inns tt-server ss -Hlun "sport = :53" | grep -q . && break; sleep 0.05
  done
  inns tt-server ss -Hlun "sport = :53" | grep -q . || { log "dnsmasq did not start"; exit 1; }
  # tt-client's /etc/resolv.conf (ip netns exec bind-mounts /etc/netns/tt-client/*)
  [ -d /etc/netns ] || { mkdir /etc/netns; MADE_ETC_NETNS=1; }
  mkdir -p "$NETNS_ETC"
  printf 'nameserver %s\noptions %s\n' $S4 "$RESOLV_OPTS" >"$NETNS_ETC/resolv.conf"
  # warm ARP outside the capture with a query that is not part of any scenario (bounded)
  inns tt-client getent ahostsv4 goproxy.corp.example >/dev/null || { log "DNS path broken"; exit 1; }
}

gproxy() {  # gproxy PORT MODE [goproxy.py args...]
  local port=$1 mode=$2 i; shift 2
  ip netns exec tt-server "$PY" -u "$GEN/goproxy.py" --port "$port" --mode "$mode" --max-seconds 120 \
    --module "$GO_MODULE" --version "$GO_VERSION" "$@" >>"$TMP/goproxy.log" 2>&1 &
  local p=$!; PIDS+=("$p"); SRV_PIDS+=("$p")
  for i in $(seq 1 40); do
    inns tt-server ss -Hltn "sport = :$port" | grep -q LISTEN && return 0; sleep 0.05
  done
  log "goproxy $port did not start"; exit 1
}

mkcerts() {  # a small CA "Corp Inspection CA" and a leaf CN=proxy.golang.org it signs (EC P-256)
  local d=$TMP/pki; mkdir -p "$d"; need openssl
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
    -keyout "$d/ca.key" -out "$d/ca.pem" -subj "/O=Corp/CN=Corp Inspection CA" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$d/leaf.key" -out "$d/leaf.csr" -subj "/CN=proxy.golang.org" 2>/dev/null
  printf 'subjectAltName=DNS:proxy.golang.org\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' >"$d/leaf.ext"
  openssl x509 -req -in "$d/leaf.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 30 \
    -extfile "$d/leaf.ext" -out "$d/leaf.pem" 2>/dev/null
  cat "$d/leaf.pem" "$d/ca.pem" >"$d/chain.pem"
}

sni_reject() {  # the router resets every TCP segment to :443 that carries the SNI proxy.golang.org
  inns tt-router iptables -A FORWARD -p tcp --dport 443 -m string --algo bm --string proxy.golang.org \
    -j REJECT --reject-with tcp-reset
}

gomod() {  # gomod TIMEOUT GOPROXY [VAR=value...]: real `go mod download $GO_MODULE@$GO_VERSION`
           # in tt-client, fresh GOPATH; VAR=value (e.g. GOSUMDB=sum.golang.org) overrides the defaults
  local t=$1 proxy=$2 h=$TMP/gohome rc=0; shift 2; need go timeout
  rm -rf "$h"; mkdir -p "$h"
  ( cd "$h" && ip netns exec tt-client env -i PATH=/usr/bin:/bin HOME="$h" GOPATH="$h/go" \
      GOMODCACHE="$h/go/pkg/mod" GOCACHE="$h/cache" GOENV=off GO111MODULE=on GOFLAGS=-modcacherw \
      GOSUMDB=off GOPROXY="$proxy" "$@" \
      timeout "$t" go mod download -x "$GO_MODULE@$GO_VERSION" ) >>"$TMP/go.log" 2>&1 || rc=$?
  echo "go exit $rc; module cache: $(cd "$h/go/pkg/mod" 2>/dev/null && find . -maxdepth 3 -name '*@v*' | tr '\n' ' ')" >>"$TMP/go.log"
  echo "$rc"
}

sc_dns_nxdomain() {
  dns_start; cap_start_dns dns_nxdomain.pcap
  log "curl rc=$(ccurl --max-time 8 http://nosuch.blocked.example:8080/)"; cap_stop 1
}
sc_dns_refused() {
  # intranet.corp.example matches no --address/--local and dnsmasq has no upstream server
  dns_start; cap_start_dns dns_refused.pcap
  log "curl rc=$(ccurl --max-time 8 http://intranet.corp.example:8080/)"; cap_stop 1
}
sc_dns_timeout() {
  # the router drops DNS; the resolver retries (timeout:2 attempts:2), curl fails with exit 6.
  # A pcap has no "capture end" record, so at +6.5 s an unrelated fetch by IP literal shows that
  # the capture (and the TCP path to the server) was still up > 6 s after the first query.
  dns_start; srv 8080 ok --body 2000
  inns tt-router iptables -A FORWARD -p udp --dport 53 -j DROP
  inns tt-router iptables -A FORWARD -p tcp --dport 53 -j DROP
  cap_start_dns dns_timeout.pcap
  ip netns exec tt-client "${CURL[@]}" --max-time 15 http://goproxy.corp.example:8080/ 2>>"$TMP/curl.log" &
  local cp=$!; PIDS+=("$cp")
  sleep 6.5
  log "late curl by IP rc=$(ccurl --max-time 3 http://$S4:8080/)"
  wait "$cp" && log "name curl rc=0" || log "name curl rc=$?"
  cap_stop 1
}
sc_dns_ok_fetch() {
  dns_start; srv 8080 ok --body 2000; cap_start_dns dns_ok_fetch.pcap
  log "curl rc=$(ccurl --max-time 8 http://goproxy.corp.example:8080/)"; cap_stop 1
}
sc_sni_reset() {
  dns_start; mkcerts
  gproxy 443 ok --tls-cert "$TMP/pki/chain.pem" --tls-key "$TMP/pki/leaf.key"
  sni_reject
  cap_start_dns sni_reset.pcap
  # control: SNI example.org (no DNS: --resolve) passes the router and completes
  log "control curl rc=$(ccurl -k --max-time 8 --resolve example.org:443:$S4 https://example.org/)"
  sleep 0.5
  # SNI proxy.golang.org (resolved by dnsmasq): the router answers the ClientHello with a RST
  log "curl rc=$(ccurl --cacert "$TMP/pki/ca.pem" --max-time 8 https://proxy.golang.org/)"
  cap_stop 1.5
  inns tt-router iptables -vnL FORWARD >&2
}
sc_gomod_ok() {
  dns_start; gproxy 8080 ok; cap_start_dns gomod_ok.pcap
  log "go rc=$(gomod 20 http://goproxy.corp.example:8080)"; cap_stop 1.5
}
sc_gomod_stall() {
  dns_start; gproxy 8080 stall-zip --hold 30; cap_start_dns gomod_stall.pcap
  log "go rc=$(gomod 8 http://goproxy.corp.example:8080)"; cap_stop 2
}
sc_gomod_reset() {
  dns_start; gproxy 8080 reset-zip; cap_start_dns gomod_reset.pcap
  log "go rc=$(gomod 20 http://goproxy.corp.example:8080)"; cap_stop 1.5
}
sc_gomod_sni_reset() {
  dns_start; mkcerts
  gproxy 443 ok --tls-cert "$TMP/pki/chain.pem" --tls-key "$TMP/pki/leaf.key"
  sni_reject
  cap_start_dns gomod_sni_reset.pcap
  log "go rc=$(gomod 20 https://proxy.golang.org SSL_CERT_FILE="$TMP/pki/ca.pem")"; cap_stop 1.5
  inns tt-router iptables -vnL FORWARD >&2
}

# --- go failure modes on the way to proxy.golang.org, DNS SERVFAIL / over TCP, named ICMP reject
sc_gomod_syn_drop() {
  # proxy.golang.org resolves to 10.77.2.20, the router DROPs every SYN to :443. The go command's
  # HTTP client is http.DefaultTransport (net.Dialer Timeout 30 s); the kernel gives up on its own
  # SYN retries (tcp_syn_retries 6) too -- whichever comes first ends the dial.
  dns_start; srv 443 noanswer --hold 60
  inns tt-router iptables -A FORWARD -p tcp --syn -d $S4 --dport 443 -j DROP
  cap_start_dns gomod_syn_drop.pcap
  log "go rc=$(gomod 45 https://proxy.golang.org)"; cap_stop 2
}
sc_gomod_tls_stall() {
  # :443 accepts and reads the ClientHello but never answers (server.py noanswer, no TLS at all):
  # http.DefaultTransport's TLSHandshakeTimeout is 10 s
  dns_start; srv 443 noanswer --hold 40
  cap_start_dns gomod_tls_stall.pcap
  log "go rc=$(gomod 25 https://proxy.golang.org)"; cap_stop 2
}
sc_gomod_fallback() {
  # GOPROXY list with '|': go falls back to the next proxy on ANY error (',' only on 404/410).
  # The router answers SYNs to :443 with a RST (REJECT tcp-reset); goproxy.corp.example:8080 serves.
  dns_start; gproxy 8080 ok
  inns tt-router iptables -A FORWARD -p tcp --syn -d $S4 --dport 443 -j REJECT --reject-with tcp-reset
  cap_start_dns gomod_fallback.pcap
  log "go rc=$(gomod 30 'https://proxy.golang.org|http://goproxy.corp.example:8080')"; cap_stop 1.5
}
sc_dns_servfail() {
  # x.example is forwarded (--server=/x.example/10.77.2.20#5399) to gen/dnsupstream.py, a broken
  # upstream that answers every query SERVFAIL; dnsmasq relays the SERVFAIL to the client.
  # (Forwarding to an address where nobody answers gives no SERVFAIL at all with dnsmasq 2.90:
  # it stays silent and the client times out.)
  local DNS_EXTRA=(--server=/x.example/$S4#5399) i
  ip netns exec tt-server "$PY" -u "$GEN/dnsupstream.py" --addr $S4 --port 5399 --rcode 2 --max-seconds 60 \
    >>"$TMP/dnsmasq.log" 2>&1 &
  local p=$!; PIDS+=("$p"); SRV_PIDS+=("$p")
  for i in $(seq 1 40); do inns tt-server ss -Hlun "sport = :5399" | grep -q . && break; sleep 0.05; done
  dns_start; cap_start_dns dns_servfail.pcap
  log "curl rc=$(ccurl --max-time 15 http://www.x.example:8080/)"; cap_stop 1
}
sc_dns_tcp() {
  # glibc resolver with `options use-vc`: every query over TCP to 10.77.2.20:53 (dnsmasq)
  local RESOLV_OPTS="timeout:2 attempts:2 use-vc"
  dns_start; srv 8080 ok --body 2000; cap_start_dns dns_tcp.pcap
  log "curl nxdomain rc=$(ccurl --max-time 8 http://nosuch.blocked.example:8080/)"
  sleep 0.3
  log "curl ok rc=$(ccurl --max-time 8 http://goproxy.corp.example:8080/)"; cap_stop 1
}
sc_icmp_admin_named() {
  # the name resolves, then the router rejects the SYN with ICMP 3/13
  dns_start; srv 8080 ok --body 2000
  inns tt-router iptables -A FORWARD -p tcp -d $S4 --dport 8080 -j REJECT --reject-with icmp-admin-prohibited
  cap_start_dns icmp_admin_named.pcap
  log "curl rc=$(ccurl --connect-timeout 8 --max-time 10 http://goproxy.corp.example:8080/)"; cap_stop
}

# --- more go failures: HTTP 407/403 from the proxy, a pseudo-version, a stalled .mod, the checksum
# DB behind an SNI filter, and the SNI reset over IPv6
sc_gomod_auth_407() {
  # the proxy answers the .info request "407 Proxy Authentication Required" (+ Proxy-Authenticate)
  dns_start; gproxy 8080 auth-info; cap_start_dns gomod_auth_407.pcap
  log "go rc=$(gomod 20 http://goproxy.corp.example:8080)"; cap_stop 1.5
}
sc_gomod_auth_403() {
  # the proxy answers the .info request "403 Forbidden"
  dns_start; gproxy 8080 forbid-info; cap_start_dns gomod_auth_403.pcap
  log "go rc=$(gomod 20 http://goproxy.corp.example:8080)"; cap_stop 1.5
}
sc_gomod_pseudo_stall() {
  # as gomod_stall, for a module path with several uppercase letters (case-escaped on the wire:
  # corp.example/!my!org/!big!tool) at a pseudo-version
  local GO_MODULE=corp.example/MyOrg/BigTool GO_VERSION=v0.0.0-20240102030405-abcdefabcdef
  dns_start; gproxy 8080 stall-zip --hold 30 --time 2024-01-02T03:04:05Z
  cap_start_dns gomod_pseudo_stall.pcap
  log "go rc=$(gomod 8 http://goproxy.corp.example:8080)"; cap_stop 2
}
sc_gomod_stall_mod() {
  # the proxy answers .info, then never answers the .mod request
  dns_start; gproxy 8080 stall-mod --hold 30; cap_start_dns gomod_stall_mod.pcap
  log "go rc=$(gomod 8 http://goproxy.corp.example:8080)"; cap_stop 2
}
sc_sumdb_sni_reset() {
  # GOSUMDB=sum.golang.org: the module comes from the corp proxy; the proxy answers 404 to
  # /sumdb/sum.golang.org/supported, so go asks sum.golang.org:443 itself -- and the router resets
  # every ClientHello whose SNI is sum.golang.org
  local DNS_EXTRA=(--address=/sum.golang.org/$S4 --local=/sum.golang.org/)
  dns_start; mkcerts; gproxy 8080 ok
  gproxy 443 ok --tls-cert "$TMP/pki/chain.pem" --tls-key "$TMP/pki/leaf.key"
  inns tt-router iptables -A FORWARD -p tcp --dport 443 -m string --algo bm --string sum.golang.org \
    -j REJECT --reject-with tcp-reset
  cap_start_dns sumdb_sni_reset.pcap
  log "go rc=$(gomod 20 http://goproxy.corp.example:8080 GOSUMDB=sum.golang.org SSL_CERT_FILE="$TMP/pki/ca.pem")"
  cap_stop 1.5
  inns tt-router iptables -vnL FORWARD >&2
}
sc_ipv6_sni_reset() {
  # sni_reset over IPv6: proxy.golang.org also has AAAA fd77::2:20; ip6tables string match REJECT
  # tcp-reset. Control: SNI example.org (curl --resolve, no DNS) completes.
  local DNS_EXTRA=(--address=/proxy.golang.org/$S6)
  dns_start; mkcerts
  gproxy 443 ok --tls-cert "$TMP/pki/chain.pem" --tls-key "$TMP/pki/leaf.key"
  inns tt-router ip6tables -A FORWARD -p tcp --dport 443 -m string --algo bm --string proxy.golang.org \
    -j REJECT --reject-with tcp-reset
  cap_start_dns ipv6_sni_reset.pcap
  log "control curl rc=$(ccurl -6 -g -k --max-time 8 --resolve "example.org:443:[$S6]" https://example.org/)"
  sleep 0.5
  log "curl rc=$(ccurl -6 --cacert "$TMP/pki/ca.pem" --max-time 8 https://proxy.golang.org/)"
  cap_stop 1.5
  inns tt-router ip6tables -vnL FORWARD >&2
}

# --- TLS refused by an alert: the client does not trust the (inspection) CA; the server refuses the SNI
sc_gomod_untrusted_ca() {
  # the classic TLS-inspecting proxy: proxy.golang.org answers with a chain signed by "Corp Inspection
  # CA" (TLS 1.2, the certificate in the clear), but go gets NO SSL_CERT_FILE, so only the system roots:
  # x509: certificate signed by unknown authority -> go sends a fatal alert and closes
  dns_start; mkcerts
  gproxy 443 ok --tls-cert "$TMP/pki/chain.pem" --tls-key "$TMP/pki/leaf.key"
  cap_start_dns gomod_untrusted_ca.pcap
  log "go rc=$(gomod 20 https://proxy.golang.org)"; cap_stop 1.5
}
sc_tls_sni_alert() {
  # the TLS server accepts only the SNI proxy.golang.org; any other name is refused with a fatal
  # unrecognized_name (112) alert answering the ClientHello. Control: proxy.golang.org completes.
  local DNS_EXTRA=(--address=/blocked.corp.example/$S4 --local=/blocked.corp.example/)
  dns_start; mkcerts
  gproxy 443 ok --tls-cert "$TMP/pki/chain.pem" --tls-key "$TMP/pki/leaf.key" --sni-allow proxy.golang.org
  cap_start_dns tls_sni_alert.pcap
  log "control curl rc=$(ccurl --cacert "$TMP/pki/ca.pem" --max-time 8 https://proxy.golang.org/)"
  sleep 0.5
  log "curl rc=$(ccurl --cacert "$TMP/pki/ca.pem" --max-time 8 https://blocked.corp.example:443/)"
  cap_stop 1.5
}

ALL=(ok_download slow_ok syn_drop icmp_admin_prohibited icmp_port_unreachable closed_port
     accept_no_response accept_no_response_capture_ends accept_no_response_capture_cut tls_no_serverhello server_abort_mid_body
     receiver_stops_reading established_blackhole loss_ok any_sll2 snaplen96 mixed
     ipv6_ok ipv6_closed_port ipv6_syn_drop ipv6_admin_prohibited all_failures port_reuse
     server_stalls_mid_body return_path_blackhole client_abort_mid_transfer server_fin_no_answer
     icmp_host_unreachable
     dns_nxdomain dns_refused dns_timeout dns_ok_fetch sni_reset gomod_ok gomod_stall gomod_reset
     gomod_sni_reset gomod_syn_drop gomod_tls_stall gomod_fallback dns_servfail dns_tcp
     icmp_admin_named
     gomod_auth_407 gomod_auth_403 gomod_pseudo_stall gomod_stall_mod sumdb_sni_reset ipv6_sni_reset
     gomod_untrusted_ca tls_sni_alert)

if [ "${1:-}" = "--list" ]; then printf '%s\n' "${ALL[@]}"; exit 0; fi
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces, iptables, tcpdump)" >&2; exit 1; }
for t in ip iptables ip6tables tcpdump curl editcap "$PY"; do
  command -v "$t" >/dev/null || { echo "missing tool: $t" >&2; exit 1; }
done
SEL=("$@"); [ ${#SEL[@]} -gt 0 ] || SEL=("${ALL[@]}")
for s in "${SEL[@]}"; do
  declare -F "sc_$s" >/dev/null || { echo "unknown scenario: $s (try --list)" >&2; exit 1; }
done

trap on_exit EXIT
trap 'exit 130' INT TERM
TMP=$(mktemp -d /tmp/tt-captures.XXXXXX)
for s in "${SEL[@]}"; do
  log "=== $s"
  setup               # fresh namespaces per scenario: no stale sockets/retransmissions leak over
  "sc_$s"
  stop_servers
  teardown
done
log "done; curl messages:"; cat "$TMP/curl.log" >&2 || true
for f in go goproxy dnsmasq; do [ ! -s "$TMP/$f.log" ] || { log "$f log:"; cat "$TMP/$f.log" >&2; }; done
grep -v "^wire up" "$TMP/wire.log" >&2 || true
