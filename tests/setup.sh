#!/usr/bin/env bash
# Installs everything the gateway's tests need on a fresh Debian machine (run as root):
# skopeo, docker-registry and Tomcat from Debian, Maven and JDK 17, Node.js/npm, curl and python3
# (tests/run.sh summarises the reports with it), and the IPFS test node kit (npm ci of a copy of
# ../shared/ipfs-node into tests/.kit/ipfs-node). Safe to run again; it skips what is there.
# Not root: uses sudo when something must be installed.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
SHARED_KIT="${MIRRORBALL_SHARED_KIT:-$ROOT/../shared/ipfs-node}"
KIT="$HERE/.kit/ipfs-node"

need=()
# command -> Debian package; Node.js and npm come with the machine, or from Debian when missing
for pair in skopeo:skopeo docker-registry:docker-registry mvn:maven javac:openjdk-17-jdk-headless \
            node:nodejs npm:npm curl:curl python3:python3; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
[ -x /usr/share/tomcat10/bin/catalina.sh ] || need+=(tomcat10)
if [ "${#need[@]}" -gt 0 ]; then
  echo "setup: installing ${need[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
# the build needs JDK 17 or later
JAVAC_MAJOR="$(javac -version 2>&1 | sed -E 's/^javac ([0-9]+).*/\1/')"
if [ "${JAVAC_MAJOR:-0}" -lt 17 ] 2>/dev/null; then
  echo "setup: javac $JAVAC_MAJOR found, JDK 17 or later needed (apt-get install openjdk-17-jdk-headless)" >&2
  exit 1
fi
if [ ! -d "$SHARED_KIT" ] && [ ! -x "$KIT/node_modules/.bin/jsipfs" ]; then
  echo "setup: IPFS node kit not found at $SHARED_KIT (set MIRRORBALL_SHARED_KIT)" >&2
  exit 1
fi

if [ ! -x "$KIT/node_modules/.bin/jsipfs" ] || { [ -d "$SHARED_KIT" ] && ! cmp -s "$SHARED_KIT/package-lock.json" "$KIT/package-lock.json"; }; then
  echo "setup: installing the IPFS test node kit into $KIT"
  rm -rf "$KIT"
  mkdir -p "$(dirname "$KIT")"
  cp -r "$SHARED_KIT" "$KIT"
  chmod -R u+w "$KIT"
  (cd "$KIT" && npm ci --no-audit --no-fund >/dev/null)
fi
echo "setup: ok (skopeo $(skopeo --version | awk '{print $3}'), kit at $KIT)"
