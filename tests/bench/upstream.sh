#!/usr/bin/env bash
# mirrorball benchmark of issue 5 (upstream fall-through), in one run:
#   1) blob GET throughput of one big layer (BENCH_BIG_MIB, default 1024 MiB):
#        direct from the upstream docker-registry,
#        through mirrorball cold (streamed from upstream while mirrored into IPFS),
#        through mirrorball warm (served from IPFS),
#        through docker-registry's own pull-through mode (proxy.remoteurl) on the same upstream, cold and warm;
#   2) time to first byte of the cold big blob through mirrorball (target < 1 s);
#   3) manifest HEAD requests/s by tag, cached in mirrorball, vs docker-registry serving it itself.
# Everything runs on loopback: a Kubo node, two docker-registry processes, the gateway jar.
#
# usage: bash tests/bench/upstream.sh
# env:   BENCH_BIG_MIB (1024)  BENCH_HEADS (3000 per side)  BENCH_KEEP=1  MB_BUILD_DIR (target/)
#        MB_MVN_ARGS (e.g. -o)  BENCH_REBUILD=1  BENCH_RESULTS=FILE
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BUILD="${MB_BUILD_DIR:-$ROOT/target}"
BIG_MIB="${BENCH_BIG_MIB:-1024}"
HEADS="${BENCH_HEADS:-3000}"
# shellcheck disable=SC2206
MVN_ARGS=(${MB_MVN_ARGS:-})

die() { echo "bench: $*" >&2; exit 1; }
# shellcheck source=tests/bench/kubo.sh
. "$HERE/kubo.sh"
for tool in skopeo docker-registry curl java python3; do
  command -v "$tool" >/dev/null || die "$tool is missing: run bash tests/setup.sh"
done

WORK="$(mktemp -d /tmp/mb-bench-upstream.XXXXXX)"
PIDS=()
cleanup() {
  set +e
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  stop_kubo
  if [ "${BENCH_KEEP:-}" = 1 ]; then echo "bench: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
wait_http() { # url method seconds
  local deadline=$((SECONDS + $3))
  while [ $SECONDS -lt $deadline ]; do
    code=$(curl -s -o /dev/null -w '%{http_code}' -X "$2" --max-time 2 "$1" || true)
    case "$code" in 200|401) return 0;; esac
    sleep 0.2
  done
  return 1
}
calc() { python3 -c "import sys; print(sys.argv[1] % eval(sys.argv[2]))" "$1" "$2"; }
RESULTS="$WORK/results.txt"
: >"$RESULTS"
row() { printf '%-62s %s\n' "$1" "$2" | tee -a "$RESULTS"; }

# ---- build ----------------------------------------------------------------------------------------
JAR="$BUILD/mirrorball.jar"
if [ ! -f "$JAR" ] || [ ! -f "$BUILD/test-classes/io/mirrorball/bench/MakeLayout.class" ] \
   || [ "${BENCH_REBUILD:-}" = 1 ]; then
  echo "bench: building $JAR"
  (cd "$ROOT" && mvn -q -B "${MVN_ARGS[@]}" package -DskipTests -Dmb.buildDir="$BUILD")
fi
(cd "$ROOT" && mvn -q -B "${MVN_ARGS[@]}" dependency:build-classpath -Dmdep.includeScope=test \
   -Dmdep.outputFile="$WORK/cp.txt" -Dmb.buildDir="$BUILD" >/dev/null)
TEST_CP="$BUILD/test-classes:$BUILD/classes:$(cat "$WORK/cp.txt")"

mkdir -p "$WORK/skopeo/tmp"
echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$WORK/skopeo/policy.json"
echo '{"auths":{}}' >"$WORK/skopeo/auth.json"
sk_copy() { # src dst
  TMPDIR="$WORK/skopeo/tmp" skopeo --policy "$WORK/skopeo/policy.json" copy -q --authfile "$WORK/skopeo/auth.json" \
    --src-tls-verify=false --dest-tls-verify=false --retry-times 0 "$1" "$2" >/dev/null
}

