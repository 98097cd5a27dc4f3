# Sourced by the bench scripts (upstream.sh, pullthrough.sh; bench.sh for the first part) after they set
# HERE and ROOT: their start-up (work folder and cleanup, the jar, Kubo, skopeo, docker-registry, the
# gateway) and the blob measurements they share. Everything runs on loopback.
# env: MB_BUILD_DIR (target/)  MB_MVN_ARGS (e.g. -o)  MB_MVN_LOCK (a file: every mvn runs under flock on it)
#      BENCH_REBUILD=1  BENCH_KEEP=1 (keep the work folder)  BENCH_DRY_RUN=1 (start up, then stop before measuring)
BUILD="${MB_BUILD_DIR:-$ROOT/target}"
# shellcheck disable=SC2206
MVN_ARGS=(${MB_MVN_ARGS:-})
MVN=(mvn)
if [ -n "${MB_MVN_LOCK:-}" ]; then MVN=(flock "$MB_MVN_LOCK" mvn); fi

die() { echo "bench: $*" >&2; exit 1; }
# shellcheck source=tests/bench/kubo.sh
. "$HERE/kubo.sh"

need() { # tool...: dies naming the first one missing
  for tool in "$@"; do
    command -v "$tool" >/dev/null || die "$tool is missing: run bash tests/setup.sh"
  done
}

# bench_workdir NAME: a new WORK folder /tmp/NAME.XXXXXX, PIDS (every server started, stopped at exit), and
# the cleanup at exit: those processes, Kubo, then WORK unless BENCH_KEEP=1
bench_workdir() {
  WORK="$(mktemp -d "/tmp/$1.XXXXXX")"
  PIDS=()
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}
bench_cleanup() {
  set +e
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  stop_kubo
  if [ "${BENCH_KEEP:-}" = 1 ]; then echo "bench: kept $WORK"; else rm -rf "$WORK"; fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
wait_http() { # url method seconds
  local deadline=$((SECONDS + $3))
  while [ $SECONDS -lt $deadline ]; do
    code=$(curl -sk -o /dev/null -w '%{http_code}' -X "$2" --max-time 2 "$1" || true)
    case "$code" in 200|401) return 0;; esac
    sleep 0.2
  done
  return 1
}
calc() { python3 -c "import sys; print(sys.argv[1] % eval(sys.argv[2]))" "$1" "$2"; }

# results_table WIDTH: RESULTS in WORK, and row LABEL VALUE prints a row (labels WIDTH wide) and keeps it
results_table() {
  ROW_WIDTH="$1"
  RESULTS="$WORK/results.txt"
  : >"$RESULTS"
}
row() { printf "%-${ROW_WIDTH}s %s\n" "$1" "$2" | tee -a "$RESULTS"; }
save_results() { if [ -n "${BENCH_RESULTS:-}" ]; then cp "$RESULTS" "$BENCH_RESULTS"; fi; }

# build_jar [--test-classpath]: JAR, built when missing (or BENCH_REBUILD=1); with --test-classpath also the
# test classes (io.mirrorball.bench.*) and TEST_CP to run them
build_jar() {
  JAR="$BUILD/mirrorball.jar"
  if [ ! -f "$JAR" ] || [ "${BENCH_REBUILD:-}" = 1 ] \
     || { [ "${1:-}" = --test-classpath ] && [ ! -f "$BUILD/test-classes/io/mirrorball/bench/MakeLayout.class" ]; }; then
    echo "bench: building $JAR"
    (cd "$ROOT" && "${MVN[@]}" -q -B "${MVN_ARGS[@]}" package -DskipTests -Dmb.buildDir="$BUILD")
  fi
  if [ "${1:-}" = --test-classpath ]; then
    (cd "$ROOT" && "${MVN[@]}" -q -B "${MVN_ARGS[@]}" dependency:build-classpath -Dmdep.includeScope=test \
       -Dmdep.outputFile="$WORK/cp.txt" -Dmb.buildDir="$BUILD" >/dev/null)
    TEST_CP="$BUILD/test-classes:$BUILD/classes:$(cat "$WORK/cp.txt")"
  fi
}

skopeo_init() { # skopeo isolated from the host's configuration: sk_copy SRC DST
  mkdir -p "$WORK/skopeo/tmp"
  echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$WORK/skopeo/policy.json"
  echo '{"auths":{}}' >"$WORK/skopeo/auth.json"
}
sk_copy() { # src dst
  TMPDIR="$WORK/skopeo/tmp" skopeo --policy "$WORK/skopeo/policy.json" copy -q --authfile "$WORK/skopeo/auth.json" \
    --src-tls-verify=false --dest-tls-verify=false --retry-times 0 "$1" "$2" >/dev/null
}

# start_registry NAME PORT [PROXY-URL]: docker-registry with filesystem storage in $WORK/NAME, its log in
# $WORK/NAME.log; REGISTRY_LOG is its log setting (default: warnings, no access log)
REGISTRY_LOG="level: warn, accesslog: { disabled: true }"
start_registry() {
  mkdir -p "$WORK/$1"
  {
    echo "version: 0.1"
    echo "log: { $REGISTRY_LOG }"
    echo "storage: { filesystem: { rootdirectory: \"$WORK/$1/storage\" }, delete: { enabled: true } }"
    echo "http: { addr: \"127.0.0.1:$2\", secret: bench }"
    [ -n "${3:-}" ] && echo "proxy: { remoteurl: \"$3\" }"
  } >"$WORK/$1/config.yml"
  docker-registry serve "$WORK/$1/config.yml" >"$WORK/$1.log" 2>&1 </dev/null &
  PIDS+=($!)
  wait_http "http://127.0.0.1:$2/v2/" GET 30 || die "docker-registry $1 did not start: $(tail -5 "$WORK/$1.log")"
}

