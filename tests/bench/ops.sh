#!/usr/bin/env bash
# mirrorball benchmark of issue 14 (operating it), in one run on loopback, each cost as a ratio to a
# baseline measured in the same run:
#   1) one blob of BENCH_BLOB_MIB (512) pulled from IPFS (warm), BENCH_ROUNDS (3) times each, best kept:
#      plain HTTP/1.1 (baseline), HTTPS HTTP/1.1, HTTPS HTTP/2 (curl, certificate from openssl);
#   2) manifest HEADs per second on one keep-alive connection (BENCH_HEADS, 3000): log.format text
#      (baseline) and json, with the access line of every request written;
#   3) /metrics scrape time after those requests, and online gc (POST /admin/gc?dry-run=true) time.
# Three gateways share one Kubo node and MFS root; only one is measured at a time.
#
# usage: bash tests/bench/ops.sh
# env:   BENCH_BLOB_MIB (512)  BENCH_ROUNDS (3)  BENCH_HEADS (3000)  BENCH_RESULTS=FILE, and lib.sh's
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BLOB_MIB="${BENCH_BLOB_MIB:-512}"
ROUNDS="${BENCH_ROUNDS:-3}"
HEADS="${BENCH_HEADS:-3000}"
. "$HERE/lib.sh"
need curl java python3 openssl sha256sum
bench_workdir mb-bench-ops
results_table 62
build_jar
start_kubo "$WORK/ipfs" "$WORK/ipfs.log"
MFS_ROOT="/bench-ops-$$"

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
  -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null

start_gateway ""; PLAIN="$GW"
GW_ENV=(MIRRORBALL_LOG_FORMAT=json); start_gateway ""; JSON="$GW"
GW_ENV=(MIRRORBALL_HTTP_TLS_CERTIFICATE="$WORK/cert.pem" MIRRORBALL_HTTP_TLS_KEY="$WORK/key.pem")
GW_SCHEME=https; start_gateway ""; TLS="$GW"

# one image: a config and one big layer, pushed through the plain gateway
file="$WORK/blob.bin"
head -c $((BLOB_MIB << 20)) /dev/urandom >"$file"
SIZE=$((BLOB_MIB << 20))
LAYER="sha256:$(sha256sum "$file" | cut -c1-64)"
curl -sf -o /dev/null -X POST --data-binary @"$file" -H 'Content-Type: application/octet-stream' \
  "http://$PLAIN/v2/bench/ops/blobs/uploads/?digest=$LAYER" || die "push of the layer failed"
rm -f "$file"
printf '{}' >"$WORK/config.json"
CONFIG="sha256:$(sha256sum "$WORK/config.json" | cut -c1-64)"
curl -sf -o /dev/null -X POST --data-binary @"$WORK/config.json" -H 'Content-Type: application/octet-stream' \
  "http://$PLAIN/v2/bench/ops/blobs/uploads/?digest=$CONFIG" || die "push of the config failed"
cat >"$WORK/manifest.json" <<JSON
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"$CONFIG","size":2},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"$LAYER","size":$SIZE}]}
JSON
curl -sf -o /dev/null -X PUT --data-binary @"$WORK/manifest.json" \
  -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' "http://$PLAIN/v2/bench/ops/manifests/v1" \
  || die "push of the manifest failed"

best() { # curl-options... -> the best total seconds of ROUNDS whole-blob GETs (size checked)
  local t best_t="" bytes
  for _ in $(seq "$ROUNDS"); do
    read -r t bytes < <(curl -sfk -o /dev/null -w '%{time_total} %{size_download}\n' "$@")
    [ "$bytes" = "$SIZE" ] || die "GET $*: $bytes bytes, expected $SIZE"
    if [ -z "$best_t" ] || python3 -c "import sys; sys.exit(0 if $t < $best_t else 1)"; then best_t=$t; fi
  done
  echo "$best_t"
}
path="/v2/bench/ops/blobs/$LAYER"
echo "bench: $BLOB_MIB MiB blob, $ROUNDS rounds each"
plain=$(best --http1.1 "http://$PLAIN$path")
row "blob GET plain HTTP/1.1 (baseline)" "$(calc '%.1f MiB/s' "$BLOB_MIB/$plain")"
h1=$(best --http1.1 "https://$TLS$path")
row "blob GET HTTPS HTTP/1.1" "$(calc '%.1f MiB/s' "$BLOB_MIB/$h1")"
h2=$(best --http2 "https://$TLS$path")
row "blob GET HTTPS HTTP/2" "$(calc '%.1f MiB/s' "$BLOB_MIB/$h2")"
proto=$(curl -sk -o /dev/null -w '%{http_version}' --http2 "https://$TLS/v2/")
row "protocol curl negotiated with --http2" "$proto"
row "ratio HTTPS HTTP/1.1 / plain (time; 1.0 = as fast)" "$(calc '%.2f' "$h1/$plain")"
row "ratio HTTPS HTTP/2 / plain (time)" "$(calc '%.2f' "$h2/$plain")"

heads() { # host:port -> HEADs per second on one connection
  python3 - "$1" "$HEADS" <<'PY'
import http.client, sys, time
host, port = sys.argv[1].rsplit(":", 1); n = int(sys.argv[2])
c = http.client.HTTPConnection(host, int(port), timeout=30)
accept = {"Accept": "application/vnd.oci.image.manifest.v1+json"}
for _ in range(100):
    c.request("HEAD", "/v2/bench/ops/manifests/v1", headers=accept); r = c.getresponse(); r.read()
start = time.perf_counter()
for _ in range(n):
    c.request("HEAD", "/v2/bench/ops/manifests/v1", headers=accept); r = c.getresponse(); r.read()
    assert r.status == 200, r.status
print("%.0f" % (n / (time.perf_counter() - start)))
PY
}
text=$(heads "$PLAIN"); json=$(heads "$JSON")
row "manifest HEAD/s, log.format text (baseline)" "$text"
row "manifest HEAD/s, log.format json" "$json"
row "ratio json / text (rate; 1.0 = as fast)" "$(calc '%.2f' "$json/$text")"
grep -q '"status":200' "$WORK/gateway.log" || die "no JSON access line in the gateway log"

scrape=$(curl -sf -o "$WORK/metrics.txt" -w '%{time_total}' "http://$PLAIN/metrics")
row "GET /metrics after the run" "$(calc '%.3f s' "$scrape"), $(wc -l <"$WORK/metrics.txt") lines"
gc=$(curl -sf -o "$WORK/gc.json" -w '%{time_total}' -X POST "http://$PLAIN/admin/gc?dry-run=true")
row "online gc dry run (POST /admin/gc?dry-run=true)" "$(calc '%.3f s' "$gc")"
save_results
