package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenReadOnly(t *testing.T) {
	ctx := context.Background()

	t.Run("reads a file another DB holds open, commits made after it opened included", func(t *testing.T) {
		w, path := openTemp(t)
		a1 := histHour(histA, 1, 1, code("500", 2))
		if err := w.Commit(ctx, Cycle{Time: cycleTime(1), History: []HistoryHour{a1},
			HistoryCursors: map[string]int64{"slo-a": 2},
			Journal:        []JournalEntry{{Instance: histB, Minute: 60, Total: 5}}}); err != nil {
			t.Fatal(err)
		}
		// The writer holds the lock: a second Open is refused, a read-only
		// open is not.
		if _, err := Open(path); !errors.Is(err, ErrLocked) {
			t.Fatalf("Open beside the writer: %v, want ErrLocked", err)
		}
		r, err := OpenReadOnly(path)
		if err != nil {
			t.Fatalf("OpenReadOnly beside the writer: %v", err)
		}
		defer r.Close()
		checkHours(t, readHistory(t, r, histA, 0, 10), []HistoryHour{a1})
		checkCodes(t, readCodes(t, r, "slo-a", nil, 0, 10), []CodeTotal{total(histA, "500", 2)})

		a2 := histHour(histA, 2, 2, code("503", 1))
		if err := w.Commit(ctx, Cycle{Time: cycleTime(2), History: []HistoryHour{a2},
			HistoryCursors: map[string]int64{"slo-a": 3}}); err != nil {
			t.Fatalf("the writer's commit with a reader open: %v", err)
		}
		checkHours(t, readHistory(t, r, histA, 0, 10), []HistoryHour{a1, a2})
		checkCodes(t, readCodes(t, r, "slo-a", nil, 0, 10), []CodeTotal{total(histA, "500", 2), total(histA, "503", 1)})
		got, err := r.Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want, err := w.Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		checkState(t, got, want)
		if got.LastCycle != cycleTime(2) || !maps.Equal(got.HistoryCursors, map[string]int64{"slo-a": 3}) {
			t.Errorf("read-only Load: last cycle %d, history cursors %v; want %d, {slo-a: 3}", got.LastCycle, got.HistoryCursors, cycleTime(2))
		}
	})

	t.Run("every write through it fails and changes nothing", func(t *testing.T) {
		w, path := openTemp(t)
		a1 := histHour(histA, 1, 1, code("500", 2))
		if err := w.Commit(ctx, Cycle{Time: cycleTime(1), History: []HistoryHour{a1}}); err != nil {
			t.Fatal(err)
		}
		r, err := OpenReadOnly(path)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		before, err := w.Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			name  string
			write func() error
		}{
			{"a Commit", func() error {
				return r.Commit(ctx, Cycle{Time: cycleTime(2), History: []HistoryHour{histHour(histA, 2, 2)},
					Journal: []JournalEntry{{Instance: histB, Minute: 60, Total: 1}}})
			}},
			{"an empty Commit", func() error { return r.Commit(ctx, Cycle{Time: cycleTime(3)}) }},
			{"AppendBatch", func() error { _, err := r.AppendBatch(ctx, 1, []byte("{}\n")); return err }},
			{"PruneHistory", func() error { return r.PruneHistory(ctx, 100) }},
			{"Prune", func() error { return r.Prune(ctx, 1<<62) }},
		} {
			t.Run(tt.name+" fails", func(t *testing.T) {
				err := tt.write()
				if err == nil {
					t.Fatal("the write succeeded, want an error")
				}
				if !strings.Contains(err.Error(), "readonly database") {
					t.Errorf("error %q, want SQLite's refusal to write a read-only database", err)
				}
			})
		}
		after, err := w.Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		checkState(t, after, before)
		checkHours(t, readHistory(t, w, histA, 0, 10), []HistoryHour{a1})
		if bs, err := w.PendingBatches(ctx); err != nil || len(bs) != 0 {
			t.Errorf("pending batches %v, %v; want none", bs, err)
		}
		// The writer goes on.
		if err := w.Commit(ctx, Cycle{Time: cycleTime(2)}); err != nil {
			t.Errorf("the writer's commit after the failed writes: %v", err)
		}
	})

	t.Run("a missing file is an error and is not created", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "missing.db")
		if db, err := OpenReadOnly(path); err == nil {
			db.Close()
			t.Fatal("OpenReadOnly of a missing file succeeded")
		} else if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), path) {
			t.Errorf("error %q, want one that is ErrNotExist and names %s", err, path)
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the missing file exists after OpenReadOnly: %v", err)
		}
	})

	for _, tt := range []struct {
		name    string
		version int
		is      error
		says    []string
	}{
		{"an older schema is refused: serve must migrate it first", schemaVersion - 1, nil,
			[]string{fmt.Sprintf("schema version %d", schemaVersion-1), fmt.Sprintf("reads %d", schemaVersion), "start burnwatch serve on it once"}},
		{"a newer schema is refused", schemaVersion + 1, ErrNewerSchema,
			[]string{fmt.Sprintf("version %d", schemaVersion+1), fmt.Sprintf("up to %d", schemaVersion)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db, path := openTemp(t)
			db.Close()
			raw, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			if _, err := raw.Exec(`UPDATE schema_version SET version = ?`, tt.version); err != nil {
				t.Fatal(err)
			}
			r, err := OpenReadOnly(path)
			if err == nil {
				r.Close()
				t.Fatal("OpenReadOnly succeeded")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v, want %v", err, tt.is)
			}
			for _, s := range append(tt.says, path) {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			// Nothing was migrated.
			var v int
			if err := raw.QueryRow(`SELECT version FROM schema_version`).Scan(&v); err != nil || v != tt.version {
				t.Errorf("schema version %d (%v) after OpenReadOnly, want %d left as it was", v, err, tt.version)
			}
		})
	}
}
