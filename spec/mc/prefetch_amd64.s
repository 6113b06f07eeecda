#include "textflag.h"

// func prefetchAsm(slots *uint64, homes []uint64)
// Issues PREFETCHT0 for &slots[h] for every h in homes.
TEXT ·prefetchAsm(SB), NOSPLIT, $0-32
	MOVQ slots+0(FP), AX
	MOVQ homes_base+8(FP), SI
	MOVQ homes_len+16(FP), CX
	TESTQ CX, CX
	JEQ done
loop:
	MOVQ (SI), BX
	PREFETCHT0 (AX)(BX*8)
	ADDQ $8, SI
	DECQ CX
	JNE loop
done:
	RET
