package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

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

// silenceRoutes serves POST, GET and DELETE /api/v1/silences.
func (s *Service) silenceRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/silences", func(w http.ResponseWriter, r *http.Request) {
		writeJSONBody(w, http.StatusOK, map[string]any{"silences": s.silenceSet().List(s.now())})
	})
	mux.HandleFunc("GET /api/v1/silences/{id}", func(w http.ResponseWriter, r *http.Request) {
		sil, ok := s.silenceSet().Get(r.PathValue("id"))
		if !ok {
			writeJSONBody(w, http.StatusNotFound, map[string]any{"error": fmt.Sprintf("no silence %q", r.PathValue("id"))})
			return
		}
		writeJSONBody(w, http.StatusOK, sil)
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
		// fails. A reload rebuilds the set from the store and swaps it in;
		// a silence added to the old set meanwhile is in the store, and
		// its set is taken again below so that the new set has it too.
		set := s.silenceSet()
		added, err := set.Add(sil, s.now())
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
			set.Delete(added.ID)
			s.log.Error("storing a silence", "err", err)
			writeJSONBody(w, http.StatusServiceUnavailable, map[string]any{"error": "the silence could not be stored"})
			return
		}
		if now := s.silenceSet(); now != set {
			now.Restore([]silence.Silence{added})
		}
		s.log.Info("silence added", "id", added.ID, "author", added.Author, "comment", added.Comment, "end", added.End)
		writeJSONBody(w, http.StatusCreated, added)
	})
	mux.HandleFunc("DELETE /api/v1/silences/{id}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if _, ok := s.silenceSet().Get(id); !ok {
			writeJSONBody(w, http.StatusNotFound, map[string]any{"error": fmt.Sprintf("no silence %q", id)})
			return
		}
		if _, err := s.db.DeleteSilence(r.Context(), id); err != nil {
			s.log.Error("deleting a silence", "err", err)
			writeJSONBody(w, http.StatusServiceUnavailable, map[string]any{"error": "the silence could not be deleted"})
			return
		}
		s.silenceSet().Delete(id)
		s.log.Info("silence deleted", "id", id)
		w.WriteHeader(http.StatusNoContent)
	})
}

func (s *Service) silenceSet() *silence.Set { return s.cur.Load().silences }

// writeJSONBody is respondJSON.
func writeJSONBody(w http.ResponseWriter, status int, v any) { respondJSON(w, status, v) }
