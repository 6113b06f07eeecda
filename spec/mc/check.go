package mc

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

const (
	blockSize    = 1 << 14 // states per level-list block (128 KiB)
	flushEvery   = 1024    // new states a worker inserts before publishing its count
	seqThreshold = 2048    // frontiers up to this size are expanded by one goroutine
	maxChunk     = 1024    // frontier states per work item
	batchSize    = 32      // frontier states expanded together
)

// errReserved is returned when a model emits the reserved state value.
var errReserved = errors.New("model emitted the reserved state value 2^64-1")

// engine is one run of Check.
type engine[M Model] struct {
	m       M
	canon   func(uint64) uint64 // nil without symmetry
	invs    []Invariant
	opt     Options
	nw      int
	maxMem  int64
	tab     atomic.Pointer[table]
	levels  [][][]uint64 // levels[d]: segments holding the states at distance d
	blocks  atomic.Int64 // level-list blocks allocated
	peak    int64        // peak bytes
	workers []*worker[M]

	grow    atomic.Bool
	abort   atomic.Bool
	viol    []atomic.Uint64 // per property (invariants, then deadlock): smallest violating state+1 at this level
	done    []bool          // property already violated at an earlier level
	found   atomic.Bool
	initial int64
	gen     atomic.Int64
	front   atomic.Int64 // current frontier size, for progress
	depth   atomic.Int64
}

// worker holds one search goroutine's private buffers.
type worker[M Model] struct {
	e        *engine[M]
	tab      *table
	buf      []uint64
	batches  [2]batch
	sink     uint64 // keeps the prefetching loads alive
	emit     func(int, uint64)
	blk      []uint64
	segStart int
	segs     [][]uint64
	pending  int64
	gen      int64
	overflow []uint64
	full     bool
	seq      bool
	err      error
}

// Check explores every state of m reachable from its initial states and
// checks the invariants, deadlock freedom (unless opt.NoDeadlock) and the
// eventually-always properties. It returns an error only when the check could
// not be carried out (bad arguments, memory limit, a model bug); property
// violations are reported in the Result.
func Check[M Model](m M, invs []Invariant, live []EventuallyAlways, opt Options) (*Result, error) {
	start := time.Now()
	for i, inv := range invs {
		if inv.Name == "" || inv.Holds == nil {
			return nil, fmt.Errorf("mc: invariant %d needs a name and a function", i)
		}
	}
	for i, l := range live {
		if l.Name == "" || l.P == nil {
			return nil, fmt.Errorf("mc: liveness property %d needs a name and a function", i)
		}
	}
	if len(m.Actions()) > 1<<16-1 {
		return nil, fmt.Errorf("mc: %d actions, at most %d supported", len(m.Actions()), 1<<16-1)
	}
	e := &engine[M]{m: m, invs: invs, opt: opt}
	if opt.Symmetry {
		c, ok := any(m).(Canonicalizer)
		if !ok {
			return nil, fmt.Errorf("mc: symmetry requested but the model (%T) has no Canon method", m)
		}
		e.canon = c.Canon
	}
	e.nw = opt.Workers
	if e.nw <= 0 {
		e.nw = runtime.GOMAXPROCS(0)
	}
	e.maxMem = opt.MaxMemory
	if e.maxMem <= 0 {
		e.maxMem = defaultMaxMemory()
	}
	capacity := uint64(float64(opt.ExpectedStates)/0.6) + 1
	capacity = max(capacity, uint64(e.nw)*flushEvery*20)
	if int64(capacity)*8 > e.maxMem {
		return nil, fmt.Errorf("mc: a visited set for %d expected states needs %d MiB, more than the memory limit of %d MiB",
			opt.ExpectedStates, int64(capacity)*8>>20, e.maxMem>>20)
	}
	e.tab.Store(newTable(capacity))
	defer func() { e.tab.Load().release() }()
	np := len(invs) + 1
	e.viol = make([]atomic.Uint64, np)
	e.done = make([]bool, np)
	e.workers = make([]*worker[M], e.nw)
	for i := range e.workers {
		w := &worker[M]{e: e}
		w.emit = func(_ int, t uint64) { w.buf = append(w.buf, t) }
		e.workers[i] = w
	}

	res := &Result{}
	stopProgress := e.startProgress(start)
	found, complete, err := e.search()
	stopProgress()
	if err != nil {
		return nil, err
	}
	searchTime := time.Since(start)
	st := &res.Stats
	st.Workers = e.nw
	st.Symmetry = opt.Symmetry
	st.Initial = e.initial
	st.Distinct = e.tab.Load().count.Load()
	st.Generated = e.gen.Load()
	st.Depth = len(e.levels)
	st.SearchTime = searchTime
	if s := searchTime.Seconds(); s > 0 {
		st.StatesPerSec = float64(st.Distinct) / s
	}
	st.SearchBytes = e.searchBytes()
	e.peak = max(e.peak, st.SearchBytes)
	if st.Distinct > 0 {
		st.BytesPerState = float64(st.SearchBytes) / float64(st.Distinct)
	}

	// Safety verdicts and counterexamples.
	violated := make([]bool, np)
	for _, f := range found {
		violated[f.prop] = true
		v, err := e.counterexample(f)
		if err != nil {
			return nil, err
		}
		res.Violations = append(res.Violations, v)
	}
	status := func(i int) Status {
		if violated[i] {
			return Violated
		}
		if complete {
			return Holds
		}
		return NotChecked
	}
	for i, inv := range invs {
		res.Verdicts = append(res.Verdicts, Verdict{Name: inv.Name, Kind: KindInvariant, Status: status(i)})
	}
	if !opt.NoDeadlock {
		res.Verdicts = append(res.Verdicts, Verdict{Name: "Deadlock", Kind: KindDeadlock, Status: status(np - 1)})
	}
	if !complete {
		res.Notes = append(res.Notes, fmt.Sprintf(
			"search stopped after depth %d at the first violation: properties not violated by then are not checked (use KeepGoing)", st.Depth-1))
	}

	// Liveness.
	if len(live) > 0 || opt.LimitSets != nil || len(opt.LimitSetProperties) > 0 {
		switch {
		case opt.Symmetry:
			res.Notes = append(res.Notes, "liveness not checked: symmetry reduction is on, and it can hide liveness violations; run without symmetry")
		case !complete:
			res.Notes = append(res.Notes, "liveness not checked: the search did not explore every state")
		default:
			if err := e.liveness(live, res); err != nil {
				return nil, err
			}
		}
	}
	for _, l := range live {
		if !hasVerdict(res.Verdicts, l.Name, KindLiveness) {
			res.Verdicts = append(res.Verdicts, Verdict{Name: l.Name, Kind: KindLiveness, Status: NotChecked})
		}
	}
	for _, lp := range opt.LimitSetProperties {
		if !hasVerdict(res.Verdicts, lp.Name, KindLiveness) {
			res.Verdicts = append(res.Verdicts, Verdict{Name: lp.Name, Kind: KindLiveness, Status: NotChecked})
		}
	}
	st.Bytes = e.peak
	st.Duration = time.Since(start)
	return res, nil
}