# ---- Kubo node -----------------------------------------------------------------------------------
start_kubo "$WORK/ipfs" "$WORK/ipfs.log"
MFS_ROOT="/bench-upstream-$$"

# ---- upstream docker-registry with the image ------------------------------------------------------
start_registry() { # name port [proxy-url]
  mkdir -p "$WORK/$1"
  {
    echo "version: 0.1"
    echo "log: { level: warn, accesslog: { disabled: true } }"
    echo "storage: { filesystem: { rootdirectory: \"$WORK/$1/storage\" }, delete: { enabled: true } }"
    echo "http: { addr: \"127.0.0.1:$2\", secret: bench }"
    [ -n "${3:-}" ] && echo "proxy: { remoteurl: \"$3\" }"
  } >"$WORK/$1/config.yml"
  docker-registry serve "$WORK/$1/config.yml" >"$WORK/$1.log" 2>&1 </dev/null &
  PIDS+=($!)
  wait_http "http://127.0.0.1:$2/v2/" GET 30 || die "docker-registry $1 did not start: $(tail -5 "$WORK/$1.log")"
}
UP_PORT="$(free_port)"
start_registry upstream "$UP_PORT"
UP="127.0.0.1:$UP_PORT"
echo "bench: writing a ${BIG_MIB} MiB layer"
java -cp "$TEST_CP" io.mirrorball.bench.MakeLayout "$WORK/layout" big 1 $((BIG_MIB << 20)) >"$WORK/layout.txt"
read -r _ DIGEST SIZE < <(grep '^layer' "$WORK/layout.txt")
sk_copy "oci:$WORK/layout:big" "docker://$UP/bench/big:v1"
rm -rf "$WORK/layout"

# ---- mirrorball in front of it, and docker-registry's pull-through on the same upstream ------------
GW="127.0.0.1:$(free_port)"
mkdir -p "$WORK/gw" "$WORK/uploads"
unset_vars=()
for var in $(compgen -e | grep '^MIRRORBALL_' || true); do unset_vars+=(-u "$var"); done
(cd "$WORK/gw" && exec env "${unset_vars[@]}" MIRRORBALL_STORAGE_IPFS_NODE="$API" MIRRORBALL_HTTP_ADDR="$GW" \
   MIRRORBALL_STORAGE_UPLOADS_PATH="$WORK/uploads" MIRRORBALL_STORAGE_IPFS_MFS_ROOT="$MFS_ROOT" \
   MIRRORBALL_STORAGE_IPFS_EMBEDDED_PATH="$WORK/gw/embedded" MIRRORBALL_UPSTREAM_URL="http://$UP" \
   java -jar "$JAR" serve >>"$WORK/gateway.log" 2>&1 </dev/null) &
PIDS+=($!)
wait_http "http://$GW/v2/" GET 60 || die "gateway did not start: $(tail -20 "$WORK/gateway.log")"
PROXY_PORT="$(free_port)"
start_registry proxy "$PROXY_PORT" "http://$UP"
PROXY="127.0.0.1:$PROXY_PORT"

get() { # url -> "ttfb total bytes"
  curl -sf -o /dev/null -w '%{time_starttransfer} %{time_total} %{size_download}\n' "$1"
}
LAST=""
report() { # label "ttfb total bytes"; sets LAST to the total seconds
  read -r ttfb total bytes <<<"$2"
  [ "$bytes" = "$SIZE" ] || die "$1: got $bytes bytes, expected $SIZE"
  row "$1" "$(calc '%.1f MiB/s' "$bytes/1048576/$total") ($(calc '%.2f' "$total") s, first byte $(calc '%.3f' "$ttfb") s)"
  LAST="$total"
}
echo "bench: upstream $UP, mirrorball $GW, docker-registry proxy $PROXY, IPFS $API"
printf '%-62s %s\n' "measure" "value" | tee -a "$RESULTS"
row "blob" "$DIGEST ($SIZE bytes)"
path="/v2/bench/big/blobs/$DIGEST"
get "http://$UP$path" >/dev/null   # page cache warm for every side
report "1) direct from upstream docker-registry" "$(get "http://$UP$path")"; T_DIRECT=$LAST
COLD="$(get "http://$GW$path")"
report "1) mirrorball cold (streamed + mirrored into IPFS)" "$COLD"; T_COLD=$LAST
read -r COLD_TTFB _ <<<"$COLD"
hex="${DIGEST#sha256:}"
deadline=$((SECONDS + 600))
until curl -sf -X POST -o /dev/null "$API/api/v0/files/stat?arg=$MFS_ROOT/blobs/sha256/${hex:0:2}/$hex/data"; do
  [ $SECONDS -lt $deadline ] || die "the blob was not mirrored into IPFS within 600 s"
  sleep 0.5
