//go:build tools

// Package tools pins the Kubo daemon the tests run (tests/setup.sh builds it with
// `go build -o tests/.kit/bin/ipfs github.com/ipfs/kubo/cmd/ipfs` in this directory).
//
// Why a module and not `go install github.com/ipfs/kubo/cmd/ipfs@v0.43.1`: Kubo's go.mod has a
// replace directive (go-libp2p => a fork), and `go install pkg@version` refuses modules with
// replace directives. Here Kubo is a dependency, so its replace is ignored and go.mod picks the
// released go-libp2p instead; go.sum pins every module, so the build is reproducible from the Go
// module proxy alone.
package tools

import _ "github.com/ipfs/kubo/cmd/ipfs"
