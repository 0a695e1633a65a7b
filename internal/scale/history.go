package scale

import (
	"context"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// History is a simulated fleet's past as a Prometheus data directory holds
// it, and the fleet's state at its end, from which the live target goes on.
type History struct {
	// Fleet is at End: its next step is End + Step.
	Fleet *Fleet
	// Start and End are the first and the last sample's times.
	Start, End time.Time
	// Written is what generating the cached part wrote, and how fast; it
	// is the cache's record when Cached.
	Written WriteStats
	Cached  bool
	// Gap is what was written from the cached part's end up to now, into
	// the run's data directory only.
	Gap WriteStats
}

// Samples is every sample the history holds.
func (h *History) Samples() int64 { return h.Written.Samples + h.Gap.Samples }

// cacheInfo is a cached history's record, written last: a directory
// without one is incomplete.
type cacheInfo struct {
	Databases int        `json:"databases"`
	Days      float64    `json:"days"`
	Seed      uint64     `json:"seed"`
	Start     time.Time  `json:"start"`
	End       time.Time  `json:"end"`
	Written   WriteStats `json:"written"`
}

const (
	infoFile   = "info.json"
	stateFile  = "state.gob"
	blocksDir  = "blocks"
	cacheModes = 0o755
)

// PrepareHistory fills dataDir (new or empty) with n databases × days of
// history ending now, for a Prometheus to open. The blocks come from
// cacheDir when a history of the same (n, days, seed) ended there less than
// maxAge ago, and are generated there otherwise; the run's directory gets
// hard links to them (copies across file systems), so Prometheus never
// changes the cache. The time between the cached end and now is generated
// into dataDir as one more block, so that the counters run on without a
// gap or a reset.
func PrepareHistory(ctx context.Context, log *slog.Logger, cacheDir, dataDir string, n int, days float64, seed uint64, maxAge time.Duration, now time.Time) (*History, error) {
	key := filepath.Join(cacheDir, fmt.Sprintf("n%d-d%s-s%d", n, strconv.FormatFloat(days, 'g', -1, 64), seed))
	info, err := readInfo(key)
	cached := err == nil && now.Sub(info.End) <= maxAge
	if cached {
		log.Info("reusing the cached history", "dir", key, "end", info.End.Format(time.RFC3339))
	} else {
		if err == nil {
			log.Info("the cached history is too old; generating it again", "dir", key, "end", info.End.Format(time.RFC3339), "max_age", maxAge)
		}
		if info, err = generateHistory(ctx, log, key, n, days, seed, now); err != nil {
			return nil, err
		}
	}
	h := &History{Start: info.Start, End: info.End, Written: info.Written, Cached: cached}
	if h.Fleet, err = loadState(key, n, seed); err != nil {
		return nil, err
	}
	if err := linkTree(filepath.Join(key, blocksDir), dataDir); err != nil {
		return nil, fmt.Errorf("linking the cached blocks into %s: %w", dataDir, err)
	}
	end := now.Truncate(Step)
	if end.After(info.End) {
		if h.Gap, err = WriteBlocks(ctx, dataDir, h.Fleet, info.End.UnixMilli(), end.UnixMilli()); err != nil {
			return nil, fmt.Errorf("writing the history since the cached end: %w", err)
		}
		h.End = end
	}
	return h, nil
}

// generateHistory writes the history of n databases over days ending at
// now into the cache directory key, replacing whatever is there.
func generateHistory(ctx context.Context, log *slog.Logger, key string, n int, days float64, seed uint64, now time.Time) (cacheInfo, error) {
	end := now.Truncate(Step)
	span := time.Duration(days * float64(24*time.Hour)).Truncate(Step)
	if span < Step {
		return cacheInfo{}, fmt.Errorf("%g days is less than one step of %s", days, Step)
	}
	info := cacheInfo{Databases: n, Days: days, Seed: seed, Start: end.Add(-span + Step), End: end}
	tmp := fmt.Sprintf("%s.tmp-%d", key, os.Getpid())
	if err := os.RemoveAll(tmp); err != nil {
		return info, err
	}
	if err := os.MkdirAll(filepath.Join(tmp, blocksDir), cacheModes); err != nil {
		return info, err
	}
	defer os.RemoveAll(tmp)
	log.Info("generating the history", "databases", n, "days", days, "series", 3*n, "samples", int64(3*n)*int64(span/Step), "dir", key)
	f := NewFleet(n, seed)
	st, err := WriteBlocks(ctx, filepath.Join(tmp, blocksDir), f, end.Add(-span).UnixMilli(), end.UnixMilli())
	if err != nil {
		return info, err
	}
	info.Written = st
	log.Info("history written", "samples", st.Samples, "bytes", st.Bytes, "seconds", st.Elapsed.Seconds(), "samples_per_second", st.Rate())
	if err := saveState(filepath.Join(tmp, stateFile), f); err != nil {
		return info, err
	}
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return info, err
	}
	if err := os.WriteFile(filepath.Join(tmp, infoFile), b, 0o644); err != nil {
		return info, err
	}
	if err := os.RemoveAll(key); err != nil {
		return info, err
	}
	return info, os.Rename(tmp, key)
}

func readInfo(key string) (cacheInfo, error) {
	var info cacheInfo
	b, err := os.ReadFile(filepath.Join(key, infoFile))
	if err != nil {
		return info, err
	}
	return info, json.Unmarshal(b, &info)
}

// saveState writes every database's state, in order.
func saveState(name string, f *Fleet) error {
	states := make([]DBState, f.Len())
	for i := range states {
		states[i] = f.State(i)
	}
	file, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := gob.NewEncoder(file).Encode(states); err != nil {
		file.Close()
		return err
	}
	return file.Close()
}

// loadState returns the fleet of the seed with the states saved in key.
func loadState(key string, n int, seed uint64) (*Fleet, error) {
	file, err := os.Open(filepath.Join(key, stateFile))
	if err != nil {
		return nil, err
	}
	defer file.Close()
	var states []DBState
	if err := gob.NewDecoder(file).Decode(&states); err != nil {
		return nil, fmt.Errorf("reading %s: %w", file.Name(), err)
	}
	if len(states) != n {
		return nil, fmt.Errorf("%s holds %d databases, want %d", file.Name(), len(states), n)
	}
	f := NewFleet(n, seed)
	for i, s := range states {
		f.SetState(i, s)
	}
	return f, nil
}

// linkTree makes dst hold the files of src, as hard links where it can and
// as copies where it cannot.
func linkTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, cacheModes)
		}
		if os.Link(path, target) != nil { // another file system, or one without hard links
			return copyFile(path, target)
		}
		return nil
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
