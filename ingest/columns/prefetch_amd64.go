package columns

// prefetchRefs asks the CPU to fetch the first cache line of each of the n
// values at refs (nulls and empty values skipped) from the bytes at data
// into its caches, without waiting for them. A prefetch never faults.
//
//go:noescape
func prefetchRefs(data *byte, refs *ref, n int)
