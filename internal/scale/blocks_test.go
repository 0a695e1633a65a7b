package scale

import (
	"cmp"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/tsdb/index"
)

// TestBlocksHoldWhatTheFleetCounted writes a few hours across a midnight
// as blocks and reads every sample back with the tsdb package's readers:
// one block per UTC day, every series in it, and each sample the value a
// fleet advanced step by step reaches.
func TestBlocksHoldWhatTheFleetCounted(t *testing.T) {
	const n = 5
	dir := t.TempDir()
	midnight := time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC).UnixMilli()
	from, to := midnight-2*time.Hour.Milliseconds(), midnight+time.Hour.Milliseconds()
	st, err := WriteBlocks(context.Background(), dir, NewFleet(n, 7), from, to)
	if err != nil {
		t.Fatal(err)
	}
	steps := int((to - from) / stepMs)
	if st.Blocks != 2 || st.Samples != int64(3*n*steps) {
		t.Fatalf("wrote %d blocks of %d samples, want 2 of %d", st.Blocks, st.Samples, 3*n*steps)
	}

	// want[series labels] = every sample, in time order.
	want := map[string][]float64{}
	ref := NewFleet(n, 7)
	for k := 1; k <= steps; k++ {
		for i := range n {
			ref.Advance(i, from+int64(k)*stepMs)
			v := ref.state[i].values()
			for s, ls := range ref.seriesLabels(i) {
				want[ls.String()] = append(want[ls.String()], v[s])
			}
		}
	}
	got := map[string][]float64{}
	blocks, _ := filepath.Glob(filepath.Join(dir, "*", "meta.json"))
	// Blocks made in the same millisecond may sort either way by name.
	slices.SortFunc(blocks, func(a, b string) int { return cmp.Compare(readMeta(t, a).MinTime, readMeta(t, b).MinTime) })
	for _, m := range blocks {
		readBlock(t, filepath.Dir(m), got)
	}
	if len(got) != 3*n {
		t.Fatalf("%d series, want %d", len(got), 3*n)
	}
	for name, w := range want {
		g := got[name]
		if len(g) != len(w) {
			t.Errorf("%s: %d samples, want %d", name, len(g), len(w))
			continue
		}
		for k := range w {
			if g[k] != w[k] {
				t.Errorf("%s: sample %d is %g, want %g", name, k, g[k], w[k])
				break
			}
		}
	}
}

func readMeta(t *testing.T, name string) blockMeta {
	t.Helper()
	var meta blockMeta
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		t.Fatal(err)
	}
	return meta
}

// readBlock adds every sample of the block to got, by series.
func readBlock(t *testing.T, dir string, got map[string][]float64) {
	t.Helper()
	meta := readMeta(t, filepath.Join(dir, "meta.json"))
	ir, err := index.NewFileReader(filepath.Join(dir, "index"), index.DecodePostingsRaw)
	if err != nil {
		t.Fatal(err)
	}
	defer ir.Close()
	cr, err := chunks.NewDirReader(filepath.Join(dir, "chunks"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cr.Close()
	name, value := index.AllPostingsKey()
	p, err := ir.Postings(context.Background(), name, value)
	if err != nil {
		t.Fatal(err)
	}
	var builder labels.ScratchBuilder
	var metas []chunks.Meta
	for p.Next() {
		if err := ir.Series(p.At(), &builder, &metas); err != nil {
			t.Fatal(err)
		}
		ls := builder.Labels().String()
		for _, m := range metas {
			c, _, err := cr.ChunkOrIterable(m)
			if err != nil {
				t.Fatal(err)
			}
			it := c.Iterator(nil)
			for it.Next() == chunkenc.ValFloat {
				ts, v := it.At()
				if ts < meta.MinTime || ts >= meta.MaxTime {
					t.Errorf("%s: sample at %d outside the block's [%d, %d)", ls, ts, meta.MinTime, meta.MaxTime)
				}
				got[ls] = append(got[ls], v)
			}
		}
	}
	if p.Err() != nil {
		t.Fatal(p.Err())
	}
}

// BenchmarkWriteBlocks writes six hours of 1,000 databases (3,000 series,
// 4.3 million samples) per iteration.
func BenchmarkWriteBlocks(b *testing.B) {
	const n = 1000
	to := time.Date(2026, 11, 5, 6, 0, 0, 0, time.UTC).UnixMilli()
	from := to - 6*time.Hour.Milliseconds()
	var samples int64
	for b.Loop() {
		st, err := WriteBlocks(context.Background(), b.TempDir(), NewFleet(n, 1), from, to)
		if err != nil {
			b.Fatal(err)
		}
		samples += st.Samples
	}
	b.ReportMetric(float64(samples)/b.Elapsed().Seconds(), "samples/s")
}