func hasVerdict(vs []Verdict, name string, k Kind) bool {
	for _, v := range vs {
		if v.Name == name && v.Kind == k {
			return true
		}
	}
	return false
}

func (e *engine[M]) searchBytes() int64 {
	return e.tab.Load().bytes() + e.blocks.Load()*blockSize*8
}

// finding is the first violation of one property: the smallest violating
// state at the smallest depth.
type finding struct {
	prop  int // index into invariants, or len(invariants) for deadlock
	state uint64
	depth int
}

// search runs the BFS. complete reports whether every reachable state was
// explored.
func (e *engine[M]) search() (found []finding, complete bool, err error) {
	w0 := e.workers[0]
	w0.tab = e.tab.Load()
	w0.seq = true
	var initErr error
	e.m.Init(func(s uint64) {
		e.initial++
		if e.canon != nil {
			s = e.canon(s)
		}
		w0.insert(s)
	})
	w0.flush()
	w0.seq = false
	if initErr = w0.err; initErr != nil {
		return nil, false, fmt.Errorf("mc: initial states: %w", initErr)
	}
	level := w0.endLevel()
	found = e.collect(found, 0, -1)
	for d := 0; ; d++ {
		if n := segLen(level); n == 0 {
			break
		}
		e.levels = append(e.levels, level)
		e.depth.Store(int64(d))
		if len(found) > 0 && !e.opt.KeepGoing {
			return found, false, nil
		}
		if err := e.runLevel(level); err != nil {
			return nil, false, err
		}
		level = nil
		for _, w := range e.workers {
			level = append(level, w.endLevel()...)
		}
		found = e.collect(found, d+1, d)
	}
	return found, true, nil
}

// collect turns this level's violations into findings: invariants at depth
// invDepth, deadlocks at depth dlDepth.
func (e *engine[M]) collect(found []finding, invDepth, dlDepth int) []finding {
	if !e.found.Load() {
		return found
	}
	e.found.Store(false)
	for i := range e.viol {
		k := e.viol[i].Load()
		if k == 0 {
			continue
		}
		e.viol[i].Store(0)
		e.done[i] = true
		d := invDepth
		if i == len(e.invs) {
			d = dlDepth
		}
		found = append(found, finding{prop: i, state: k - 1, depth: d})
	}
	return found
}

