//go:build windows

package store

// syncDir does nothing on Windows, which has no folder fsync: a folder
// opens only read-only there, and FlushFileBuffers on a read-only handle
// fails with "Access is denied". NTFS records a rename in its metadata
// journal; the renames' durability then rests on it, and on the manifest's
// flush that Commit makes after them.
func syncDir(dir string) error { return nil }
