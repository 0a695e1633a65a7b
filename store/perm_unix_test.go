//go:build unix

package store

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestStateIsPrivate: the state holds every tenant's names and counts
// and the silences' authors; no other user of the machine may read it.
func TestStateIsPrivate(t *testing.T) {
	ctx := context.Background()
	t.Run("only its owner can read the state: the directory 0700, every file 0600", func(t *testing.T) {
		old := syscall.Umask(0o022)
		defer syscall.Umask(old)
		dir := filepath.Join(t.TempDir(), "data")
		path := filepath.Join(dir, "burnwatch.db")
		db, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		// Written and read, so that the WAL and its shared memory exist.
		if err := db.Commit(ctx, Cycle{Time: 1}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Load(ctx); err != nil {
			t.Fatal(err)
		}
		want := map[string]os.FileMode{dir: 0o700, path: 0o600, path + "-wal": 0o600, path + "-shm": 0o600, path + ".lock": 0o600}
		for p, mode := range want {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode().Perm(); got != mode {
				t.Errorf("%s has mode %v, want %v", filepath.Base(p), got, mode)
			}
		}
	})

	t.Run("the files an older burnwatch left readable by others are made 0600", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "burnwatch.db")
		db, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		db.Close()
		for _, p := range []string{path, path + ".lock"} {
			if err := os.Chmod(p, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		db, err = Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for _, p := range []string{path, path + ".lock"} {
			if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
				t.Errorf("%s has mode %v after Open, want 0600", filepath.Base(p), fi.Mode().Perm())
			}
		}
	})

}
