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
#        MB_MVN_ARGS (e.g. -o)  MB_MVN_LOCK (a file: every mvn runs under flock on it)  BENCH_REBUILD=1
#        BENCH_RESULTS=FILE  BENCH_DRY_RUN=1 (start up, then stop before measuring; see lib.sh)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BIG_MIB="${BENCH_BIG_MIB:-1024}"
HEADS="${BENCH_HEADS:-3000}"
# shellcheck source=tests/bench/lib.sh
. "$HERE/lib.sh"
need skopeo docker-registry curl java python3
bench_workdir mb-bench-upstream
results_table 62
build_jar --test-classpath

skopeo_init

# ---- Kubo node -----------------------------------------------------------------------------------
start_kubo "$WORK/ipfs" "$WORK/ipfs.log"
MFS_ROOT="/bench-upstream-$$"

# ---- upstream docker-registry with the image ------------------------------------------------------
UP_PORT="$(free_port)"
start_registry upstream "$UP_PORT"
UP="127.0.0.1:$UP_PORT"
echo "bench: writing a ${BIG_MIB} MiB layer"
java -cp "$TEST_CP" io.mirrorball.bench.MakeLayout "$WORK/layout" big 1 $((BIG_MIB << 20)) >"$WORK/layout.txt"
read -r _ DIGEST SIZE < <(grep '^layer' "$WORK/layout.txt")
sk_copy "oci:$WORK/layout:big" "docker://$UP/bench/big:v1"
rm -rf "$WORK/layout"

# ---- mirrorball in front of it, and docker-registry's pull-through on the same upstream ------------
start_gateway "http://$UP"
PROXY_PORT="$(free_port)"
start_registry proxy "$PROXY_PORT" "http://$UP"
PROXY="127.0.0.1:$PROXY_PORT"

started_up
row "measure" "value"
row "blob" "$DIGEST ($SIZE bytes)"
big_blob "1)" "2) time to first byte, cold ${BIG_MIB} MiB blob via mirrorball" "target < 1 s" "$DIGEST" "$SIZE"

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
save_results
