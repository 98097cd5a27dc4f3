//go:build tools

// Package tools pins the disco registry (github.com/forta-network/disco) that the interoperability
// tests run (tests/setup.sh builds it with
// `go build -o tests/.kit/bin/disco github.com/forta-network/disco` in this directory).
//
// Why a module and not `go install github.com/forta-network/disco@<version>`: the Go module proxy
// answers 403 to the .info of every disco version, which `go install pkg@version` needs. As a
// dependency of this module, go.mod names the exact pseudo-version and go.sum pins every module by
// its hash, so `go build -mod=readonly` fetches only what it needs and the build is reproducible.
// disco has no version command: setup keeps the pinned version in tests/.kit/bin/disco.version.
package tools

import _ "github.com/forta-network/disco"
