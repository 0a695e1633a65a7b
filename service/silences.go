package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"unicode/utf8"

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
		if !requireContentType(w, r, false, "application/json") {
			return
		}
		limits := s.config().Limits
		if limits.MaxSilenceBytes == 0 {
			limits.MaxSilenceBytes = slo.DefaultMaxSilenceBytes
		}
		var sil silence.Silence
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, int64(limits.MaxSilenceBytes)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&sil); err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				s.metrics.dropped(dropSilenceBytes, 1)
				s.log.Info("a silence was refused", "reason", dropSilenceBytes, "limit", limits.MaxSilenceBytes)
				respondError(w, http.StatusRequestEntityTooLarge, "a silence is at most %d bytes (limits.max_silence_bytes)", limits.MaxSilenceBytes)
				return
			}
			writeJSONBody(w, http.StatusBadRequest, map[string]any{"error": "the body is not a silence: " + err.Error()})
			return
		}
		// One at a time, so that no two adds pass the limit together.
		s.silencing.Lock()
		defer s.silencing.Unlock()
		if n := s.silencesHeld(sil.ID); over(n+1, limits.MaxSilences) {
			s.metrics.dropped(dropSilences, 1)
			s.log.Info("a silence was refused", "reason", dropSilences, "limit", limits.MaxSilences)
			respondError(w, http.StatusBadRequest, "%d silences have not ended, the most there may be (limits.max_silences); delete some that are no longer needed", n)
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
		s.log.Info("silence added", "id", added.ID, "author", logText(added.Author), "comment", logText(added.Comment), "end", added.End)
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

// silencesHeld counts the silences that have not ended, but the one of
// the given ID, which an add would replace rather than add to.
func (s *Service) silencesHeld(replacing string) int {
	now := s.now()
	n := 0
	for _, sil := range s.silenceSet().List(now) {
		if sil.End.After(now) && (replacing == "" || sil.ID != replacing) {
			n++
		}
	}
	return n
}

// maxLogText is how much of a text a client wrote goes into a log line.
const maxLogText = 200

// logText is a text a client wrote as a log line shows it: cut to
// maxLogText bytes (at a rune's start), so that no client makes the log
// as large as its request.
func logText(s string) string {
	if len(s) <= maxLogText {
		return s
	}
	cut := maxLogText
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// writeJSONBody is respondJSON.
func writeJSONBody(w http.ResponseWriter, status int, v any) { respondJSON(w, status, v) }
