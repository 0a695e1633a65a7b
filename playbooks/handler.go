package playbooks

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
)

// URL returns the address of a playbook's page: base (burnwatch's external
// URL, as a responder's browser reaches it) + "/playbooks/" + id. An empty
// base gives a path alone.
func URL(base, id string) string {
	return strings.TrimRight(base, "/") + "/playbooks/" + url.PathEscape(id)
}

// contentSecurityPolicy lets a page do nothing but show itself: its own
// inline styles, images from anywhere a playbook links them; no script, no
// frames, no forms.
const contentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Handler serves s as HTML: GET /playbooks/ lists the playbooks,
// GET /playbooks/{id} shows one (404 with a page that helps when there is no
// such id), and GET /playbooks/{id}.md returns its Markdown body. The query
// parameters fill the playbook's placeholders ({{database}} with
// ?database=db-2), as an alert's link (InstanceURL) gives them. Markdown is
// rendered once, here, since a Set does not change.
func Handler(s *Set) http.Handler {
	h := &handler{set: s, pages: map[string]rendered{}}
	for _, p := range s.all() {
		r, err := p.render()
		if err != nil {
			// Rendering Markdown does not fail on content; keep the
			// playbook reachable as Markdown rather than not at all.
			slog.Error("rendering playbook", "playbook", p.ID, "source", p.Source, "err", err)
			continue
		}
		h.pages[p.ID] = r
	}
	var index bytes.Buffer
	if err := pages.ExecuteTemplate(&index, "index", map[string]any{"Playbooks": s.all()}); err != nil {
		slog.Error("rendering playbook index", "err", err)
	}
	h.index = index.Bytes()

	mux := http.NewServeMux()
	mux.HandleFunc("GET /playbooks/{$}", h.serveIndex)
	mux.HandleFunc("GET /playbooks/{id}", h.servePlaybook)
	return mux
}

type handler struct {
	set   *Set
	pages map[string]rendered // by id
	index []byte
}

func (h *handler) serveIndex(w http.ResponseWriter, r *http.Request) {
	write(w, http.StatusOK, "text/html; charset=utf-8", h.index)
}

func (h *handler) servePlaybook(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if md, ok := strings.CutSuffix(id, ".md"); ok {
		if p, ok := h.set.Get(md); ok {
			write(w, http.StatusOK, "text/markdown; charset=utf-8", fillingFor(p, r.URL.Query()).fillMarkdown(p.Body))
			return
		}
		id = md
	}
	if rd, ok := h.pages[id]; ok {
		p, _ := h.set.Get(id)
		page, err := rd.page(p, fillingFor(p, r.URL.Query()))
		if err == nil {
			write(w, http.StatusOK, "text/html; charset=utf-8", page)
			return
		}
		slog.Error("laying out playbook", "playbook", id, "err", err)
	}
	if p, ok := h.set.Get(id); ok {
		// Its page failed to render (logged at start): the Markdown is
		// still what the responder needs.
		write(w, http.StatusOK, "text/plain; charset=utf-8", p.Body)
		return
	}
	var page bytes.Buffer
	err := pages.ExecuteTemplate(&page, "notfound", map[string]any{
		"ID":        id,
		"Suggest":   closest(id, h.set.IDs()),
		"Playbooks": h.set.all(),
	})
	if err != nil {
		slog.Error("rendering playbook not-found page", "err", err)
		http.NotFound(w, r)
		return
	}
	write(w, http.StatusNotFound, "text/html; charset=utf-8", page.Bytes())
}

func write(w http.ResponseWriter, status int, contentType string, body []byte) {
	hd := w.Header()
	hd.Set("Content-Type", contentType)
	hd.Set("Content-Security-Policy", contentSecurityPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cache-Control", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
