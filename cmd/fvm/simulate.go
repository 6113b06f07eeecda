package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/friendly-vm/fvm/configs"
	"github.com/friendly-vm/fvm/ref"
	"github.com/friendly-vm/fvm/sim"
	"github.com/friendly-vm/fvm/trace"
)

type simulateFlags struct {
	config string
	seed   uint64
	steps  int
	init   string
	out    string
	json   bool
}

func newSimulateCmd() *cobra.Command {
	var f simulateFlags
	cmd := &cobra.Command{
		Use:   "simulate",
		Short: "Simulate the reference model: a table of steps and a trace file",
		Long: `simulate runs the reference model on a configuration (the embedded default unless
--config names another or a .json file), choosing among the enabled actions at random with
--seed, prints one row per step (action, demands, FIFOs oldest first with c = congested and
n = not, the consumed sample's delay in ticks, the rule's branch) and writes the run as a
JSONL trace (package trace, trace/REFINEMENT.md) to --out; "fvm trace check" accepts it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSimulate(cmd.OutOrStdout(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.config, "config", "default", "configuration name (embedded) or .json file")
	fl.Uint64Var(&f.seed, "seed", 1, "seed of the interleaving and of a random initial state")
	fl.IntVar(&f.steps, "steps", 40, "number of actions to simulate")
	fl.StringVar(&f.init, "init", "", "initial demands d1,d2,..., each in units of 1/u of a core (default: random in [dmin, dmax])")
	fl.StringVar(&f.out, "out", "simulate.jsonl", `trace file to write ("" for none)`)
	fl.BoolVar(&f.json, "json", false, "print the run as JSON instead of a table")
	return cmd
}

func parseInit(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []int
	for _, part := range strings.Split(s, ",") {
		d, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("--init %q: %q is not an integer", s, part)
		}
		out = append(out, d)
	}
	return out, nil
}

// simStepJSON is one step of `fvm simulate --json`.
type simStepJSON struct {
	Step      int    `json:"step"`
	Action    string `json:"action"`
	VM        *int   `json:"vm,omitempty"`
	Seq       int    `json:"seq"`
	Delay     *int   `json:"delay,omitempty"`
	Congested *bool  `json:"congested,omitempty"`
	Before    int    `json:"d_before,omitempty"`
	After     int    `json:"d_after,omitempty"`
	Branch    string `json:"branch,omitempty"`
	Demands   []int  `json:"demands"`
	FIFOs     string `json:"state"`
}

type simJSON struct {
	Config string        `json:"config"`
	Seed   uint64        `json:"seed"`
	Init   []int         `json:"init"`
	Trace  string        `json:"trace,omitempty"`
	Events int           `json:"events"`
	Steps  []simStepJSON `json:"steps"`
}

func runSimulate(w io.Writer, f simulateFlags) error {
	if f.steps < 0 {
		return badInput(fmt.Errorf("--steps = %d: must be >= 0", f.steps))
	}
	init, err := parseInit(f.init)
	if err != nil {
		return badInput(err)
	}
	cfg, err := configs.Load(f.config)
	if err != nil {
		return badInput(err)
	}
	p, err := cfg.Params()
	if err != nil {
		return badInput(fmt.Errorf("config %s: %w", cfg.Name, err))
	}
	run, err := sim.Simulate(p, sim.Options{Seed: f.seed, Steps: f.steps, Init: init})
	if err != nil {
		return badInput(fmt.Errorf("simulate: %w", err))
	}
	var evs []trace.Event
	if f.out != "" || p.Rule.SampleBits() == 1 {
		if evs, err = sim.Trace(p, run, sim.TraceOptions{Seed: f.seed, Workload: "fvm simulate --config " + cfg.Name}); err != nil {
			if f.out != "" && p.Rule.SampleBits() > 1 {
				return badInput(fmt.Errorf("--out %s: %w", f.out, err))
			}
			return fmt.Errorf("simulate: %w", err)
		}
	}
	if f.out != "" {
		if err := writeTrace(f.out, evs); err != nil {
			return err
		}
	}
	n := p.N()
	if f.json {
		out := simJSON{Config: cfg.Name, Seed: f.seed, Init: run.Init.Demands(n), Trace: f.out, Events: len(evs)}
		for k, st := range run.Steps {
			j := simStepJSON{Step: k + 1, Action: st.Action.String(), Seq: st.Seq + 1, Demands: st.State.Demands(n), FIFOs: st.State.FormatRule(n, p.Rule)}
			if st.Action.Kind == ref.Act {
				vm, delay, c := st.Action.VM, st.Newest-st.Seq, st.Congested
				j.VM, j.Delay, j.Congested = &vm, &delay, &c
				j.Before, j.After, j.Branch = st.Before, st.After, st.Branch.String()
			}
			out.Steps = append(out.Steps, j)
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return fmt.Errorf("simulate: %w", err)
		}
		return nil
	}
	fmt.Fprintf(w, "simulate: config %s (%d FVMs, host %s, rule %s, U=%d), seed %d, %d steps\n",
		cfg.Name, n, p.Host, p.Rule, p.U, f.seed, len(run.Steps))
	fmt.Fprintf(w, "%5s  %-14s  %-5s  %-17s  %s\n", "step", "action", "delay", "branch", "state after (d = demands, q = FIFOs oldest first: c congested, n not, m mild, w deferred)")
	fmt.Fprintf(w, "%5d  %-14s  %-5s  %-17s  %s\n", 0, "init", "", "", run.Init.FormatRule(n, p.Rule))
	for k, st := range run.Steps {
		action, delay, branch := "", "", ""
		switch st.Action.Kind {
		case ref.HostTick:
			action = fmt.Sprintf("HostTick #%d", st.Seq+1)
		case ref.Act:
			action = fmt.Sprintf("Act(%d) #%d%c", st.Action.VM, st.Seq+1, "ncmw"[st.Sample])
			delay = strconv.Itoa(st.Newest - st.Seq)
			branch = fmt.Sprintf("%s %d→%d", st.Branch, st.Before, st.After)
		default:
			action = st.Action.String()
		}
		fmt.Fprintf(w, "%5d  %-14s  %-5s  %-17s  %s\n", k+1, action, delay, branch, st.State.FormatRule(n, p.Rule))
	}
	if f.out != "" {
		fmt.Fprintf(w, "trace: %s (%d events)\n", f.out, len(evs))
	}
	return nil
}

// writeTrace writes events to path, fsyncs and closes it.
func writeTrace(path string, evs []trace.Event) (err error) {
	fh, err := os.Create(path)
	if err != nil {
		return badInput(fmt.Errorf("trace file: %w", err))
	}
	defer func() {
		if cerr := fh.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("trace file %s: %w", path, cerr)
		}
	}()
	tw := trace.NewWriter(fh)
	for i := range evs {
		if err := tw.Write(&evs[i]); err != nil {
			return fmt.Errorf("trace file %s: %w", path, err)
		}
	}
	return tw.Sync()
}
