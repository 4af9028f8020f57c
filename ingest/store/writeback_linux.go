//go:build linux

package store

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to begin writing f's dirty pages to disk
// now, without waiting for them (sync_file_range with
// SYNC_FILE_RANGE_WRITE). A worker calls it on the file it has just
// written, so that by the time the publisher fsyncs the file the data is
// on its way and fsync waits mostly for the journal: a goroutine in fsync
// holds its P while the disk works, and on two cores that is half the
// machine. It is advice only, with no guarantee of durability: Publish's
// fsync is what makes a file durable and reports the disk's errors.
func startWriteback(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SyncFileRange(int(fd), 0, 0, unix.SYNC_FILE_RANGE_WRITE)
	}); err != nil {
		return err
	}
	return serr
}
