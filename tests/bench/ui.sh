#!/usr/bin/env bash
# mirrorball benchmark of issue 15 (the web page), in one run on loopback against real Kubo: BENCH_REPOS
# repositories (200) of BENCH_TAGS tags (3) each are pushed with curl, then each page is timed against
# the registry API's own listing as the baseline, measured in the same run:
#   GET /v2/_catalog?n=100000 (baseline), /ui/ cold (listing and store usage read) and warm (cached),
#   /ui/?q= (server-side search), /ui/r/<name> (tags with media type, platforms, size), an image page,
#   and /ui/ right after a push (the listing is read again; a page waits for it at most 1 s).
# Each is the median of BENCH_ROUNDS (20) requests (cold: the first request after start-up and one after
# each cache expiry is not repeated: one sample).
#
# usage: bash tests/bench/ui.sh
# env:   BENCH_REPOS (200)  BENCH_TAGS (3)  BENCH_ROUNDS (20)  BENCH_RESULTS=FILE, and lib.sh's
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
REPOS="${BENCH_REPOS:-200}"
TAGS="${BENCH_TAGS:-3}"
ROUNDS="${BENCH_ROUNDS:-20}"
. "$HERE/lib.sh"
need curl java python3 sha256sum
bench_workdir mb-bench-ui
results_table 58
build_jar
start_kubo "$WORK/ipfs" "$WORK/ipfs.log"
MFS_ROOT="/bench-ui-$$"
start_gateway ""
if [ "${BENCH_DRY_RUN:-}" = 1 ]; then echo "bench: started up; BENCH_DRY_RUN=1, so nothing is measured"; exit 0; fi

# one config and one small layer shared by every image; each tag's manifest differs by an annotation
printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}' >"$WORK/config.json"
head -c 4096 /dev/urandom >"$WORK/layer.bin"
CONFIG="sha256:$(sha256sum "$WORK/config.json" | cut -c1-64)"; CONFIG_SIZE=$(stat -c %s "$WORK/config.json")
LAYER="sha256:$(sha256sum "$WORK/layer.bin" | cut -c1-64)"
echo "bench: pushing $REPOS repositories x $TAGS tags"
for r in $(seq "$REPOS"); do
  repo="team-$((r % 10))/app-$r"
  curl -sf -o /dev/null -X POST --data-binary @"$WORK/config.json" "http://$GW/v2/$repo/blobs/uploads/?digest=$CONFIG" \
    || die "config push to $repo failed"
  curl -sf -o /dev/null -X POST --data-binary @"$WORK/layer.bin" "http://$GW/v2/$repo/blobs/uploads/?digest=$LAYER" \
    || die "layer push to $repo failed"
  for t in $(seq "$TAGS"); do
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":4096}],"annotations":{"n":"%s-%s"}}' \
      "$CONFIG" "$CONFIG_SIZE" "$LAYER" "$r" "$t" >"$WORK/manifest.json"
    curl -sf -o /dev/null -X PUT --data-binary @"$WORK/manifest.json" \
      -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' "http://$GW/v2/$repo/manifests/v$t" \
      || die "manifest push to $repo:v$t failed"
  done
done

# a fresh gateway on the same MFS root: nothing cached, the push history read from disk
kill "$GATEWAY_PID"; wait "$GATEWAY_PID" 2>/dev/null || true
start_gateway ""

once() { # path -> seconds (checks 200)
  local out
  out=$(curl -s -o "$WORK/page.html" -w '%{http_code} %{time_total}' "http://$GW$1")
  [ "${out%% *}" = 200 ] || die "GET $1 answered ${out%% *}"
  echo "${out#* }"
}
median() { # path -> median seconds of ROUNDS requests
  for _ in $(seq "$ROUNDS"); do once "$1"; done | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
ms() { calc '%.1f ms' "$1*1000"; }

cold=$(once "/ui/")
grep -c 'data-repository=' "$WORK/page.html" >"$WORK/rows"
[ "$(cat "$WORK/rows")" -ge "$REPOS" ] || die "the listing shows $(cat "$WORK/rows") repositories, expected $REPOS and their CIDs"
catalog=$(median "/v2/_catalog?n=100000")
warm=$(median "/ui/")
search=$(median "/ui/?q=app-1")
repo=$(median "/ui/r/team-1/app-1")
grep -q 'data-tag="v1"' "$WORK/page.html" || die "the repository page lists no tag v1"
image=$(median "/ui/r/team-1/app-1/-/v1")
grep -q 'id="cid-link"' "$WORK/page.html" || die "the image page shows no CID"
# a push moves the listing: the next page waits for the new one at most 1 s, else shows the previous one
curl -sf -o /dev/null -X PUT --data-binary @"$WORK/manifest.json" \
  -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' "http://$GW/v2/team-1/app-1/manifests/again" \
  || die "the last push failed"
after_push=$(once "/ui/")

row "repositories x tags (and as many CID images)" "$REPOS x $TAGS"
row "GET /v2/_catalog (baseline, median)" "$(ms "$catalog")"
row "GET /ui/ cold (first after start-up)" "$(ms "$cold") ($(calc '%.1f' "$cold/$catalog") x catalog)"
row "GET /ui/ warm (median)" "$(ms "$warm") ($(calc '%.1f' "$warm/$catalog") x catalog)"
row "GET /ui/?q=app-1 (median)" "$(ms "$search") ($(calc '%.1f' "$search/$catalog") x catalog)"
row "GET /ui/r/<name>, $TAGS tags (median)" "$(ms "$repo") ($(calc '%.1f' "$repo/$catalog") x catalog)"
row "GET /ui/r/<name>/-/<tag> (median)" "$(ms "$image") ($(calc '%.1f' "$image/$catalog") x catalog)"
row "GET /ui/ right after a push (one sample)" "$(ms "$after_push") ($(calc '%.1f' "$after_push/$catalog") x catalog)"
row "page size /ui/ (bytes)" "$(curl -s "http://$GW/ui/" | wc -c)"
save_results