func segLen(segs [][]uint64) int64 {
	var n int64
	for _, s := range segs {
		n += int64(len(s))
	}
	return n
}

// runLevel expands every state of frontier, inserting its successors.
func (e *engine[M]) runLevel(frontier [][]uint64) error {
	n := segLen(frontier)
	e.front.Store(n)
	if n <= seqThreshold || e.nw == 1 {
		w := e.workers[0]
		w.tab = e.tab.Load()
		w.seq = true
		for _, seg := range frontier {
			w.expandAll(seg)
		}
		w.flush()
		w.seq = false
		e.gen.Add(w.gen)
		w.gen = 0
		return w.err
	}
	chunk := int(min(int64(maxChunk), max(64, n/int64(e.nw*16))))
	var chunks [][]uint64
	for _, seg := range frontier {
		for len(seg) > 0 {
			k := min(chunk, len(seg))
			chunks = append(chunks, seg[:k])
			seg = seg[k:]
		}
	}
	var next atomic.Int64
	for {
		var wg sync.WaitGroup
		for _, w := range e.workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				w.round(chunks, &next)
			}()
		}
		wg.Wait()
		for _, w := range e.workers {
			if w.err != nil {
				return w.err
			}
		}
		pending := false
		if e.grow.Load() {
			if err := e.growTable(); err != nil {
				return err
			}
			e.grow.Store(false)
			for _, w := range e.workers {
				w.full = false
				pending = pending || len(w.overflow) > 0
			}
		}
		if !pending && next.Load() >= int64(len(chunks)) {
			return nil
		}
	}
}

// round is one worker's share of a level: first its parked successors, then
// work chunks until none is left or the table must grow.
func (w *worker[M]) round(chunks [][]uint64, next *atomic.Int64) {
	e := w.e
	w.tab = e.tab.Load()
	if len(w.overflow) > 0 {
		ov := w.overflow
		w.overflow = nil
		for _, t := range ov {
			w.insert(t)
		}
	}
	for !e.grow.Load() && !e.abort.Load() {
		i := next.Add(1) - 1
		if i >= int64(len(chunks)) {
			break
		}
		w.expandAll(chunks[i])
		e.gen.Add(w.gen)
		w.gen = 0
	}
	w.flush()
	e.gen.Add(w.gen)
	w.gen = 0
}

// growTable doubles the visited set (called with every worker stopped).
func (e *engine[M]) growTable() error {
	old := e.tab.Load()
	nt := old.n * 2
	need := int64(nt)*8 + old.bytes() + e.blocks.Load()*blockSize*8
	if need > e.maxMem {
		return fmt.Errorf("mc: out of memory budget after %d distinct states: growing the visited set to %d slots needs %d MiB in all, the limit is %d MiB (set Options.MaxMemory, or reduce the model)",
			old.count.Load(), nt, need>>20, e.maxMem>>20)
	}
	t := newTable(nt)
	t.rehash(old, e.nw)
	old.release()
	e.peak = max(e.peak, need)
	e.tab.Store(t)
	for _, w := range e.workers {
		w.tab = t
	}
	return nil
}

// batch is a generated batch of successors whose home slots are being
// prefetched.
type batch struct {
	succ  []uint64
	homes []uint64
	tab   *table // the table homes were computed for
}

// expandAll expands states in batches, software-pipelined: the successors of
// batch k+1 are generated while the table slots of batch k are on their way
// into the cache (prefetched), and only then are batch k's successors
// inserted. So the cache misses of many inserts overlap with each other and
// with the model's own computation.
func (w *worker[M]) expandAll(states []uint64) {
	cur, prev := &w.batches[0], &w.batches[1]
	prev.succ = prev.succ[:0]
	for len(states) > 0 {
		k := min(batchSize, len(states))
		w.generate(states[:k], cur)
		w.insertBatch(prev)
		cur, prev = prev, cur
		states = states[k:]
	}
	w.insertBatch(prev)
	prev.succ = prev.succ[:0]
}

