package columns

import "unsafe"

// prefetchRefs asks the CPU to fetch the first cache line of each of the n
// values at refs (nulls and empty values skipped) from the bytes at data
// into its caches, without waiting for them. A prefetch never faults.
//
//go:noescape
func prefetchRefs(data *byte, refs *ref, n int)

// prefetchRefsSum is prefetchRefs (the same loop of the assembly) that
// also returns the sum of off+1 over the refs it prefetched, so that
// TestPrefetch can check which refs the assembly reads.
//
//go:noescape
func prefetchRefsSum(data *byte, refs *ref, n int) (sum uint64)

// The assembly reads a ref as off, a uint32 at byte 0, and n, an int32 at
// byte 4, 8 bytes a ref. Each declaration below fails to compile when that
// layout changes (an index out of range of a one-element array, or a type
// that is not assignable): change prefetch_amd64.s with it.
var (
	_        = [1]struct{}{}[unsafe.Offsetof(ref{}.off)^0]
	_        = [1]struct{}{}[unsafe.Offsetof(ref{}.n)^4]
	_        = [1]struct{}{}[unsafe.Sizeof(ref{})^8]
	_ uint32 = ref{}.off
	_ int32  = ref{}.n
)
