// Command daprd is the upstream Dapr sidecar (built with -tags
// stablecomponents, so every stable component is registered) plus one
// component of this project's: pubsub.outbox-relay, see relay.go.
package main

import (
	"github.com/dapr/dapr/cmd/daprd/app"
	pubsubLoader "github.com/dapr/dapr/pkg/components/pubsub"
)

// sourceDigest is set at build time (-X) to a digest of these sources, so
// scripts/lib/dapr-runtime.ts can tell a stale build from a current one.
var sourceDigest string

func main() {
	pubsubLoader.DefaultRegistry.RegisterComponent(newRelay, "outbox-relay")
	app.Run()
}
