------------------------------ MODULE FVMTrace ------------------------------
(***************************************************************************)
(* Trace validation: is one VM's recorded trace a behavior of FVM in open  *)
(* mode?                                                                   *)
(*                                                                         *)
(* The trace is a JSONL file in the format of package trace (version 2),   *)
(* read with the Json module's ndJsonDeserialize: a real run's per-VM file *)
(* (the runner writes one per guest) or a simulated run (several VMs in    *)
(* one file).  The VM TraceVM is checked against FVM with one FVM whose    *)
(* constants come from that VM's header (package tla generates the model   *)
(* module).  Open mode: the host is the environment, so a HostTick takes   *)
(* the congested bit the sample line carries (TickWith), and the bit is    *)
(* checked against the sample's own measurement, signal > Theta.  Of the  *)
(* VM's lines, FVM explains three kinds (header, actuate, host and end     *)
(* carry no step of the model):                                            *)
(*                                                                         *)
(*   - "sample" seq k: TickWith(bit) of window k, the next window;         *)
(*   - "decide": Act on the oldest pending window, with the rule's result  *)
(*     (branch increase, decrease, clamp), or Act then Hold when it is a   *)
(*     hold on a window (a garbage window the rule does not use; one never *)
(*     logged as a sample is ticked first), or Hold alone when it consumes *)
(*     no window (sample_seq 0: a fallback after silence);                 *)
(*   - "gap" a..b (Loss): the windows a..b were ticked and later dropped   *)
(*     by the ticks of newer windows, which FVM's loss does exactly when   *)
(*     each was more than Delay windows older than the newest window       *)
(*     (newest_seq) and nothing older was pending.  The newer windows'     *)
(*     bits appear only in the sample lines that follow, so a gap is one   *)
(*     step of this spec that checks that condition and leaves d and q as  *)
(*     they are: the net effect of those ticks and drops on the dropped    *)
(*     windows.                                                            *)
(*                                                                         *)
(* Every decision also checks the delay bound: newest_seq - sample_seq <=  *)
(* Delay.  The trace is a behavior iff some behavior of TraceSpec explains *)
(* every line, i.e. iff the search reaches depth Len(Log) + 1, which the   *)
(* POSTCONDITION TraceAccepted checks.  The initial demand is a hidden     *)
(* variable when the header has no init_d: TLC tries every one.            *)
(***************************************************************************)
EXTENDS FVM, Json, TLC

CONSTANTS
    TraceFile,  \* path of the JSONL trace
    TraceVM     \* the vm field of the lines to explain

ASSUME N = 1 /\ ~SymRule   \* a trace records one congestion bit per window

(* The one FVM of the model.                                               *)
I == CHOOSE i \in FVMs : TRUE

Lines == ndJsonDeserialize(TraceFile)
Log   == SelectSeq(Lines, LAMBDA e : e.vm = TraceVM /\ e.kind \in {"sample", "decide", "gap"})

Header == CHOOSE h \in {Lines[k] : k \in 1..Len(Lines)} : h.kind = "header" /\ h.vm = TraceVM

VARIABLES
    l,       \* the next line of Log to explain
    next,    \* the next window expected (0: any, before the first)
    newest,  \* the newest window seen
    pend     \* Log indices of the sampled windows pending, parallel to q[I]

traceVars == <<d, q, ph, l, next, newest, pend>>

(* The signal of a sample line in permille: steal_permille, or for vct    *)
(* vct_permille capped at a VCT of 1000, with a window that got no CPU     *)
(* counted as 1000 times if it wanted some and as 1 if not.               *)
Cap == 1000000
SignalOf(e) ==
    IF Signal = "steal" THEN e.steal_permille
    ELSE IF e.cpu_ns = 0 THEN (IF e.want_ns > 0 THEN Cap ELSE 1000)
    ELSE IF e.vct_permille > Cap THEN Cap ELSE e.vct_permille

(* The congested bit agrees with the measurement (no bit to check on the  *)
(* shared host, whose bit is the environment's alone).                    *)
BitOK(e) == Host = "shared" \/ RatLess(Theta, [num |-> SignalOf(e), den |-> 1000]) = e.congested

(* The rule's branch as package ref names it: "clamp" when the clamp cut  *)
(* the result (or the demand was already at the bound).                   *)
BranchOf(i, x, c) ==
    IF c THEN IF (IF Rule = "aiad" THEN x - Delta[i]
                  ELSE (x * Beta[i].num) \div Beta[i].den) < Dmin
              THEN "clamp" ELSE "decrease"
         ELSE IF (IF Rule = "mimd" THEN (x * Mu[i].num + Mu[i].den - 1) \div Mu[i].den
                  ELSE x + Alpha[i]) > Dmax
              THEN "clamp" ELSE "increase"

TraceInit ==
    /\ Init
    /\ l = 1 /\ next = 0 /\ newest = 0 /\ pend = <<>>
    /\ "init_d" \in DOMAIN Header => d[I] = Header.init_d

InOrder(k) == next = 0 \/ k = next

ExplainSample ==
    LET e == Log[l]
    IN  /\ e.kind = "sample"
        /\ InOrder(e.seq)
        /\ ~Full(I)             \* a dropped sampled window needs a gap line
        /\ TickWith([i \in FVMs |-> e.congested])
        /\ pend' = Append(pend, l)
        /\ next' = e.seq + 1
        /\ newest' = IF e.seq > newest THEN e.seq ELSE newest

(* What every decision on a window checks: the window is the oldest one   *)
(* pending, it is at most Delay windows old, and d_before is FVM's d.     *)
Decides(e) ==
    /\ e.kind = "decide" /\ e.sample_seq > 0
    /\ e.newest_seq >= newest
    /\ e.newest_seq - e.sample_seq <= Delay[I]
    /\ d[I] = e.d_before
    /\ newest' = e.newest_seq

ExplainRule ==
    LET e == Log[l]
    IN  /\ Decides(e)
        /\ e.branch \in {"increase", "decrease", "clamp"}
        /\ pend # <<>> /\ Log[Head(pend)].seq = e.sample_seq
        /\ BitOK(Log[Head(pend)])
        /\ e.branch = BranchOf(I, d[I], Head(q[I]))
        /\ Act(I)
        /\ d'[I] = e.d_after
        /\ pend' = Tail(pend)
        /\ UNCHANGED next

ExplainHoldOnWindow ==
    LET e == Log[l]
    IN  /\ Decides(e)
        /\ e.branch = "hold"
        /\ e.d_after \in Dmin..Dmax
        /\ \/ /\ pend # <<>> /\ Log[Head(pend)].seq = e.sample_seq
              \* Act(I) then Hold(I, d_after)
              /\ q' = [q EXCEPT ![I] = Tail(@)]
              /\ d' = [d EXCEPT ![I] = e.d_after]
              /\ UNCHANGED ph
              /\ pend' = Tail(pend)
              /\ UNCHANGED next
           \/ /\ pend = <<>> /\ InOrder(e.sample_seq)
              \* a window never logged as a sample: its tick, Act, Hold
              /\ ~Full(I)
              /\ UNCHANGED <<q, ph>>
              /\ d' = [d EXCEPT ![I] = e.d_after]
              /\ UNCHANGED pend
              /\ next' = e.sample_seq + 1

ExplainFallback ==
    LET e == Log[l]
    IN  /\ e.kind = "decide" /\ e.sample_seq = 0 /\ e.branch = "hold"
        /\ d[I] = e.d_before
        /\ Hold(I, e.d_after)
        /\ UNCHANGED <<next, newest, pend>>

ExplainGap ==
    LET e == Log[l]
    IN  /\ e.kind = "gap"
        /\ Loss
        /\ pend = <<>> /\ InOrder(e.from_seq)
        /\ "newest_seq" \in DOMAIN e
        /\ e.newest_seq - e.to_seq > Delay[I]
        /\ UNCHANGED <<d, q, ph, pend>>
        /\ next' = e.to_seq + 1
        /\ newest' = IF e.newest_seq > newest THEN e.newest_seq ELSE newest

TraceNext ==
    /\ l <= Len(Log)
    /\ l' = l + 1
    /\ \/ ExplainSample \/ ExplainRule \/ ExplainHoldOnWindow
       \/ ExplainFallback \/ ExplainGap

TraceSpec == TraceInit /\ [][TraceNext]_traceVars

(* Checked after the search: some behavior explained every line.  The     *)
(* diameter counts states, so explaining k lines reaches depth k + 1.     *)
TraceAccepted ==
    LET depth == TLCGet("stats").diameter
    IN  IF depth = Len(Log) + 1 THEN TRUE
        ELSE PrintT(<<"FVMTrace: rejected: explained", depth - 1, "of", Len(Log), "events">>)
             /\ FALSE

(* While checking: every explained state is a state of FVM.               *)
TraceTypeOK == TypeOK /\ Bounds /\ DelayBound
=============================================================================
