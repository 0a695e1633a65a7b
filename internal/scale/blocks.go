package scale

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/tsdb/index"
	"github.com/prometheus/prometheus/tsdb/tombstones"
)

const (
	// blockSpan is the time one block covers at most; blocks are aligned to
	// UTC days. Prometheus runs with its compaction off (min = max block
	// duration = 2h, as under a Thanos sidecar), so it serves them as they
	// are and spends no CPU merging them while burnwatch is measured.
	blockSpan = 24 * time.Hour
	// samplesPerChunk is where Prometheus cuts a chunk of a 15s series.
	samplesPerChunk = 120
	// batchDBs is how many databases a worker generates at a time.
	batchDBs = 128
)

// WriteStats says how much a write put on disk and how fast.
type WriteStats struct {
	Blocks  int           `json:"blocks"`
	Series  int           `json:"series"`
	Samples int64         `json:"samples"`
	Bytes   int64         `json:"bytes"`
	Elapsed time.Duration `json:"elapsed_ns"`
}

// Rate is samples written per second.
func (s WriteStats) Rate() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Samples) / s.Elapsed.Seconds()
}

// Add sums two writes.
func (s WriteStats) Add(o WriteStats) WriteStats {
	return WriteStats{s.Blocks + o.Blocks, max(s.Series, o.Series), s.Samples + o.Samples, s.Bytes + o.Bytes, s.Elapsed + o.Elapsed}
}

// WriteBlocks advances every database of the fleet step by step over
// (from, to] (ms, on the Step grid) and writes their samples to dir as
// Prometheus TSDB blocks, one per UTC day or part of one: chunks encoded
// with the tsdb package's XOR encoding, the index in format 2, which
// Prometheus 2 and 3 both read.
func WriteBlocks(ctx context.Context, dir string, f *Fleet, from, to int64) (WriteStats, error) {
	start := time.Now()
	var st WriteStats
	spanMs := blockSpan.Milliseconds()
	for lo := from; lo < to; {
		hi := min((lo/spanMs+1)*spanMs, to) // the next UTC midnight, or to
		if hi-lo >= stepMs {
			bs, err := writeBlock(ctx, dir, f, lo, hi)
			if err != nil {
				return st, err
			}
			st = st.Add(bs)
		}
		lo = hi
	}
	st.Elapsed = time.Since(start)
	return st, nil
}

// dbChunks are one database's three series over a block, chunked.
type dbChunks [3][]chunks.Meta

// writeBlock writes one block of the steps in (from, to].
func writeBlock(ctx context.Context, dir string, f *Fleet, from, to int64) (WriteStats, error) {
	first := (from/stepMs + 1) * stepMs
	steps := int((to-first)/stepMs) + 1
	id := ulid.MustNew(ulid.Timestamp(time.Now()), rand.Reader)
	tmp := filepath.Join(dir, id.String()+".tmp")
	final := filepath.Join(dir, id.String())
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return WriteStats{}, err
	}
	defer os.RemoveAll(tmp)

	cw, err := chunks.NewWriter(filepath.Join(tmp, "chunks"))
	if err != nil {
		return WriteStats{}, fmt.Errorf("creating the chunks of block %s: %w", id, err)
	}
	defer cw.Close()

	// The index wants series sorted by labels and their chunks in the
	// order they were written: every database's queries first, then every
	// database's user errors, then its platform errors. So the queries'
	// chunks are written as they come, and the errors' (most of them
	// barely change, so they are small) wait until the end.
	n := f.Len()
	all := make([]dbChunks, n)
	var chunkCount int
	err = generate(ctx, f, first, steps, func(i int, c *dbChunks) error {
		chunkCount += len(c[0]) + len(c[1]) + len(c[2])
		if err := cw.WriteChunks(c[0]...); err != nil {
			return err
		}
		for k := range c[0] {
			c[0][k].Chunk = nil
		}
		all[i] = *c
		return nil
	})
	if err != nil {
		return WriteStats{}, fmt.Errorf("writing block %s: %w", id, err)
	}
	for s := 1; s <= 2; s++ {
		for i := range all {
			if err := cw.WriteChunks(all[i][s]...); err != nil {
				return WriteStats{}, fmt.Errorf("writing block %s: %w", id, err)
			}
			for k := range all[i][s] {
				all[i][s][k].Chunk = nil
			}
		}
	}
	if err := cw.Close(); err != nil {
		return WriteStats{}, fmt.Errorf("writing block %s: %w", id, err)
	}

	if err := writeIndex(ctx, filepath.Join(tmp, "index"), f, all); err != nil {
		return WriteStats{}, fmt.Errorf("writing the index of block %s: %w", id, err)
	}
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))
	if _, err := tombstones.WriteFile(discard, tmp, tombstones.NewMemTombstones()); err != nil {
		return WriteStats{}, err
	}
	samples := int64(3 * n * steps)
	meta := blockMeta{ULID: id.String(), MinTime: first, MaxTime: to + 1, Version: 1}
	meta.Stats.NumSamples, meta.Stats.NumFloatSamples = samples, samples
	meta.Stats.NumSeries, meta.Stats.NumChunks = 3*n, chunkCount
	meta.Compaction.Level, meta.Compaction.Sources = 1, []string{id.String()}
	b, err := json.MarshalIndent(meta, "", "\t")
	if err != nil {
		return WriteStats{}, err
	}
	if err := os.WriteFile(filepath.Join(tmp, "meta.json"), b, 0o644); err != nil {
		return WriteStats{}, err
	}
	size, err := dirSize(tmp)
	if err != nil {
		return WriteStats{}, err
	}
	if err := os.Rename(tmp, final); err != nil {
		return WriteStats{}, err
	}
	return WriteStats{Blocks: 1, Series: 3 * n, Samples: samples, Bytes: size}, nil
}

