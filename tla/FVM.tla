-------------------------------- MODULE FVM --------------------------------
(***************************************************************************)
(* Friendly Virtual Machines: N FVMs share a host.  Each FVM adjusts its   *)
(* CPU demand d[i] with a rule (AIMD by default) on congestion samples     *)
(* that reach it through a bounded-delay FIFO q[i].                        *)
(*                                                                         *)
(* This module restates spec/MODEL.md for TLC.  It must agree with the Go  *)
(* reference implementation (package ref) to the state: a TLC state is    *)
(* exactly a ref.State, the pair (d, q), with no auxiliary variables, so   *)
(* TLC and the Go checker (fvm check) find the same number of distinct     *)
(* states.  The tests in package tla check that they do.                   *)
(*                                                                         *)
(*   - HostTick: the host computes one congestion bit per FVM from the     *)
(*     CURRENT demands (host models shared, fair, duty) and appends it to  *)
(*     every FIFO at once.  A FIFO i holds at most Delay[i]+1 samples:     *)
(*     without Loss, HostTick is disabled while one is full, so no sample  *)
(*     is ever dropped and none waits more than Delay[i] further ticks;    *)
(*     with Loss, HostTick drops a full FIFO's oldest sample (it has       *)
(*     become older than the delay bound).                                 *)
(*   - Act(i): FVM i consumes its oldest sample and applies its rule.      *)
(*                                                                         *)
(* All arithmetic is on integers: a rational r is a record [num, den] and  *)
(* every comparison is done by cross-multiplication, exactly as in ref.    *)
(* TLC's integers are 32-bit; the Go test tla.TestIntegerRange proves for  *)
(* every configuration that no intermediate value here leaves that range.  *)
(*                                                                         *)
(* The constants are given by the generated model files                   *)
(* tla/generated/MC_<config>.tla/.cfg (`fvm tlc gen`), which are computed  *)
(* from the same JSON configurations (configs/) as the Go checker's,     *)
(* including the efficiency band [Lo, Hi] and the fairness tolerance Eps  *)
(* from package ref (proved in proofs/).                                    *)
(***************************************************************************)
EXTENDS Integers, Sequences, FiniteSets

CONSTANTS
    FVMs,     \* The set of FVM identifiers.  The generated models use model
              \* values, so that SYMMETRY can permute identical FVMs.
    U,        \* Demand units per core: demand x means awake x/U of the time.
    C,        \* Host capacity in units (U = one core); C = U under "duty".
    Kappa,    \* "shared": congested iff the total demand exceeds Kappa * C.
    Greedy,   \* Sequence of the fixed demands of the non-adaptive VMs.
    Host,     \* "shared", "fair", "duty" or "duty-idle".
    Signal,   \* Under "fair" and "duty": FVM i's observable, "vct" or "steal".
    Theta,    \* Under "fair" and "duty": congested_i iff signal_i > Theta.
    Rule,     \* "aimd", "mimd", "aiad", "aimd-prop" or "aimd-phase".
    Alpha,    \* [FVMs -> Nat]: additive increase (aimd, aiad).
    Beta,     \* [FVMs -> rational in (0,1)]: multiplicative decrease.
    Mu,       \* [FVMs -> rational in (1,10]]: multiplicative increase (mimd).
    Delta,    \* [FVMs -> Nat]: additive decrease (aiad).
    Delay,    \* [FVMs -> 0..15]: FVM i's delay bound; its FIFO holds Delay[i]+1.
    Loss,     \* BOOLEAN: a tick into a full FIFO drops its oldest sample.
    Phases,   \* aimd-phase: ticks in a phase cycle (1 for the other rules).
    Phase,    \* [FVMs -> Nat]: the tick phase in which FVM i acts on congestion.
    Dmin,     \* Demand bounds, 1 <= Dmin <= Dmax <= U: an FVM never starves
    Dmax,     \* itself.
    Lo, Hi,   \* The efficiency band (ref.EfficiencyBand; "shared" only).
    Eps,      \* The rounding residual of projected demands (ref.FairTolerance).
    Floor,    \* [FVMs -> Nat]: the demand floor (ref.DemandFloor; duty+steal).
    Ceiling   \* [FVMs -> Nat]: the demand ceiling (ref.DemandCeiling;
              \* duty+steal beside greedy VMs).

(* MODEL.md's N, the number of FVMs.                                       *)
N == Cardinality(FVMs)

(* A rational number num/den with den > 0.                                 *)
IsRat(r) == r.num \in Nat /\ r.den \in Nat \ {0}

ASSUME
    /\ FVMs # {} /\ IsFiniteSet(FVMs)
    /\ U \in Nat \ {0} /\ C \in Nat \ {0}
    /\ Greedy \in Seq(0..U)
    /\ Host \in {"shared", "fair", "duty", "duty-idle"}
    /\ Rule \in {"aimd", "mimd", "aiad", "aimd-prop", "aimd-phase"}
    /\ Phases \in Nat \ {0} /\ \A i \in FVMs : Phase[i] \in 0..Phases - 1
    /\ Rule = "aimd-prop" => Host \in {"duty", "duty-idle"} /\ Signal = "steal"
    /\ Host = "shared" => IsRat(Kappa)
    /\ Host # "shared" => Signal \in {"vct", "steal"} /\ IsRat(Theta)
    /\ Host \in {"duty", "duty-idle"} => C = U
    /\ Dmin \in 1..U /\ Dmax \in Dmin..U
    /\ \A i \in FVMs : Delay[i] \in Nat
    /\ Loss \in BOOLEAN
    /\ Rule # "mimd" => \A i \in FVMs : Alpha[i] \in 1..U
    /\ Rule # "aiad" => \A i \in FVMs : IsRat(Beta[i]) /\ Beta[i].num < Beta[i].den
    /\ Rule = "mimd" => \A i \in FVMs : IsRat(Mu[i]) /\ Mu[i].num > Mu[i].den
    /\ Rule = "aiad" => \A i \in FVMs : Delta[i] \in 1..U

VARIABLES
    d,   \* d[i] \in Dmin..Dmax: FVM i's demand.
    q,   \* q[i] \in Seq(Samples): FVM i's pending samples, oldest first:
         \* congestion bits (TRUE = congested), or symbols under the
         \* two-bit rules.
    ph   \* the phase of the next tick, 0..Phases-1 (always 0 but under
         \* aimd-phase).

vars == <<d, q, ph>>

-----------------------------------------------------------------------------
(***************************************************************************)
(* Arithmetic helpers.                                                     *)
(***************************************************************************)

(* The sum of f[x] over the finite set S. *)
RECURSIVE SumOver(_, _)
SumOver(f, S) == IF S = {} THEN 0
                 ELSE LET x == CHOOSE x \in S : TRUE
                      IN  f[x] + SumOver(f, S \ {x})

(* The sum of the elements of a sequence of integers. *)
RECURSIVE SumSeq(_)
SumSeq(s) == IF s = <<>> THEN 0 ELSE Head(s) + SumSeq(Tail(s))

GreedyTotal == SumSeq(Greedy)

Min(S) == CHOOSE x \in S : \A y \in S : x <= y
Max(S) == CHOOSE x \in S : \A y \in S : x >= y

RECURSIVE GCD(_, _)
GCD(a, b) == IF b = 0 THEN a ELSE GCD(b, a % b)

(* lcm(1..n), as ref.dutyExpectation computes it: l := lcm(l, k) for     *)
(* k = 2..n, with lcm(a, b) = a \div gcd(a, b) * b.                       *)
RECURSIVE LcmUpTo(_)
LcmUpTo(n) == IF n <= 1 THEN 1
              ELSE LET l == LcmUpTo(n - 1) IN (l \div GCD(l, n)) * n

RECURSIVE Power(_, _)
Power(b, e) == IF e = 0 THEN 1 ELSE Power(b, e - 1) * b

(* r < s for rationals, by cross-multiplication (ref.Rat.Less). *)
RatLess(r, s) == r.num * s.den < s.num * r.den

-----------------------------------------------------------------------------
(***************************************************************************)
(* The rules (spec/MODEL.md, "Rules"; ref.Params.Apply).  Every result is  *)
(* clamped to Dmin..Dmax.  Decreases round down, the MIMD increase rounds  *)
(* up.  x is a demand, c the congestion bit.                               *)
(***************************************************************************)
Decrease(i, x) ==
    LET n == IF Rule = "aiad" THEN x - Delta[i]
             ELSE (x * Beta[i].num) \div Beta[i].den
    IN  IF n < Dmin THEN Dmin ELSE n

Increase(i, x) ==
    LET n == IF Rule = "mimd" THEN (x * Mu[i].num + Mu[i].den - 1) \div Mu[i].den
             ELSE x + Alpha[i]
    IN  IF n > Dmax THEN Dmax ELSE n

(* aimd-prop's mild decrease: floor(x * (1+beta)/2).                      *)
MildDecrease(i, x) ==
    LET n == (x * (Beta[i].num + Beta[i].den)) \div (2 * Beta[i].den)
    IN  IF n < Dmin THEN Dmin ELSE n

(* The rules aimd-prop and aimd-phase queue a symbol per sample            *)
(* (vocab.Symbol) instead of a bit: 0 clear (increase), 1 congested       *)
(* (decrease), 2 mild (aimd-prop: the mild decrease), 3 deferred          *)
(* (aimd-phase: congested off the FVM's phase: no change).                *)
SymRule == Rule \in {"aimd-prop", "aimd-phase"}
Samples == IF SymRule THEN 0..3 ELSE BOOLEAN

Apply(i, x, c) ==
    IF SymRule THEN CASE c = 0 -> Increase(i, x)
                      [] c = 1 -> Decrease(i, x)
                      [] c = 2 -> MildDecrease(i, x)
                      [] c = 3 -> x
    ELSE IF c THEN Decrease(i, x) ELSE Increase(i, x)

(* FVM i's demand after it consumes every sample in s, starting from x.   *)
RECURSIVE ApplyAll(_, _, _)
ApplyAll(i, x, s) == IF s = <<>> THEN x ELSE ApplyAll(i, Apply(i, x, Head(s)), Tail(s))

(* FVM i's projected demand d*_i: its demand after consuming every sample *)
(* pending in q[i] (ref.Projected).  Act(i) does not change it.           *)
Projected(i) == ApplyAll(i, d[i], q[i])

-----------------------------------------------------------------------------
(***************************************************************************)
(* Host models (spec/MODEL.md, "Host models"; ref/host.go).  Each maps a   *)
(* demand vector dd \in [FVMs -> Nat] to the congestion bit of every FVM,  *)
(* [FVMs -> BOOLEAN].  The greedy VMs' demands are part of the host.       *)
(***************************************************************************)

(* Under "fair" and "duty", FVM i is congested iff its observable exceeds *)
(* Theta; vct and steal are given as rationals [num, den].                *)
Exceeds(vct, steal) == IF Signal = "steal" THEN RatLess(Theta, steal)
                                           ELSE RatLess(Theta, vct)

(* shared (Chiu-Jain): one bit for everyone,                               *)
(* congested iff sum(d) + sum(Greedy) > Kappa * C.                        *)
SharedCongested(dd) ==
    LET c == Kappa.den * (SumOver(dd, FVMs) + GreedyTotal) > Kappa.num * C
    IN  [i \in FVMs |-> c]

(* fair: max-min fair water-filling of C over all VMs (ref.observeFair).  *)
(* Go sorts the demands and, from the smallest, fully serves each VM x    *)
(* with x * k <= rem (k the VMs not yet served, rem the capacity left),   *)
(* stopping at the first that does not fit.  Water(F, G, rem) does the    *)
(* same on sets, serving all VMs of the smallest demand at once (if one   *)
(* copy of m fits, m * k <= rem, then so does the next:                   *)
(* m * (k-1) <= rem - m).  F are the FVMs and G the indices of the greedy *)
(* VMs not yet served.  The result is <<rem, k>>: the water level is      *)
(* rem/k.                                                                 *)
RECURSIVE Water(_, _, _, _)
Water(dd, F, G, rem) ==
    LET k == Cardinality(F) + Cardinality(G)
        m == Min({dd[i] : i \in F} \cup {Greedy[j] : j \in G})
    IN  IF k = 0 \/ m * k > rem THEN <<rem, k>>
        ELSE Water(dd, {i \in F : dd[i] # m}, {j \in G : Greedy[j] # m},
                   rem - m * (Cardinality({i \in F : dd[i] = m})
                              + Cardinality({j \in G : Greedy[j] = m})))

FairCongested(dd) ==
    LET saturated == SumOver(dd, FVMs) + GreedyTotal > C
        w   == IF saturated THEN Water(dd, FVMs, 1..Len(Greedy), C)
                            ELSE <<C, N + Len(Greedy)>>
        rem == w[1]
        k   == w[2]
    IN  [i \in FVMs |->
            IF ~saturated \/ dd[i] * k <= rem
            THEN \* fully served: vct = 1, steal = 0
                 Exceeds([num |-> 1, den |-> 1], [num |-> 0, den |-> 1])
            ELSE \* served the water level rem/k:
                 \* vct = x*k/rem, steal = (x*k - rem)/(k*U)
                 Exceeds([num |-> dd[i] * k, den |-> rem],
                         [num |-> dd[i] * k - rem, den |-> k * U])]

(* duty: VM j is awake a fraction r_j = x_j/U of every actuation period  *)
(* with independent phases, and the awake VMs split the core equally, so  *)
(* s_i = r_i * E[1/(1+K_i)], K_i the number of other VMs awake.           *)
(*                                                                         *)
(* A distribution p is the sequence of numerators of P(K = k) over U^m,   *)
(* p[k+1] for k = 0..m.  AddVM convolves it with one more Bernoulli(x/U)  *)
(* VM, exactly as the inner loop of ref.dutyExpectation does.             *)
AddVM(p, x) ==
    [k \in 1..Len(p) + 1 |->
        (IF k <= Len(p) THEN p[k] * (U - x) ELSE 0)
      + (IF k > 1 THEN p[k - 1] * x ELSE 0)]

(* The distribution over the FVMs in S (the order does not matter: the    *)
(* convolution is commutative), then over the greedy VMs 1..n.            *)
RECURSIVE DistFVMs(_, _)
DistFVMs(dd, S) == IF S = {} THEN <<1>>
                   ELSE LET j == CHOOSE j \in S : TRUE
                        IN  AddVM(DistFVMs(dd, S \ {j}), dd[j])

RECURSIVE DistGreedy(_, _)
DistGreedy(p, n) == IF n = 0 THEN p ELSE AddVM(DistGreedy(p, n - 1), Greedy[n])

(* E[1/(1+K_i)] = num/den with den = U^m * lcm(1..m+1), m the number of   *)
(* other VMs: num = sum_k p[k+1] * (lcm/(k+1)).                           *)
DutyExpectation(dd, i) ==
    LET p == DistGreedy(DistFVMs(dd, FVMs \ {i}), Len(Greedy))
        m == Len(p) - 1
        l == LcmUpTo(m + 1)
    IN  [num |-> SumOver([k \in 1..m + 1 |-> p[k] * (l \div k)], 1..m + 1),
         den |-> l * Power(U, m)]

DutyCongested(dd) ==
    [i \in FVMs |->
        LET e == DutyExpectation(dd, i)
        IN  \* vct = 1/E = den/num, steal = r_i * (1 - E) = x*(den-num)/(U*den)
            Exceeds([num |-> e.den, den |-> e.num],
                    [num |-> dd[i] * (e.den - e.num), den |-> U * e.den])]

(* aimd-prop on the duty hosts (steal): 0 while steal <= Theta, 2 (mild)  *)
(* while Theta < steal <= 2 Theta, 1 above: steal/2 > Theta.              *)
PropSamples(dd) ==
    [i \in FVMs |->
        LET e == DutyExpectation(dd, i)
            steal == [num |-> dd[i] * (e.den - e.num), den |-> U * e.den]
        IN  IF ~RatLess(Theta, steal) THEN 0
            ELSE IF RatLess(Theta, [num |-> steal.num, den |-> 2 * steal.den]) THEN 1
            ELSE 2]

(* duty-idle (work-conserving pause): during its pause a VM runs at       *)
(* SCHED_IDLE instead of sleeping.  Its normal-priority fractions share   *)
(* the core as under duty, and the signal is measured over them, so the   *)
(* bits are duty's; with probability prod_j (1 - x_j/U) no VM is at       *)
(* normal priority, and then the N FVMs split the core.                   *)
(*                                                                         *)
(* E[1/(1+K)] for greedy VM j: every FVM and the other greedy VMs.        *)
RECURSIVE DistGreedyBut(_, _, _)
DistGreedyBut(p, n, j) == IF n = 0 THEN p
                          ELSE IF n = j THEN DistGreedyBut(p, n - 1, j)
                          ELSE AddVM(DistGreedyBut(p, n - 1, j), Greedy[n])

GreedyExpectation(dd, j) ==
    LET p == DistGreedyBut(DistFVMs(dd, FVMs), Len(Greedy), j)
        m == Len(p) - 1
        l == LcmUpTo(m + 1)
    IN  [num |-> SumOver([k \in 1..m + 1 |-> p[k] * (l \div k)], 1..m + 1),
         den |-> l * Power(U, m)]

RECURSIVE ProdSeq(_)
ProdSeq(s) == IF s = <<>> THEN 1 ELSE Head(s) * ProdSeq(Tail(s))

(* prod_j (U - x_j) over every VM: U^(N+G) times P(no VM awake).         *)
RECURSIVE ProdOver(_, _)
ProdOver(f, S) == IF S = {} THEN 1
                  ELSE LET x == CHOOSE x \in S : TRUE
                       IN  f[x] * ProdOver(f, S \ {x})

AllPaused(dd) ==
    ProdOver([i \in FVMs |-> U - dd[i]], FVMs)
    * ProdSeq([j \in 1..Len(Greedy) |-> U - Greedy[j]])

(* The shares of every VM sum to one core (WorkConserving).  With M = N+G *)
(* VMs every E has the denominator l * U^(M-1), l = lcm(1..M).  FVM i's   *)
(* share is x_i*E_i.num / (l*U^M) + AllPaused / (N*U^M) (its normal part  *)
(* and its equal part of the idle time), greedy VM j's g_j*E_j.num /      *)
(* (l*U^M); multiplied by N*l*U^M they must sum to N*l*U^M.               *)
SharesSumToOne(dd) ==
    LET M == N + Len(Greedy)
        l == LcmUpTo(M)
    IN  SumOver([i \in FVMs |-> N * dd[i] * DutyExpectation(dd, i).num + l * AllPaused(dd)], FVMs)
        + N * SumSeq([j \in 1..Len(Greedy) |-> Greedy[j] * GreedyExpectation(dd, j).num])
        = N * l * Power(U, M)

(* Every FVM's congestion bit for demand vector dd (ref.Params.Congested). *)
Congested(dd) ==
    CASE Host = "shared" -> SharedCongested(dd)
      [] Host = "fair"   -> FairCongested(dd)
      [] Host \in {"duty", "duty-idle"} -> DutyCongested(dd)

-----------------------------------------------------------------------------
(***************************************************************************)
(* The specification.                                                      *)
(***************************************************************************)

(* Every demand vector in [Dmin, Dmax]^N, all FIFOs empty: convergence and *)
(* fairness are claimed from any start (and, under aimd-phase, from any    *)
(* tick phase).                                                              *)
Init == /\ d \in [FVMs -> Dmin..Dmax]
        /\ q = [i \in FVMs |-> <<>>]
        /\ ph \in 0..Phases - 1

(* A tick that appends bit c[i] to every FIFO i.  Without Loss it is      *)
(* disabled while some FIFO is full, so nothing is ever lost; with Loss a *)
(* full FIFO first drops its oldest sample.                               *)
Full(i) == Len(q[i]) > Delay[i]

TickWith(c) == /\ Loss \/ \A i \in FVMs : ~Full(i)
               /\ q' = [i \in FVMs |-> Append(IF Full(i) THEN Tail(q[i]) ELSE q[i], c[i])]
               /\ ph' = (ph + 1) % Phases
               /\ UNCHANGED d

(* Congested(dd) for every demand vector, computed once: a zero-argument  *)
(* constant-level definition, which TLC evaluates before the search, so   *)
(* the host model's exact arithmetic is not redone in every state.        *)
CongestedTable == [dd \in [FVMs -> Dmin..Dmax] |->
                      IF Rule = "aimd-prop" THEN PropSamples(dd) ELSE Congested(dd)]

(* A tick's samples from the table's entry c in tick phase p: under       *)
(* aimd-phase a congested FVM off its phase gets 3 (deferred).            *)
TickSamples(c, p) ==
    IF Rule = "aimd-phase"
    THEN [i \in FVMs |-> IF ~c[i] THEN 0 ELSE IF Phase[i] = p THEN 1 ELSE 3]
    ELSE c

(* WorkConserving for every demand vector, computed once (duty-idle).    *)
ConservingTable == [dd \in [FVMs -> Dmin..Dmax] |->
                       Host # "duty-idle" \/ SharesSumToOne(dd)]

(* The host samples every FVM at once from the current demands.           *)
HostTick == TickWith(TickSamples(CongestedTable[d], ph))

(* FVM i consumes its oldest sample and applies its rule.                  *)
Act(i) == /\ q[i] # <<>>
          /\ d' = [d EXCEPT ![i] = Apply(i, @, Head(q[i]))]
          /\ q' = [q EXCEPT ![i] = Tail(@)]
          /\ UNCHANGED ph

Next == HostTick \/ \E i \in FVMs : Act(i)

(* Weak fairness on HostTick and on each Act(i).  There is no deadlock:    *)
(* when HostTick is disabled some FIFO is full and its Act(i) is enabled. *)
Spec == /\ Init /\ [][Next]_vars
        /\ WF_vars(HostTick)
        /\ \A i \in FVMs : WF_vars(Act(i))

(* The fairness assumption about loss (spec/MODEL.md, "Fairness"): losses *)
(* end.  A behavior that keeps dropping samples forever lets the          *)
(* environment choose which samples each FVM sees, and no convergence     *)
(* claim can hold of it; the liveness properties below assume LossesEnd.  *)
(* Without Loss there is no lossy tick and LossesEnd is true.             *)
LossyTick  == HostTick /\ \E i \in FVMs : Full(i)
LossesEnd  == <>[][~LossyTick]_vars

(* Open mode (trace validation): the environment sets FVM i's demand to v *)
(* outside the rule (a safe fallback, a restart); FIFO untouched.         *)
Hold(i, v) == /\ v \in Dmin..Dmax
              /\ d' = [d EXCEPT ![i] = v]
              /\ UNCHANGED <<q, ph>>

-----------------------------------------------------------------------------
(***************************************************************************)
(* Properties (spec/MODEL.md, "Properties"), with the same names as in    *)
(* the Go checker (package spec).                                          *)
(***************************************************************************)

TypeOK == /\ d \in [FVMs -> 1..U]
          /\ q \in [FVMs -> Seq(Samples)]
          /\ ph \in 0..Phases - 1

Bounds == \A i \in FVMs : Dmin <= d[i] /\ d[i] <= Dmax

DelayBound == \A i \in FVMs : Len(q[i]) <= Delay[i] + 1

(* Every FVM is awake a positive fraction of every period.  Implied by    *)
(* Bounds; kept because it is the paper's claim.                          *)
NoStarvation == \A i \in FVMs : d[i] >= Dmin /\ Dmin > 0

(* shared host only: the total demand ends up in the band [Lo, Hi].       *)
InBand == LET s == SumOver(d, FVMs) IN Lo <= s /\ s <= Hi
Efficient == LossesEnd => <>[]InBand

(* shared host only: the projected demands end up within Eps of each      *)
(* other.  Projected, not current, demands: under interleaving one FVM    *)
(* may have applied a decrease that another has not yet.                  *)
ProjectedGap == LET P == {Projected(i) : i \in FVMs} IN Max(P) - Min(P)
DemandsConverge == LossesEnd => <>[](ProjectedGap <= Eps)

(* duty host with the steal signal: every FVM's demand ends up at or      *)
(* above its proved floor, so the core is used at least                   *)
(* 1 - prod_i (1 - Floor[i]/U).                                           *)
AboveFloor == \A i \in FVMs : d[i] >= Floor[i]
Utilised == LossesEnd => <>[]AboveFloor

(* duty-idle host: the shares of every VM sum to one core in every       *)
(* state: the core is never idle.                                          *)
WorkConserving == ConservingTable[d]

(* duty hosts with the steal signal, beside greedy VMs: every FVM's       *)
(* demand ends up at or below its proved ceiling, so every greedy VM      *)
(* keeps at least its share there.                                         *)
BelowCeiling == \A i \in FVMs : d[i] <= Ceiling[i]
Friendly == LossesEnd => <>[]BelowCeiling

THEOREM Spec => []TypeOK /\ []Bounds /\ []DelayBound /\ []NoStarvation
=============================================================================
