package mc

import (
	"math/bits"
	"sync"
	"sync/atomic"
)

// reserved is the one state value a model may not use: the table stores s+1
// so that a zero slot means empty and freshly allocated memory needs no
// initialisation.
const reserved = ^uint64(0)

// Load factors: the table grows when it is maxLoad full; inserting stops
// (successors are parked in an overflow buffer until the table has grown)
// at hardLoad, so probing always finds an empty slot.
const (
	maxLoad  = 0.75
	hardLoad = 0.90
	minCap   = 1 << 16
)

// mix is a cheap 64-bit mixer (the finaliser of MurmurHash3): packed states
// that differ in a few low bits land far apart in the table.
func mix(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// table is a lock-free open-addressing set of uint64 states with linear
// probing. Slots hold state+1; 0 is empty. Any capacity works: the home slot
// is the high word of mix(s)*capacity.
type table struct {
	slots []uint64
	n     uint64       // len(slots)
	count atomic.Int64 // states inserted (workers add in batches, so it may lag by a few thousand)
	soft  int64        // grow when count reaches this
	hard  int64        // stop inserting when count reaches this
	free  func()       // releases slots
}

func newTable(capacity uint64) *table {
	if capacity < minCap {
		capacity = minCap
	}
	t := &table{n: capacity}
	t.slots, t.free = allocSlots(capacity)
	t.soft = int64(float64(capacity) * maxLoad)
	t.hard = int64(float64(capacity) * hardLoad)
	return t
}

func (t *table) home(s uint64) uint64 {
	hi, _ := bits.Mul64(mix(s), t.n)
	return hi
}

// insert adds s and reports whether it was new.
func (t *table) insert(s uint64) bool { return t.insertAt(s, t.home(s)) }

// insertAt is insert with the home slot already computed.
func (t *table) insertAt(s, i uint64) bool {
	k := s + 1
	slots := t.slots
	for {
		p := &slots[i]
		v := atomic.LoadUint64(p)
		if v == k {
			return false
		}
		if v == 0 {
			if atomic.CompareAndSwapUint64(p, 0, k) {
				return true
			}
			if atomic.LoadUint64(p) == k {
				return false
			}
		}
		i++
		if i == t.n {
			i = 0
		}
	}
}

// find returns the slot holding s, or -1.
func (t *table) find(s uint64) int64 {
	k := s + 1
	i := t.home(s)
	for {
		v := t.slots[i]
		if v == k {
			return int64(i)
		}
		if v == 0 {
			return -1
		}
		i++
		if i == t.n {
			i = 0
		}
	}
}

// rehash inserts every state of old into t using nw goroutines.
func (t *table) rehash(old *table, nw int) {
	var wg sync.WaitGroup
	per := (old.n + uint64(nw) - 1) / uint64(nw)
	for w := 0; w < nw; w++ {
		lo := uint64(w) * per
		hi := min(lo+per, old.n)
		if lo >= hi {
			continue
		}
		wg.Add(1)
		go func(part []uint64) {
			defer wg.Done()
			for _, v := range part {
				if v != 0 {
					t.insert(v - 1)
				}
			}
		}(old.slots[lo:hi])
	}
	wg.Wait()
	t.count.Store(old.count.Load())
}

func (t *table) bytes() int64 { return int64(t.n) * 8 }

// release frees the slots; the table must not be used afterwards.
func (t *table) release() {
	t.free()
	t.slots = nil
}
