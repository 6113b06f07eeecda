------------------------------ MODULE FVMTrace ------------------------------
(***************************************************************************)
(* Trace validation: is a recorded run a behavior of FVM?                 *)
(*                                                                         *)
(* The trace is a JSONL file in the format of package trace (version 1),   *)
(* as written by `fvm simulate` and by the guest controllers, read with    *)
(* the Json module's ndJsonDeserialize.  Of its lines, FVM explains two    *)
(* kinds (the others -- header, actuate, host, end -- carry no step of the *)
(* model):                                                                 *)
(*                                                                         *)
(*   - "sample": one per FVM per HostTick, all with the tick's window      *)
(*     number seq (1, 2, ...) and the FVM's congestion bit;                *)
(*   - "decide": one Act(i), with the window it consumed (sample_seq), the *)
(*     newest window (newest_seq), and the demand before and after.        *)
(*                                                                         *)
(* Each step of TraceSpec explains the next event of the trace -- a block  *)
(* of N sample lines, or one decide line -- by a step of FVM, and checks   *)
(* that the event says what the step does.  The FIFOs q are not in the    *)
(* trace and neither, when a header lacks init_d, is the initial demand:   *)
(* these hidden variables are resolved by TLC, which explores every        *)
(* initial state and every way of explaining the trace.  The trace is a    *)
(* behavior of FVM iff some behavior of TraceSpec explains every event;   *)
(* since every step explains exactly one event, that is iff the search    *)
(* reaches depth NumEvents + 1, which the POSTCONDITION TraceAccepted      *)
(* checks.                                                                 *)
(*                                                                         *)
(* A trace is rejected, for example, if a decision does not follow the     *)
(* rule (a wrong decrease), if a decision consumes a window out of order   *)
(* or a sample's bit is not the host model's (a reordered sample), or if   *)
(* a sample waits more than D[i] further ticks (HostTick is disabled while *)
(* FIFO i holds D[i]+1 samples, so such a trace has no explanation).      *)
(***************************************************************************)
EXTENDS FVM, Json, TLC

CONSTANTS
    TraceFile,  \* path of the JSONL trace
    Order       \* Order[i+1] is the identifier in FVMs of the trace's vm i

ASSUME Order \in Seq(FVMs) /\ {Order[k] : k \in 1..Len(Order)} = FVMs
                           /\ Len(Order) = N

(* The trace's lines, and the subsequence of those that FVM explains.     *)
Lines == ndJsonDeserialize(TraceFile)
Log   == SelectSeq(Lines, LAMBDA e : e.kind \in {"sample", "decide"})

Id(vm) == Order[vm + 1]

(* The number of events: ticks (distinct sample windows) plus decisions.  *)
NumEvents ==
    Cardinality({Log[k].seq : k \in {k \in 1..Len(Log) : Log[k].kind = "sample"}})
  + Cardinality({k \in 1..Len(Log) : Log[k].kind = "decide"})

VARIABLES
    l,      \* the next line of Log to explain
    ticks   \* HostTicks so far; the newest window's number

traceVars == <<d, q, l, ticks>>

(* The header of FVM vm (one per FVM), if the trace has one.               *)
Headers == {Lines[k] : k \in {k \in 1..Len(Lines) : Lines[k].kind = "header"}}

TraceInit ==
    /\ Init
    /\ l = 1
    /\ ticks = 0
    \* A header's init_d, when present, pins the initial demand; otherwise
    \* TLC tries every initial demand.
    /\ \A h \in Headers : "init_d" \in DOMAIN h => d[Id(h.vm)] = h.init_d

(* The rule's branch as package ref names it: "clamp" when the clamp cut   *)
(* the result (or the demand was already at the bound).                   *)
BranchOf(i, x, c) ==
    IF c THEN IF (IF Rule = "aiad" THEN x - Delta[i]
                  ELSE (x * Beta[i].num) \div Beta[i].den) < Dmin
              THEN "clamp" ELSE "decrease"
         ELSE IF (IF Rule = "mimd" THEN (x * Mu[i].num + Mu[i].den - 1) \div Mu[i].den
                  ELSE x + Alpha[i]) > Dmax
              THEN "clamp" ELSE "increase"

(* Lines l .. l+N-1 are the samples of window ticks+1, one per FVM, and   *)
(* HostTick appends exactly their bits.                                   *)
ExplainTick ==
    LET block == l .. l + N - 1
    IN  /\ l + N - 1 <= Len(Log)
        /\ \A k \in block : Log[k].kind = "sample" /\ Log[k].seq = ticks + 1
        /\ {Log[k].vm : k \in block} = 0 .. N - 1
        /\ HostTick
        /\ \A k \in block : q'[Id(Log[k].vm)][Len(q'[Id(Log[k].vm)])] = Log[k].congested
        /\ l' = l + N
        /\ ticks' = ticks + 1

(* Line l is FVM i's decision: it consumes its oldest pending window,     *)
(* whose number is ticks - Len(q[i]) + 1, and applies the rule.           *)
ExplainDecide ==
    LET e == Log[l]
        i == Id(e.vm)
    IN  /\ l <= Len(Log)
        /\ e.kind = "decide"
        /\ e.sample_seq = ticks - Len(q[i]) + 1
        /\ e.newest_seq = ticks
        /\ d[i] = e.d_before
        /\ Act(i)
        /\ d'[i] = e.d_after
        /\ e.branch = BranchOf(i, d[i], Head(q[i]))
        /\ l' = l + 1
        /\ UNCHANGED ticks

TraceNext == ExplainTick \/ ExplainDecide

TraceSpec == TraceInit /\ [][TraceNext]_traceVars

(* Checked after the search: some behavior explained every event.  The    *)
(* diameter counts states, so explaining k events reaches depth k + 1.    *)
TraceAccepted ==
    LET depth == TLCGet("stats").diameter
    IN  IF depth = NumEvents + 1 THEN TRUE
        ELSE PrintT(<<"FVMTrace: rejected: explained", depth - 1, "of", NumEvents, "events">>)
             /\ FALSE

(* While checking: every explained state is a state of FVM.               *)
TraceTypeOK == TypeOK /\ Bounds /\ DelayBound
=============================================================================