done
report "1) mirrorball warm (from IPFS, digest verified)" "$(get "http://$GW$path")"; T_WARM=$LAST
report "1) docker-registry proxy mode cold" "$(get "http://$PROXY$path")"; T_PCOLD=$LAST
sleep 2
report "1) docker-registry proxy mode warm" "$(get "http://$PROXY$path")"; T_PWARM=$LAST
row "1) ratio mirrorball cold / direct (time; 1.0 = as fast)" "$(calc '%.2f' "$T_COLD/$T_DIRECT")"
row "1) ratio mirrorball cold / docker-registry proxy cold" "$(calc '%.2f' "$T_COLD/$T_PCOLD")"
row "1) ratio mirrorball warm / docker-registry proxy warm" "$(calc '%.2f' "$T_WARM/$T_PWARM")"
row "2) time to first byte, cold ${BIG_MIB} MiB blob via mirrorball" "$(calc '%.3f s' "$COLD_TTFB") (target < 1 s)"

# ---- 3) manifest HEAD by tag: cached in mirrorball vs docker-registry --------------------------------
heads() { # host [path] -> requests/s (4 keep-alive connections, HEADS requests in all)
  python3 - "$1" "$HEADS" "${2:-/v2/bench/big/manifests/v1}" <<'PY'
import http.client, sys, threading, time
host, total, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
accept = ("application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, "
          "application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json")
def worker(n, errors):
    c = http.client.HTTPConnection(host, timeout=10)
    for _ in range(n):
        c.request("HEAD", path, headers={"Accept": accept})
        r = c.getresponse(); r.read()
        if r.status != 200: errors.append(r.status)
errors = []
worker(50, errors)  # warm-up (and fills mirrorball's cache)
threads = [threading.Thread(target=worker, args=(total // 4, errors)) for _ in range(4)]
t = time.time()
for th in threads: th.start()
for th in threads: th.join()
dt = time.time() - t
if errors: sys.exit("HEAD failed: %s" % errors[:5])
print("%.0f" % (total / dt))
PY
}
R_UP=$(heads "$UP")
R_GW=$(heads "$GW")
row "3) manifest HEAD/s, docker-registry (its own storage)" "$R_UP"
row "3) manifest HEAD/s, mirrorball (tag cached, no upstream call)" "$R_GW"
row "3) ratio mirrorball / docker-registry" "$(calc '%.2f' "$R_GW/$R_UP")"
# where the time goes: the same chain without any storage call (/v2/), and the one IPFS call that every
# request for a non-local name makes before the fall-through (LocalRepositoryFilter: files/stat of the name)
row "3) for reference: HEAD /v2/ on mirrorball (filter chain, no storage)" "$(heads "$GW" /v2/)"
STATS=$(python3 - "$API" "$MFS_ROOT" <<'PY'
import http.client, sys, time, urllib.parse
api = urllib.parse.urlparse(sys.argv[1]); c = http.client.HTTPConnection(api.hostname, api.port, timeout=10)
n = 300; t = time.time()
for _ in range(n):
    c.request("POST", "/api/v0/files/stat?arg=" + urllib.parse.quote(sys.argv[2] + "/repositories/bench/big"))
    c.getresponse().read()
print("%.0f" % (n / (time.time() - t)))
PY
)
row "3) for reference: files/stat/s on the IPFS node (1 connection)" "$STATS"
if [ -n "${BENCH_RESULTS:-}" ]; then cp "$RESULTS" "$BENCH_RESULTS"; fi