# start_gateway UPSTREAM-URL [JAVA-OPTION...]: the jar on the node $API ($MFS_ROOT), in front of that upstream
# (none when empty); sets GW, GW_PORT and GATEWAY_PID (also in PIDS); its log goes to $WORK/gateway.log.
# GW_ENV (an array of NAME=VALUE) adds configuration; GW_SCHEME (http) is how start-up is awaited.
GW_ENV=()
GW_SCHEME=http
start_gateway() {
  GW_PORT="$(free_port)"
  GW="127.0.0.1:$GW_PORT"
  mkdir -p "$WORK/gw" "$WORK/uploads"
  local upstream=()
  if [ -n "$1" ]; then upstream=(MIRRORBALL_UPSTREAM_URL="$1"); fi
  shift
  # the gateway rejects unknown MIRRORBALL_* variables: pass only the ones set here
  local unset_vars=()
  for var in $(compgen -e | grep '^MIRRORBALL_' || true); do unset_vars+=(-u "$var"); done
  (cd "$WORK/gw" && exec env "${unset_vars[@]}" MIRRORBALL_STORAGE_IPFS_NODE="$API" MIRRORBALL_HTTP_ADDR="$GW" \
     MIRRORBALL_STORAGE_UPLOADS_PATH="$WORK/uploads" MIRRORBALL_STORAGE_IPFS_MFS_ROOT="$MFS_ROOT" \
     MIRRORBALL_STORAGE_IPFS_EMBEDDED_PATH="$WORK/gw/embedded" "${upstream[@]}" "${GW_ENV[@]}" \
     java "$@" -jar "$JAR" serve >>"$WORK/gateway.log" 2>&1 </dev/null) &
  GATEWAY_PID=$!
  PIDS+=("$GATEWAY_PID")
  wait_http "$GW_SCHEME://$GW/v2/" GET 60 || die "gateway did not start: $(tail -20 "$WORK/gateway.log")"
}

# started_up: the end of start-up; with BENCH_DRY_RUN=1 the script stops here, before measuring anything
started_up() {
  echo "bench: upstream $UP, mirrorball $GW, docker-registry proxy $PROXY, IPFS $API"
  if [ "${BENCH_DRY_RUN:-}" = 1 ]; then
    echo "bench: started up; BENCH_DRY_RUN=1, so nothing is measured"
    exit 0
  fi
}

get() { # url -> "ttfb total bytes"
  curl -sf -o /dev/null -w '%{time_starttransfer} %{time_total} %{size_download}\n' "$1"
}
LAST=""
report() { # label "ttfb total bytes" size; sets LAST to the total seconds
  local ttfb total bytes
  read -r ttfb total bytes <<<"$2"
  [ "$bytes" = "$3" ] || die "$1: got $bytes bytes, expected $3"
  row "$1" "$(calc '%.1f MiB/s' "$bytes/1048576/$total") ($(calc '%.2f' "$total") s, first byte $(calc '%.3f' "$ttfb") s)"
  LAST="$total"
}
await_mirrored() { # digest: until mirrorball has it in IPFS (600 s at most)
  local hex="${1#sha256:}" deadline=$((SECONDS + 600))
  until curl -sf -X POST -o /dev/null "$API/api/v0/files/stat?arg=$MFS_ROOT/blobs/sha256/${hex:0:2}/$hex/data"; do
    [ $SECONDS -lt $deadline ] || die "$1 was not mirrored into IPFS within 600 s"
    sleep 0.5
  done
}

# big_blob THROUGHPUT-PREFIX TTFB-LABEL TTFB-TARGET DIGEST SIZE: one big blob of bench/big from the upstream
# ($UP) direct, through mirrorball ($GW) cold and warm, and through docker-registry's proxy ($PROXY) cold and
# warm; rows of each, the ratios, and mirrorball's cold time to first byte
big_blob() {
  local p="$1" path="/v2/bench/big/blobs/$4" size="$5" cold cold_ttfb direct t_cold warm pcold
  get "http://$UP$path" >/dev/null   # page cache warm for every side
  report "$p direct from upstream docker-registry" "$(get "http://$UP$path")" "$size"; direct=$LAST
  cold="$(get "http://$GW$path")"
  report "$p mirrorball cold (streamed + mirrored into IPFS)" "$cold" "$size"; t_cold=$LAST
  read -r cold_ttfb _ <<<"$cold"
  await_mirrored "$4"
  report "$p mirrorball warm (from IPFS, digest verified)" "$(get "http://$GW$path")" "$size"; warm=$LAST
  report "$p docker-registry proxy mode cold" "$(get "http://$PROXY$path")" "$size"; pcold=$LAST
  sleep 2
  report "$p docker-registry proxy mode warm" "$(get "http://$PROXY$path")" "$size"
  row "$p ratio mirrorball cold / direct (time; 1.0 = as fast)" "$(calc '%.2f' "$t_cold/$direct")"
  row "$p ratio mirrorball cold / docker-registry proxy cold" "$(calc '%.2f' "$t_cold/$pcold")"
  row "$p ratio mirrorball warm / docker-registry proxy warm" "$(calc '%.2f' "$warm/$LAST")"
  row "$2" "$(calc '%.3f s' "$cold_ttfb") ($3)"
}
