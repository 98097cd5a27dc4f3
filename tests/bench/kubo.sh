# Sourced by the bench scripts: starts and stops a Kubo daemon on loopback, as the tests do
# (testing/KuboNode): `ipfs init --profile test` (no bootstrap peers, no MDNS; API, gateway and swarm
# on 127.0.0.1 with ports the OS picks), no DHT. The binary is tests/.kit/bin/ipfs, built by
# tests/setup.sh, or $MIRRORBALL_KUBO.
KUBO="${MIRRORBALL_KUBO:-$ROOT/tests/.kit/bin/ipfs}"
KUBO_PID=""
KUBO_REPO=""

# start_kubo REPO LOG: sets KUBO_PID, KUBO_REPO and API (http://127.0.0.1:<port>)
start_kubo() {
  [ -x "$KUBO" ] || die "Kubo not installed at $KUBO: run bash tests/setup.sh"
  KUBO_REPO="$1"
  IPFS_PATH="$1" IPFS_TELEMETRY=off "$KUBO" init --profile test >"$2" 2>&1 || die "ipfs init failed: $(tail -5 "$2")"
  IPFS_PATH="$1" "$KUBO" config Routing.Type none >>"$2" 2>&1 || die "ipfs config failed: $(tail -5 "$2")"
  IPFS_PATH="$1" IPFS_TELEMETRY=off "$KUBO" daemon >>"$2" 2>&1 </dev/null &
  KUBO_PID=$!
  local deadline=$((SECONDS + 60))
  until grep -q 'Daemon is ready' "$2"; do
    kill -0 "$KUBO_PID" 2>/dev/null || die "Kubo daemon exited: $(tail -5 "$2")"
    [ $SECONDS -lt $deadline ] || die "Kubo daemon did not start within 60 s: $(tail -5 "$2")"
    sleep 0.2
  done
  # the API file holds the RPC multiaddr, /ip4/127.0.0.1/tcp/<port>
  API="http://127.0.0.1:$(sed -E 's#^/ip4/127\.0\.0\.1/tcp/([0-9]+)$#\1#' "$1/api")"
}

# stop_kubo: SIGTERM (Kubo shuts down cleanly), SIGKILL after 20 s
stop_kubo() {
  [ -n "$KUBO_PID" ] || return 0
  kill "$KUBO_PID" 2>/dev/null
  for _ in $(seq 1 100); do kill -0 "$KUBO_PID" 2>/dev/null || break; sleep 0.2; done
  kill -9 "$KUBO_PID" 2>/dev/null
  wait "$KUBO_PID" 2>/dev/null
  KUBO_PID=""
}
