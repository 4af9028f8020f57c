#include "textflag.h"

// WALK walks the CX refs at BX and prefetches data+off (data in AX) for
// each ref whose n is positive, then runs DONE. A ref is read as
// prefetch_amd64.go asserts Go lays it out: off, a uint32 at byte 0; n, an
// int32 at byte 4; 8 bytes a ref. SEEN runs after each prefetch with the
// ref's off in DX. Both functions below are this one loop, so the test of
// prefetchRefsSum checks the reads of prefetchRefs.
#define WALK(SEEN, DONE) \
	TESTQ CX, CX; \
	JLE done; \
loop: \
	MOVLQZX 0(BX), DX; \
	MOVL 4(BX), SI; \
	TESTL SI, SI; \
	JLE next; \
	PREFETCHT0 (AX)(DX*1); \
	SEEN; \
next: \
	ADDQ $8, BX; \
	DECQ CX; \
	JNZ loop; \
done: \
	DONE; \
	RET

// prefetchRefsSum adds off+1 for each ref prefetched into DI, and
// returns it.
#define SUM_SEEN LEAQ 1(DI)(DX*1), DI
#define SUM_DONE MOVQ DI, sum+24(FP)

// func prefetchRefs(data *byte, refs *ref, n int)
TEXT ·prefetchRefs(SB), NOSPLIT, $0-24
	MOVQ data+0(FP), AX
	MOVQ refs+8(FP), BX
	MOVQ n+16(FP), CX
	WALK(NOP, NOP)

// func prefetchRefsSum(data *byte, refs *ref, n int) (sum uint64)
TEXT ·prefetchRefsSum(SB), NOSPLIT, $0-32
	MOVQ data+0(FP), AX
	MOVQ refs+8(FP), BX
	MOVQ n+16(FP), CX
	XORQ DI, DI
	WALK(SUM_SEEN, SUM_DONE)
