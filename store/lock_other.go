//go:build !unix

package store

import "os"

// lockFile does nothing where flock(2) does not exist: there, keeping one
// burnwatch per storage path is the operator's job.
func lockFile(path string) (*os.File, error) { return nil, nil }

func unlockFile(f *os.File) error { return nil }
