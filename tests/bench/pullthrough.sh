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
#        BENCH_REBUILD=1
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BUILD="${MB_BUILD_DIR:-$ROOT/target}"
BIG_MIB="${BENCH_BIG_MIB:-1024}"
CONC_MIB="${BENCH_CONC_MIB:-256}"
CLIENTS="${BENCH_CLIENTS:-50}"
PARTS="${BENCH_PARTS:-ac}"
# shellcheck disable=SC2206
MVN_ARGS=(${MB_MVN_ARGS:-})
MVN=(mvn)
if [ -n "${MB_MVN_LOCK:-}" ]; then MVN=(flock "$MB_MVN_LOCK" mvn); fi

die() { echo "bench: $*" >&2; exit 1; }
# shellcheck source=tests/bench/kubo.sh
. "$HERE/kubo.sh"
for tool in docker-registry curl java python3 sha256sum; do
  command -v "$tool" >/dev/null || die "$tool is missing: run bash tests/setup.sh"
done

WORK="$(mktemp -d /tmp/mb-bench-pullthrough.XXXXXX)"
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
row() { printf '%-66s %s\n' "$1" "$2" | tee -a "$RESULTS"; }

# ---- build ----------------------------------------------------------------------------------------
JAR="$BUILD/mirrorball.jar"
if [ ! -f "$JAR" ] || [ "${BENCH_REBUILD:-}" = 1 ]; then
  echo "bench: building $JAR"
  (cd "$ROOT" && "${MVN[@]}" -q -B "${MVN_ARGS[@]}" package -DskipTests -Dmb.buildDir="$BUILD")
fi

# ---- Kubo node, upstream docker-registry with the blobs ----------------------------------------------
start_kubo "$WORK/ipfs" "$WORK/ipfs.log"
MFS_ROOT="/bench-pullthrough-$$"

start_registry() { # name port [proxy-url]; the access log (one line per finished request) goes to $WORK/name.log
  mkdir -p "$WORK/$1"
  {
    echo "version: 0.1"
    echo "log: { level: info, accesslog: { disabled: false } }"
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
report() { # label "ttfb total bytes" size; sets LAST to the total seconds
  read -r ttfb total bytes <<<"$2"
  [ "$bytes" = "$3" ] || die "$1: got $bytes bytes, expected $3"
  row "$1" "$(calc '%.1f MiB/s' "$bytes/1048576/$total") ($(calc '%.2f' "$total") s, first byte $(calc '%.3f' "$ttfb") s)"
  LAST="$total"
}
upstream_gets() { # digest -> GETs of that blob the upstream finished so far
  grep -c "\"GET /v2/[^ ]*/blobs/$1 " "$WORK/upstream.log" || true
}
await_mirrored() { # digest
  local hex="${1#sha256:}" deadline=$((SECONDS + 600))
  until curl -sf -X POST -o /dev/null "$API/api/v0/files/stat?arg=$MFS_ROOT/blobs/sha256/${hex:0:2}/$hex/data"; do
    [ $SECONDS -lt $deadline ] || die "$1 was not mirrored into IPFS within 600 s"
    sleep 0.5
  done
}
echo "bench: upstream $UP, mirrorball $GW, docker-registry proxy $PROXY, IPFS $API"
printf '%-66s %s\n' "measure" "value" | tee -a "$RESULTS"
BIG_SIZE=$((BIG_MIB << 20))
CONC_SIZE=$((CONC_MIB << 20))
if [[ $PARTS == *a* ]]; then
  row "big blob" "$BIG ($BIG_SIZE bytes)"
  path="/v2/bench/big/blobs/$BIG"
  get "http://$UP$path" >/dev/null   # page cache warm for every side
  report "a) direct from upstream docker-registry" "$(get "http://$UP$path")" "$BIG_SIZE"; T_DIRECT=$LAST
  COLD="$(get "http://$GW$path")"
  report "a) mirrorball cold (streamed + mirrored into IPFS)" "$COLD" "$BIG_SIZE"; T_COLD=$LAST
  read -r COLD_TTFB _ <<<"$COLD"
  await_mirrored "$BIG"
  report "a) mirrorball warm (from IPFS, digest verified)" "$(get "http://$GW$path")" "$BIG_SIZE"; T_WARM=$LAST
  report "a) docker-registry proxy mode cold" "$(get "http://$PROXY$path")" "$BIG_SIZE"; T_PCOLD=$LAST
  sleep 2
  report "a) docker-registry proxy mode warm" "$(get "http://$PROXY$path")" "$BIG_SIZE"; T_PWARM=$LAST
  row "a) ratio mirrorball cold / direct (time; 1.0 = as fast)" "$(calc '%.2f' "$T_COLD/$T_DIRECT")"
  row "a) ratio mirrorball cold / docker-registry proxy cold" "$(calc '%.2f' "$T_COLD/$T_PCOLD")"
  row "a) ratio mirrorball warm / docker-registry proxy warm" "$(calc '%.2f' "$T_WARM/$T_PWARM")"
  row "b) time to first byte, cold ${BIG_MIB} MiB blob via mirrorball" "$(calc '%.3f s' "$COLD_TTFB") (target < 0.3 s)"
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
if [ -n "${BENCH_RESULTS:-}" ]; then cp "$RESULTS" "$BENCH_RESULTS"; fi
