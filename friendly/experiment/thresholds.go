package experiment

import "time"

// KillRun is what the kill -9 test measures.
type KillRun struct {
	// QuotaUs and PeriodUs: the group's bandwidth just before the kill.
	QuotaUs  int64 `json:"quota_us"`
	PeriodUs int64 `json:"period_us"`
	// The command's CPU share over 2 s before the kill and over 2 s after
	// it was restored, beside one busy process on its core.
	ShareBefore float64 `json:"share_before"`
	ShareAfter  float64 `json:"share_after"`
	// RestoredS: seconds from the kill until the command was back in its
	// cgroup and the group gone.
	RestoredS float64 `json:"restored_s"`
}

// The real tests' run lengths and thresholds (make test-friendly). Each
// threshold is set from the calibration runs committed under
// testdata/runs/friendly-calibration; README.md shows their minimum,
// median and maximum next to the threshold and its margin (fvm docs).
const (
	RealPairDuration   = 30 * time.Second
	RealGreedyDuration = 20 * time.Second

	// PairJainMin: two friendly groups reach Jain >= 0.99.
	PairJainMin = 0.99
	// GreedyFriendlyMax: beside a busy process the friendly group stays
	// below its fair share, one half.
	GreedyFriendlyMax = 0.5
	// GreedyOtherMin: the busy process keeps at least this share.
	GreedyOtherMin = 0.75
	// Kill9BeforeMax: the command is throttled before the kill.
	Kill9BeforeMax = 0.35
	// Kill9AfterMin: after the kill it runs unthrottled, at its fair
	// share (one half) beside the busy process.
	Kill9AfterMin = 0.4
)
