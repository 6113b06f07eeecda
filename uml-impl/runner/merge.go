package runner

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/friendly-vm/fvm/trace"
	"github.com/friendly-vm/fvm/uml-impl/controller"
	"github.com/friendly-vm/fvm/uml-impl/host"
)

// line is one event line of a merged trace.
type line struct {
	t   int64
	ord int // tie-break: original order
	b   []byte
}

// mergeTrace writes dir/<vm>.jsonl: the guest's trace (raw/<vm>.guest),
// cut at its first unreadable line (a guest killed mid-write), with the
// host events of hist merged in by time before the end event. A guest that
// wrote no header gets the one its configuration implies; one that wrote
// no end (killed, crashed) gets an end with clean=false and the reason
// (the guest's error, if any). A guest's own end event is kept as written.
func mergeTrace(dir string, s *Spec, i int, hist []host.CPUSample, reason string) error {
	v := &s.VMs[i]
	rawPath := filepath.Join(dir, "raw", v.Name+".guest")
	var lines []line
	var header, end []byte
	var cut error
	f, err := os.Open(rawPath)
	if err == nil {
		defer f.Close()
		header, end, lines, cut = readGuest(f, rawPath, i)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("merge %s: %w", v.Name, err)
	}
	if header == nil {
		core, err := controller.NewCore(v.Controller, 0, 0)
		if err != nil {
			return fmt.Errorf("merge %s: %w", v.Name, err)
		}
		h := core.Header()
		h.PeriodUs, h.Kernel, h.Workload = 10000, "unknown (no guest trace)", v.Workload
		h.Controller = "none (fvmd wrote nothing)"
		if v.NoController {
			h.Controller = "none (controller off: the workload ran alone)"
		}
		header = trace.AppendEvent(nil, &trace.Event{Kind: trace.KindHeader, VM: i, Header: &h})
		lines = nil
	}
	for k := 1; k < len(hist); k++ {
		e := trace.Event{Kind: trace.KindHost, VM: i, TNs: hist[k].T, Host: trace.Host{
			Seq: int64(k), WallNs: hist[k].T - hist[k-1].T, CPUNs: int64(hist[k].CPU - hist[k-1].CPU)}}
		lines = append(lines, line{t: hist[k].T, ord: len(lines), b: trace.AppendEvent(nil, &e)})
	}
	sort.SliceStable(lines, func(a, b int) bool { return lines[a].t < lines[b].t })
	if end == nil && v.NoController && reason == "" && cut == nil {
		end = trace.AppendEvent(nil, &trace.Event{Kind: trace.KindEnd, VM: i, TNs: lastT(hist, lines), End: trace.End{Clean: true, Reason: "controller off"}})
	}
	if end == nil {
		r := reason
		switch {
		case r == "" && cut != nil:
			r = "guest trace cut short: " + cut.Error()
		case r == "":
			r = "guest trace has no end event"
		case cut != nil:
			r += "; guest trace cut short: " + cut.Error()
		}
		end = trace.AppendEvent(nil, &trace.Event{Kind: trace.KindEnd, VM: i, TNs: lastT(hist, lines), End: trace.End{Clean: false, Reason: r}})
	}
	var out bytes.Buffer
	out.Write(header)
	for _, l := range lines {
		out.Write(l.b)
	}
	out.Write(end)
	p := filepath.Join(dir, v.Name+".jsonl")
	if err := os.WriteFile(p, out.Bytes(), 0o644); err != nil {
		return fmt.Errorf("merge %s: %w", v.Name, err)
	}
	// The merged trace must be one the strict reader accepts.
	if _, err := trace.ReadFile(p); err != nil {
		return fmt.Errorf("merge %s: merged trace does not read back: %w", v.Name, err)
	}
	return nil
}

// lastT is the time of the last host sample or event.
func lastT(hist []host.CPUSample, lines []line) int64 {
	var t int64
	if len(hist) > 0 {
		t = hist[len(hist)-1].T
	}
	if len(lines) > 0 && lines[len(lines)-1].t > t {
		t = lines[len(lines)-1].t
	}
	return t
}

// readGuest reads a guest trace with the strict reader, up to the first
// unreadable line (cut says why). It returns the header and end lines
// separately and the others with their times.
func readGuest(r io.Reader, name string, vm int) (header, end []byte, lines []line, cut error) {
	tr := trace.NewReader(r, name)
	for {
		var e trace.Event
		err := tr.Next(&e)
		if err == io.EOF {
			return header, end, lines, nil
		}
		if err != nil {
			return header, end, lines, err
		}
		if e.VM != vm {
			return header, end, lines, fmt.Errorf("%s:%d: event for vm %d in vm %d's trace", name, tr.Line(), e.VM, vm)
		}
		// Raw is valid until the next call: copy the line.
		b := append(append([]byte(nil), tr.Raw()...), '\n')
		switch e.Kind {
		case trace.KindHeader:
			header = b
		case trace.KindEnd:
			end = b
		default:
			lines = append(lines, line{t: e.TNs, ord: len(lines), b: b})
		}
	}
}
