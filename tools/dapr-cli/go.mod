// Builds the dapr CLI offline from the Go module proxy (scripts/provision-dapr.ts).
// v1.16.5 is the newest dapr CLI whose source the reachable module proxy
// serves; the CLI only launches daprd and the scheduler, which are 1.18.x.
// components-contrib v1.16.3, which the CLI's go.mod names, is not served:
// the patch release before it stands in.
module tasks-on-dapr/tools/dapr-cli

go 1.24.9

require github.com/dapr/cli v1.16.5

replace github.com/dapr/components-contrib => github.com/dapr/components-contrib v1.16.1
