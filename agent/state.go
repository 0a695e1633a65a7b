package agent

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/burnwatch/burnwatch/querylog"
)

// stateVersion is the version of the state file's layout.
const stateVersion = 1

// stateFile is the name of the state in the agent's directory.
const stateFile = "agent.state"

// State is everything the agent needs to resume: where reading the log
// stands and what the lines before it counted. The counts and the position
// are written together in one atomic replace of the file, so after a
// kill -9 they always agree: no line is counted twice or skipped.
type State struct {
	Version int `json:"version"`
	// AgentID is random, made on the first start; with a batch's sequence
	// number it makes the batch's idempotency key, unique across agents
	// and across a state directory that was wiped.
	AgentID  string            `json:"agent_id"`
	Position querylog.Position `json:"position"`
	Tally    *Tally            `json:"tally"`
	// NextSeq is the sequence number of the next batch to spool: batch
	// files with a number at or past it were written by a step that did
	// not commit, and are removed on start.
	NextSeq uint64 `json:"next_seq"`
}

// loadState reads the state in dir, or makes a fresh one.
func loadState(dir string, minutes bool) (*State, error) {
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		id := make([]byte, 8)
		if _, err := rand.Read(id); err != nil {
			return nil, err
		}
		return &State{Version: stateVersion, AgentID: hex.EncodeToString(id), Tally: newTally(minutes), NextSeq: 1}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading agent state: %w", err)
	}
	s := &State{}
	if err := json.Unmarshal(b, s); err != nil {
		return nil, fmt.Errorf("reading agent state %s: %w", filepath.Join(dir, stateFile), err)
	}
	if s.Version != stateVersion {
		return nil, fmt.Errorf("agent state %s has version %d; this burnwatch reads version %d", filepath.Join(dir, stateFile), s.Version, stateVersion)
	}
	if s.Tally == nil {
		s.Tally = newTally(minutes)
	}
	if s.Tally.Totals == nil {
		s.Tally.Totals = map[string]*Counts{}
	}
	if s.Tally.Open == nil {
		s.Tally.Open = map[int64]map[string]*Counts{}
	}
	s.Tally.Dropped = map[string]int{}
	s.Tally.minutes = minutes
	if s.NextSeq == 0 {
		s.NextSeq = 1
	}
	return s, nil
}

// saveState replaces the state in dir atomically and durably.
func saveState(dir string, s *State) error {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("writing agent state: %w", err)
	}
	return writeFileAtomic(dir, stateFile, b)
}

// writeFileAtomic writes name in dir so that after a crash at any instant
// the file holds either its old content or the new one, whole: the new
// content goes to a temporary file, is synced, renamed over the old, and
// the directory is synced so that the rename itself survives.
func writeFileAtomic(dir, name string, b []byte) error {
	tmp, err := os.CreateTemp(dir, name+".*.tmp")
	if err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}
