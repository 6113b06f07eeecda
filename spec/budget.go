package spec

import "time"

// The deployed configuration's budget: what fvmd runs must be checked,
// liveness included, within this time and memory on the CI machine, or it
// is not a configuration we can claim is verified. BenchmarkDeployed and
// TestDeployedVerified hold the checker to it; spec/MODEL.md measures the
// larger models against it.
const (
	DeployedMaxTime   = 10 * time.Minute
	DeployedMaxMemory = 8 << 30
)
