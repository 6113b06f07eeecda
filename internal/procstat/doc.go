// Package procstat parses the two /proc files the runners measure tasks
// with: /proc/<pid>/stat (state, process group, session, start time) and
// /proc/<pid>/schedstat (time on a CPU, run delay). It only parses: the
// callers read the files (from the real /proc or a test tree), so one
// parser serves the UML host runner, the friendly-group ports and the
// experiment sampler.
package procstat
