//go:build !windows

package store

import "os"

// syncDir makes the entries of folder dir (files renamed into it) durable.
func syncDir(dir string) error { return syncPath(dir, os.O_RDONLY) }
