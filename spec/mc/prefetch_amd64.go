package mc

// prefetchSlots asks the CPU to start loading &slots[h] for every h in
// homes without waiting for them (PREFETCHT0), so that the cache misses of
// a batch of inserts overlap. Every h must be a valid index of slots.
func prefetchSlots(slots []uint64, homes []uint64) uint64 {
	if len(homes) > 0 {
		prefetchAsm(&slots[0], homes)
	}
	return 0
}

//go:noescape
func prefetchAsm(slots *uint64, homes []uint64)
