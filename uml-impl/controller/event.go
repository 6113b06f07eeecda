package controller

// Counters summarise what a controller saw; the end event's reason
// carries them.
type Counters struct {
	Windows    uint64 // windows consumed (incl. garbage)
	Garbage    uint64 // of which garbage
	Duplicates uint64 // stale or repeated windows ignored
	Gaps       uint64 // gap events
	GapWindows uint64 // windows in them
	Late       uint64 // of which skipped for being older than D
	Decisions  uint64
	Holds      uint64 // holds that set the safe demand
	Actuations uint64
	ActErrors  uint64 // writes that failed or read back a different pause
	ReadErrors uint64 // failed reads of the window ring
}
