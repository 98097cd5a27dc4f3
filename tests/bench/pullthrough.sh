#!/usr/bin/env bash
# mirrorball benchmark of issue 13 (a production pull-through mirror), in one run, measured with curl:
#   a) blob GET throughput of one big blob (BENCH_BIG_MIB, default 1024 MiB of random bytes):
#        direct from the upstream docker-registry,
#        through mirrorball cold (streamed from upstream while mirrored into IPFS) and warm (from IPFS),
#        through docker-registry's own pull-through mode (proxy.remoteurl) on the same upstream, cold and warm;
#   b) time to first byte of that cold big blob through mirrorball (target < 0.3 s);
#   c) BENCH_CLIENTS (50) concurrent cold pulls of another blob (BENCH_CONC_MIB, default 256 MiB): each
#      client's time to first byte and total, every copy's sha256, and the upstream GETs they caused
#      (target: 1, every first byte within 1 s), through mirrorball and through docker-registry's proxy mode.
# Everything runs on loopback: a Kubo node, two docker-registry processes, the gateway jar. The blobs are
# pushed to the upstream as bare blobs (no manifest): the blob route is what is measured.
#
# usage: bash tests/bench/pullthrough.sh
# env:   BENCH_PARTS (ac: a and b, c)  BENCH_BIG_MIB (1024)  BENCH_CONC_MIB (256)  BENCH_CLIENTS (50)  BENCH_KEEP=1  BENCH_RESULTS=FILE
#        MB_BUILD_DIR (target/)  MB_MVN_ARGS (e.g. -o)  MB_MVN_LOCK (a file: every mvn runs under flock on it)
#        BENCH_REBUILD=1  BENCH_DRY_RUN=1 (start up, then stop before measuring; see lib.sh)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BIG_MIB="${BENCH_BIG_MIB:-1024}"
CONC_MIB="${BENCH_CONC_MIB:-256}"
CLIENTS="${BENCH_CLIENTS:-50}"
PARTS="${BENCH_PARTS:-ac}"
# shellcheck source=tests/bench/lib.sh
. "$HERE/lib.sh"
need docker-registry curl java python3 sha256sum
bench_workdir mb-bench-pullthrough
results_table 66
build_jar

# ---- Kubo node, upstream docker-registry with the blobs ----------------------------------------------
start_kubo "$WORK/ipfs" "$WORK/ipfs.log"
MFS_ROOT="/bench-pullthrough-$$"

REGISTRY_LOG="level: info, accesslog: { disabled: false }"   # one line per finished request: upstream_gets
UP_PORT="$(free_port)"
start_registry upstream "$UP_PORT"
UP="127.0.0.1:$UP_PORT"

push_blob() { # repo MiB -> prints the digest; random bytes, streamed from a file with curl -T
  local file="$WORK/blob.bin" digest loc
  head -c $(($2 << 20)) /dev/urandom >"$file"
  digest="sha256:$(sha256sum "$file" | cut -c1-64)"
  loc=$(curl -sf -X POST -D - -o /dev/null "http://$UP/v2/$1/blobs/uploads/" | tr -d '\r' \
        | awk 'tolower($1) == "location:" { print $2 }')
  case "$loc" in http*) ;; *) loc="http://$UP$loc" ;; esac
  curl -sf -o /dev/null -T "$file" -H 'Content-Type: application/octet-stream' "$loc&digest=$digest" \
    || die "push of a $2 MiB blob to $1 failed"
  rm -f "$file"
  echo "$digest"
}
echo "bench: pushing the blobs to the upstream"
[[ $PARTS == *a* ]] && BIG="$(push_blob bench/big "$BIG_MIB")"
[[ $PARTS == *c* ]] && CONC="$(push_blob bench/conc "$CONC_MIB")"

# ---- mirrorball in front of it, and docker-registry's pull-through on the same upstream ------------
start_gateway "http://$UP"
PROXY_PORT="$(free_port)"
start_registry proxy "$PROXY_PORT" "http://$UP"
PROXY="127.0.0.1:$PROXY_PORT"

upstream_gets() { # digest -> GETs of that blob the upstream finished so far
  grep -c "\"GET /v2/[^ ]*/blobs/$1 " "$WORK/upstream.log" || true
}
started_up
row "measure" "value"
BIG_SIZE=$((BIG_MIB << 20))
CONC_SIZE=$((CONC_MIB << 20))
if [[ $PARTS == *a* ]]; then
  row "big blob" "$BIG ($BIG_SIZE bytes)"
  big_blob "a)" "b) time to first byte, cold ${BIG_MIB} MiB blob via mirrorball" "target < 0.3 s" "$BIG" "$BIG_SIZE"
fi

# ---- c) concurrent cold pulls of one blob -------------------------------------------------------------
concurrent() { # label host: CLIENTS curls at once, each "ttfb total bytes status sha256" in $WORK/conc-label/
  local dir="$WORK/conc-$1" pids=() i before after
  mkdir -p "$dir"
  before=$(upstream_gets "$CONC")
  for i in $(seq 1 "$CLIENTS"); do
    (curl -s -w '%{stderr}%{time_starttransfer} %{time_total} %{size_download} %{http_code}' \
       "http://$2/v2/bench/conc/blobs/$CONC" 2>"$dir/$i.w" | sha256sum | cut -c1-64 >"$dir/$i.sha") &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i"; done
  sleep 1   # the access log line is written when the request finished
  after=$(upstream_gets "$CONC")
  python3 - "$dir" "$CLIENTS" "$CONC" "$CONC_SIZE" <<'PY' | while IFS='|' read -r label value; do row "c) $1: $label" "$value"; done
import os, statistics, sys
d, n, digest, size = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
ttfb, total, bad = [], [], 0
for i in range(1, n + 1):
    t, tot, b, status = open(os.path.join(d, "%d.w" % i)).read().split()
    sha = open(os.path.join(d, "%d.sha" % i)).read().strip()
    ttfb.append(float(t)); total.append(float(tot))
    if status != "200" or int(b) != size or "sha256:" + sha != digest:
        bad += 1
q = statistics.quantiles(ttfb, n=10)
print("first byte min/median/p90/max|%.3f / %.3f / %.3f / %.3f s" % (min(ttfb), statistics.median(ttfb), q[-1], max(ttfb)))
print("clients with first byte within 1 s|%d of %d" % (sum(1 for t in ttfb if t < 1), n))
print("last client done|%.2f s (%.0f MiB/s to all clients together)" % (max(total), n * size / 1048576 / max(total)))
print("copies with a wrong status, length or sha256|%d" % bad)
PY
  row "c) $1: upstream GETs of the blob" "$((after - before)) (target 1)"
}
if [[ $PARTS == *c* ]]; then
  row "concurrent blob" "$CONC ($CONC_SIZE bytes, $CLIENTS clients)"
  concurrent mirrorball "$GW"
  concurrent "docker-registry proxy" "$PROXY"
fi
save_results
