//go:build !amd64

package mc

import "sync/atomic"

// prefetchSlots touches &slots[h] for every h in homes with plain loads;
// they are independent, so their cache misses overlap.
func prefetchSlots(slots []uint64, homes []uint64) uint64 {
	var sink uint64
	for _, h := range homes {
		sink += atomic.LoadUint64(&slots[h])
	}
	return sink
}