// blockMeta is a block's meta.json, as Prometheus's tsdb.BlockMeta writes
// it (that package would bring the whole of Prometheus's storage along).
type blockMeta struct {
	ULID    string `json:"ulid"`
	MinTime int64  `json:"minTime"`
	MaxTime int64  `json:"maxTime"`
	Stats   struct {
		NumSamples      int64 `json:"numSamples"`
		NumFloatSamples int64 `json:"numFloatSamples"`
		NumSeries       int   `json:"numSeries"`
		NumChunks       int   `json:"numChunks"`
	} `json:"stats"`
	Compaction struct {
		Level   int      `json:"level"`
		Sources []string `json:"sources"`
	} `json:"compaction"`
	Version int `json:"version"`
}

// generate advances every database over steps steps from first on, in
// batches on every core, and hands each database's chunks to out in
// database order, from one goroutine.
func generate(ctx context.Context, f *Fleet, first int64, steps int, out func(i int, c *dbChunks) error) error {
	n := f.Len()
	batches := (n + batchDBs - 1) / batchDBs
	results := make([]chan []dbChunks, batches)
	for b := range results {
		results[b] = make(chan []dbChunks, 1)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next sync.Mutex
	nextBatch := 0
	// window bounds how far workers run ahead of the writer, and so the
	// memory held by chunks not yet written.
	window := make(chan struct{}, 2*runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				select {
				case window <- struct{}{}:
				case <-ctx.Done():
					return
				}
				next.Lock()
				b := nextBatch
				nextBatch++
				next.Unlock()
				if b >= batches {
					<-window
					return
				}
				lo, hi := b*batchDBs, min((b+1)*batchDBs, n)
				res := make([]dbChunks, hi-lo)
				for i := lo; i < hi; i++ {
					res[i-lo] = advanceChunked(f, i, first, steps)
				}
				results[b] <- res
			}
		})
	}
	defer wg.Wait()
	for b := range batches {
		var res []dbChunks
		select {
		case res = <-results[b]:
		case <-ctx.Done():
			return ctx.Err()
		}
		<-window
		for k := range res {
			if err := out(b*batchDBs+k, &res[k]); err != nil {
				return err
			}
		}
	}
	return nil
}

// advanceChunked advances database i over steps steps from first on and
// returns its three series as XOR chunks of samplesPerChunk samples.
func advanceChunked(f *Fleet, i int, first int64, steps int) dbChunks {
	var out dbChunks
	var apps [3]chunkenc.Appender
	for k := range steps {
		t := first + int64(k)*stepMs
		f.Advance(i, t)
		v := f.state[i].values()
		if k%samplesPerChunk == 0 {
			for s := range 3 {
				c := chunkenc.NewXORChunk()
				apps[s], _ = c.Appender() // a new chunk's appender never fails
				out[s] = append(out[s], chunks.Meta{Chunk: c, MinTime: t})
			}
		}
		for s := range 3 {
			apps[s].Append(0, t, v[s])
			out[s][len(out[s])-1].MaxTime = t
		}
	}
	return out
}

// writeIndex writes the index of a block whose chunks are written: the
// symbols, then every series in label order with its chunks.
func writeIndex(ctx context.Context, name string, f *Fleet, all []dbChunks) error {
	iw, err := index.NewWriter(ctx, name)
	if err != nil {
		return err
	}
	defer iw.Close()
	syms := []string{labels.MetricName, QueriesMetric, ErrorsMetric, "code", UserCode, PlatformCode,
		"database", "instance", instanceLabel, "job", jobLabel}
	syms = append(syms, f.names...)
	slices.Sort(syms)
	for _, s := range slices.Compact(syms) {
		if err := iw.AddSymbol(s); err != nil {
			return err
		}
	}
	ref := storage.SeriesRef(0)
	for s := range 3 {
		for i := range all {
			ref++
			if err := iw.AddSeries(ref, f.seriesLabels(i)[s], all[i][s]...); err != nil {
				return err
			}
		}
	}
	return iw.Close()
}

// dirSize is the bytes of the files under dir.
func dirSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err == nil {
			n += info.Size()
		}
		return err
	})
	return n, err
}
