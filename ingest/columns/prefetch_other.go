//go:build !amd64

package columns

// prefetchRefs does nothing where iamlens has no prefetch instruction.
func prefetchRefs(data *byte, refs *ref, n int) {}
