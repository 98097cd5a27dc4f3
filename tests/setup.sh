#!/usr/bin/env bash
# Installs everything the gateway's tests need on a fresh Debian machine (run as root):
# skopeo, docker-registry, containerd (with ctr) and podman (real pull-through clients, run as root by
# testing/Containerd and testing/Podman; the tests fail without them), Chromium (the web page's browser
# tests drive it through Playwright's Java driver, which Maven fetches) and Tomcat from Debian, Maven and
# JDK 17, curl and python3 (tests/run.sh summarises the reports with it), Kubo, the IPFS node of the
# tests, built with Go from the module in tests/kit/kubo into tests/.kit/bin/ipfs, and disco, the
# registry of the interoperability tests, from tests/kit/disco into tests/.kit/bin/disco (Go itself is
# not installed here: see find_go below).
# Safe to run again; it skips what is there. Not root: uses sudo when something must be installed.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"

need=()
# command -> Debian package
for pair in skopeo:skopeo docker-registry:docker-registry mvn:maven javac:openjdk-17-jdk-headless \
            containerd:containerd ctr:containerd podman:podman chromium:chromium curl:curl python3:python3; do
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
# Go finds the toolchain for one of the Go programs below, in their module directory: sets GO and
# GO_HAVE, or explains what to do and exits. Arguments: module directory, program name and version.
find_go() {
  local mod="$1" what="$2" needed
  needed="$(sed -nE 's#^go ([0-9.]+)$#\1#p' "$mod/go.mod")"
  if [ -z "$needed" ]; then
    echo "setup: cannot read the Go version from $mod/go.mod" >&2
    exit 1
  fi
  GO="$(command -v go || true)"
  [ -z "$GO" ] && [ -x /usr/local/go/bin/go ] && GO=/usr/local/go/bin/go
  if [ -z "$GO" ]; then
    echo "setup: Go is missing. $what is built from source and needs Go $needed or later." >&2
    echo "       Debian's golang-go package is older: install Go from https://go.dev/dl/, e.g." >&2
    echo "       curl -fsSL https://go.dev/dl/go$needed.linux-amd64.tar.gz | tar -C /usr/local -xz" >&2
    echo "       then run this again (it also finds /usr/local/go/bin/go when it is not on PATH)." >&2
    exit 1
  fi
  # in the module directory, Go 1.21+ switches to the toolchain go.mod asks for when GOTOOLCHAIN
  # allows it (downloading it from the module proxy); otherwise this fails and says why
  if ! GO_HAVE="$(cd "$mod" && "$GO" env GOVERSION 2>&1)" || ! printf '%s\n%s\n' "go$needed" "${GO_HAVE%% *}" \
       | sed 's/^go//' | sort -C -V; then
    echo "setup: $GO is $("$GO" version 2>&1 | awk '{print $3}'); building $what needs Go $needed or later" >&2
    case "$GO_HAVE" in *" "*) echo "       ($GO_HAVE)" >&2;; esac
    echo "       Install Go $needed or later from https://go.dev/dl/ (Debian's golang-go is older), or with" >&2
    echo "       Go 1.21+ run: GOTOOLCHAIN=go$needed bash tests/setup.sh (Go fetches that toolchain)." >&2
    exit 1
  fi
}

# Kubo, the IPFS node of the tests and benchmarks: built from the Go module in tests/kit/kubo (which
# pins the release; its tools.go says why this is not `go install ...@version`) into
# tests/.kit/bin/ipfs, and reused while that binary reports the pinned version.
KUBO_MOD="$HERE/kit/kubo"
KUBO="$HERE/.kit/bin/ipfs"
KUBO_VERSION="$(sed -nE 's#^require github.com/ipfs/kubo v([0-9.]+)$#\1#p' "$KUBO_MOD/go.mod")"
if [ -z "$KUBO_VERSION" ]; then
  echo "setup: cannot read the pinned Kubo version from $KUBO_MOD/go.mod" >&2
  exit 1
fi
if [ "$("$KUBO" version 2>/dev/null || true)" != "ipfs version $KUBO_VERSION" ]; then
  find_go "$KUBO_MOD" "Kubo $KUBO_VERSION"
  echo "setup: building Kubo $KUBO_VERSION with ${GO_HAVE} into $KUBO (a few minutes the first time)"
  mkdir -p "$(dirname "$KUBO")"
  # -mod=readonly: exactly the modules of the committed go.mod and go.sum, from the module proxy
  (cd "$KUBO_MOD" && "$GO" build -mod=readonly -trimpath -buildvcs=false -o "$KUBO.tmp" github.com/ipfs/kubo/cmd/ipfs)
  mv -f "$KUBO.tmp" "$KUBO"
  if [ "$("$KUBO" version)" != "ipfs version $KUBO_VERSION" ]; then
    echo "setup: the Kubo just built reports '$("$KUBO" version)', not $KUBO_VERSION" >&2
    exit 1
  fi
fi

# disco, the registry the interoperability tests run against Kubo: built from the Go module in
# tests/kit/disco (which pins the commit; its tools.go says why) into tests/.kit/bin/disco. disco has no
# version command, so the pinned version is kept in tests/.kit/bin/disco.version, written after a
# successful build; the binary is reused while that file names the pinned version.
DISCO_MOD="$HERE/kit/disco"
DISCO="$HERE/.kit/bin/disco"
DISCO_VERSION="$(sed -nE 's#^require github.com/forta-network/disco (v[^ ]+)$#\1#p' "$DISCO_MOD/go.mod")"
if [ -z "$DISCO_VERSION" ]; then
  echo "setup: cannot read the pinned disco version from $DISCO_MOD/go.mod" >&2
  exit 1
fi
if [ ! -x "$DISCO" ] || [ "$(cat "$DISCO.version" 2>/dev/null || true)" != "$DISCO_VERSION" ]; then
  find_go "$DISCO_MOD" "disco $DISCO_VERSION"
  echo "setup: building disco $DISCO_VERSION with ${GO_HAVE} into $DISCO (a minute the first time)"
  mkdir -p "$(dirname "$DISCO")"
  rm -f "$DISCO.version"
  (cd "$DISCO_MOD" && "$GO" build -mod=readonly -trimpath -buildvcs=false -o "$DISCO.tmp" github.com/forta-network/disco)
  mv -f "$DISCO.tmp" "$DISCO"
  echo "$DISCO_VERSION" > "$DISCO.version"
fi
echo "setup: ok (skopeo $(skopeo --version | awk '{print $3}'), $("$KUBO" version) at $KUBO, disco $DISCO_VERSION at $DISCO)"
