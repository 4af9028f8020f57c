#include "textflag.h"

// func prefetchRefs(data *byte, refs *ref, n int)
TEXT ·prefetchRefs(SB), NOSPLIT, $0-24
	MOVQ data+0(FP), AX
	MOVQ refs+8(FP), BX
	MOVQ n+16(FP), CX
	TESTQ CX, CX
	JLE done
loop:
	MOVLQZX 0(BX), DX
	MOVL 4(BX), SI
	TESTL SI, SI
	JLE next
	PREFETCHT0 (AX)(DX*1)
next:
	ADDQ $8, BX
	DECQ CX
	JNZ loop
done:
	RET
