package runner

// The real-kernel tests' thresholds (make test-uml, TestReal*). Each is
// set from the calibration rounds whose summaries are committed under
// testdata/thresholds (round-K/RUN: one make test-uml with FVM_RUN_DIR
// set); uml-impl/README.md shows the rounds' minimum, median and maximum
// next to each threshold and its margin (fvm docs), and fails to render
// when a round breaks a threshold.
const (
	// PairJainMin: two FVMs with sleeping pauses share the core fairly
	// (pair-steal). A pair's AIMD sawtooths drift in and out of phase,
	// so the shares of 60 s vary more than four's.
	PairJainMin = 0.95
	// FourJainMin: four FVMs with sleeping pauses (four-steal).
	FourJainMin = 0.98
	// GreedyGuestMin: beside one FVM with sleeping pauses the greedy
	// guest keeps at least this share (greedy-steal).
	GreedyGuestMin = 0.78
	// GreedyFVMMax: the FVM stays below its fair share, one half; not
	// calibrated, the definition of friendly.
	GreedyFVMMax = 0.5

	// The default, work-conserving pause (controller.Default): the
	// targets are fair (IdleJainMin) and full (IdleUtilisationMin) pairs
	// and fours, converged within IdleConvergenceMaxS, and beside a
	// greedy guest the guest keeps IdleGreedyGuestMin and the FVM
	// IdleGreedyFVMMin (not starved).
	IdleJainMin         = 0.99
	IdleUtilisationMin  = 0.95
	IdleConvergenceMaxS = 10
	IdleGreedyGuestMin  = 0.85
	IdleGreedyFVMMin    = 0.05
)

// The measures of a run that the real-kernel tests assert, as the test
// rounds' table names them.
const (
	MeasureJain        = "Jain index of the FVMs' shares"
	MeasureUtilisation = "utilisation"
	MeasureConvergence = "convergence (s)"
	MeasureGreedyShare = "greedy guest's share"
	MeasureFVMShare    = "FVM's share"
	MeasureMaxDelay    = "largest feedback delay (windows)"
	MeasureLost        = "windows lost (all FVMs)"
	MeasureLostShare   = "fraction of windows lost"
)

// Threshold is one real-kernel test's bound on one measure of one run:
// the measure must be at least Value (AtLeast), else at most Value
// (Strict: below it).
type Threshold struct {
	Run, Measure string
	Value        float64
	AtLeast      bool
	Strict       bool
}

// Thresholds lists the thresholds of the real-kernel tests by the run
// their rounds are recorded under. (Delay and loss are bounds of the
// model, not calibrated: every run keeps its decisions within the
// header's delay bound and loses no window.)
func Thresholds() []Threshold {
	return []Threshold{
		{Run: "pair-steal", Measure: MeasureJain, Value: PairJainMin, AtLeast: true},
		{Run: "four-steal", Measure: MeasureJain, Value: FourJainMin, AtLeast: true},
		{Run: "greedy-steal", Measure: MeasureGreedyShare, Value: GreedyGuestMin, AtLeast: true},
		{Run: "greedy-steal", Measure: MeasureFVMShare, Value: GreedyFVMMax, Strict: true},
		{Run: "pair-steal-idle", Measure: MeasureJain, Value: IdleJainMin, AtLeast: true},
		{Run: "pair-steal-idle", Measure: MeasureUtilisation, Value: IdleUtilisationMin, AtLeast: true},
		{Run: "pair-steal-idle", Measure: MeasureConvergence, Value: IdleConvergenceMaxS},
		{Run: "four-steal-idle", Measure: MeasureJain, Value: IdleJainMin, AtLeast: true},
		{Run: "four-steal-idle", Measure: MeasureUtilisation, Value: IdleUtilisationMin, AtLeast: true},
		{Run: "four-steal-idle", Measure: MeasureConvergence, Value: IdleConvergenceMaxS},
		{Run: "greedy-steal-idle", Measure: MeasureGreedyShare, Value: IdleGreedyGuestMin, AtLeast: true},
		{Run: "greedy-steal-idle", Measure: MeasureFVMShare, Value: IdleGreedyFVMMin, AtLeast: true},
	}
}

// Margin is how far the worst of values from lo to hi is inside the
// threshold (negative: a value breaks it; zero breaks a strict one), and
// the relation's sign. A convergence of -1 is "never": it breaks a bound
// on convergence whatever the bound.
func (th Threshold) Margin(lo, hi float64) (margin float64, rel string) {
	switch {
	case th.Measure == MeasureConvergence && lo < 0:
		return lo, "≤"
	case th.AtLeast:
		return lo - th.Value, "≥"
	case th.Strict:
		return th.Value - hi, "<"
	}
	return th.Value - hi, "≤"
}