// generate computes the successors of states into b (canonical with
// symmetry), records deadlocks, and prefetches the successors' home slots.
func (w *worker[M]) generate(states []uint64, b *batch) {
	e := w.e
	w.buf = b.succ[:0]
	checkDL := !e.opt.NoDeadlock && !e.done[len(e.invs)]
	for _, s := range states {
		before := len(w.buf)
		e.m.Next(s, w.emit)
		if len(w.buf) == before && checkDL {
			atomicMin(&e.viol[len(e.invs)], s+1)
			e.found.Store(true)
		}
	}
	b.succ = w.buf
	w.gen += int64(len(b.succ))
	if e.canon != nil {
		for i, t := range b.succ {
			b.succ[i] = e.canon(t)
		}
	}
	b.tab = w.tab
	if cap(b.homes) < len(b.succ) {
		b.homes = make([]uint64, len(b.succ), 2*len(b.succ))
	}
	b.homes = b.homes[:len(b.succ)]
	for i, t := range b.succ {
		b.homes[i] = b.tab.home(t)
	}
	w.sink += prefetchSlots(b.tab.slots, b.homes)
}

// insertBatch inserts a generated batch.
func (w *worker[M]) insertBatch(b *batch) {
	for i, t := range b.succ {
		if w.tab != b.tab { // the table grew (sequential mode): homes are stale
			w.insert(t)
			continue
		}
		w.insertAt(t, b.homes[i])
	}
	b.succ = b.succ[:0]
}

func (w *worker[M]) insert(t uint64) { w.insertAt(t, w.tab.home(t)) }

func (w *worker[M]) insertAt(t, home uint64) {
	if t == reserved {
		w.fail(errReserved)
		return
	}
	if w.full {
		w.overflow = append(w.overflow, t)
		return
	}
	if !w.tab.insertAt(t, home) {
		return
	}
	w.appendState(t)
	e := w.e
	for i := range e.invs {
		if !e.done[i] && !e.invs[i].Holds(t) {
			atomicMin(&e.viol[i], t+1)
			e.found.Store(true)
		}
	}
	w.pending++
	if w.pending >= flushEvery {
		w.flush()
	}
}

func (w *worker[M]) fail(err error) {
	if w.err == nil {
		w.err = err
	}
	w.e.abort.Store(true)
}

// flush publishes the worker's count of new states and decides whether the
// table must grow.
func (w *worker[M]) flush() {
	if w.pending == 0 {
		return
	}
	c := w.tab.count.Add(w.pending)
	w.pending = 0
	if c < w.tab.soft {
		return
	}
	if w.seq {
		if err := w.e.growTable(); err != nil {
			w.fail(err)
			w.full = true // park everything: the search is over
		}
		return
	}
	w.e.grow.Store(true)
	if c >= w.tab.hard {
		w.full = true
	}
}

func (w *worker[M]) appendState(t uint64) {
	if len(w.blk) == cap(w.blk) {
		if len(w.blk) > w.segStart {
			w.segs = append(w.segs, w.blk[w.segStart:])
		}
		e := w.e
		if e.searchBytes()+blockSize*8 > e.maxMem {
			w.fail(fmt.Errorf("mc: out of memory budget after %d distinct states (limit %d MiB; set Options.MaxMemory, or reduce the model)",
				w.tab.count.Load(), e.maxMem>>20))
		}
		w.blk = make([]uint64, 0, blockSize)
		w.segStart = 0
		e.blocks.Add(1)
	}
	w.blk = append(w.blk, t)
}

// endLevel returns the segments of states the worker added in this level.
func (w *worker[M]) endLevel() [][]uint64 {
	if len(w.blk) > w.segStart {
		w.segs = append(w.segs, w.blk[w.segStart:len(w.blk):len(w.blk)])
		w.segStart = len(w.blk)
	}
	s := w.segs
	w.segs = nil
	return s
}

func atomicMin(p *atomic.Uint64, k uint64) {
	for {
		old := p.Load()
		if old != 0 && old <= k {
			return
		}
		if p.CompareAndSwap(old, k) {
			return
		}
	}
}

// startProgress prints a line every second until the returned function is
// called.
func (e *engine[M]) startProgress(start time.Time) func() {
	if e.opt.Progress == nil {
		return func() {}
	}
	var last int64
	lastT := start
	return every(time.Second, func(now time.Time) {
		n := e.tab.Load().count.Load()
		rate := float64(n-last) / now.Sub(lastT).Seconds()
		last, lastT = n, now
		fmt.Fprintf(e.opt.Progress, "mc: %6.1fs %12d distinct %13d generated  frontier %10d  depth %5d  %8.2fM states/s\n",
			now.Sub(start).Seconds(), n, e.gen.Load(), e.front.Load(), e.depth.Load(), rate/1e6)
	})
}

// every calls f every interval on its own goroutine until the returned
// function is called; it returns once f has finished.
func every(interval time.Duration, f func(now time.Time)) (stop func()) {
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				return
			case now := <-tick.C:
				f(now)
			}
		}
	}()
	return func() { close(quit); wg.Wait() }
}
