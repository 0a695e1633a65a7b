package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/burnwatch/burnwatch/burnrate"
	"github.com/burnwatch/burnwatch/silence"
	"github.com/burnwatch/burnwatch/slo"
	"github.com/burnwatch/burnwatch/store"
)

// loadSilences builds the set of silences and maintenance windows: the
// config's windows and silences, and those made through the API, kept in
// the store.
func (s *Service) loadSilences(ctx context.Context, cfg *slo.Config) (*silence.Set, error) {
	set, err := silence.NewSet(cfg.Maintenance)
	if err != nil {
		return nil, err
	}
	now := s.now()
	recs, err := s.db.Silences(ctx, now.Add(-silence.ExpiredRetention).UnixMilli())
	if err != nil {
		return nil, err
	}
	var sils []silence.Silence
	for _, r := range recs {
		var sil silence.Silence
		if err := json.Unmarshal(r.Body, &sil); err != nil {
			return nil, fmt.Errorf("silence %s in the store: %w", r.ID, err)
		}
		sils = append(sils, sil)
	}
	for _, sil := range cfg.Silences {
		if !sil.End.After(now) {
			s.log.Info("a silence in the config has ended; skipped", "id", sil.ID)
			continue
		}
		sils = append(sils, sil)
	}
	set.Restore(sils)
	return set, nil
}

// excludedFunc says whether an instance's failures at a time fall in a
// maintenance window excluded from the budget; nil when no window is.
func excludedFunc(windows []silence.Window) func(*burnrate.Instance, int64) bool {
	var ex []silence.Window
	for _, w := range windows {
		if w.ExcludeFromBudget {
			ex = append(ex, w)
		}
	}
	if len(ex) == 0 {
		return nil
	}
	return func(in *burnrate.Instance, ts int64) bool {
		// The minute bucket ending at ts holds (ts−1m, ts]: its events
		// happened in the minute before.
		t := time.UnixMilli(ts - 1)
		for _, w := range ex {
			if w.ActiveAt(t) && w.Applies(in.Spec.SLO.Name, in.Labels.Map()) {
				return true
			}
		}
		return false
	}
}

// silenceRoutes serves POST, GET and DELETE /api/v1/silences.
func (s *Service) silenceRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/silences", func(w http.ResponseWriter, r *http.Request) {
		writeJSONBody(w, http.StatusOK, map[string]any{"silences": s.silenceSet().List(s.now())})
	})
	mux.HandleFunc("POST /api/v1/silences", func(w http.ResponseWriter, r *http.Request) {
		var sil silence.Silence
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&sil); err != nil {
			writeJSONBody(w, http.StatusBadRequest, map[string]any{"error": "the body is not a silence: " + err.Error()})
			return
		}
		// Added (validated and named), stored, and taken back if the store
		// fails, all under the read lock a reload takes for writing: a
		// reload rebuilds the set from the store, and must see every
		// silence the API has acknowledged.
		s.mu.RLock()
		defer s.mu.RUnlock()
		added, err := s.silences.Add(sil, s.now())
		if err != nil {
			body := map[string]any{"error": err.Error()}
			var fes silence.FieldErrors
			if errors.As(err, &fes) {
				body["errors"] = fes
			}
			writeJSONBody(w, http.StatusBadRequest, body)
			return
		}
		b, _ := json.Marshal(added)
		if err := s.db.PutSilence(r.Context(), store.SilenceRecord{ID: added.ID, Ends: added.End.UnixMilli(), Body: b}); err != nil {
			s.silences.Delete(added.ID)
			s.log.Error("storing a silence", "err", err)
			writeJSONBody(w, http.StatusServiceUnavailable, map[string]any{"error": "the silence could not be stored"})
			return
		}
		s.log.Info("silence added", "id", added.ID, "author", added.Author, "comment", added.Comment, "end", added.End)
		writeJSONBody(w, http.StatusCreated, added)
	})
	mux.HandleFunc("DELETE /api/v1/silences/{id}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		s.mu.RLock()
		defer s.mu.RUnlock()
		if _, ok := s.silences.Get(id); !ok {
			writeJSONBody(w, http.StatusNotFound, map[string]any{"error": fmt.Sprintf("no silence %q", id)})
			return
		}
		if _, err := s.db.DeleteSilence(r.Context(), id); err != nil {
			s.log.Error("deleting a silence", "err", err)
			writeJSONBody(w, http.StatusServiceUnavailable, map[string]any{"error": "the silence could not be deleted"})
			return
		}
		s.silences.Delete(id)
		s.log.Info("silence deleted", "id", id)
		w.WriteHeader(http.StatusNoContent)
	})
}

func (s *Service) silenceSet() *silence.Set {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.silences
}

func writeJSONBody(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
