package webhook_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/burnwatch/burnwatch/notify/webhook"
)

// A receiver checks the signature over the body exactly as it arrived,
// then that sent_at is recent, and only then acts on the notification.
func ExampleVerify() {
	secret := []byte("wh-secret-7f3a9c2e51b84d06") // the secret file's content, trimmed
	const maxAge = 5 * time.Minute
	handler := func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil || !webhook.Verify(secret, body, r.Header.Get(webhook.SignatureHeader)) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var p webhook.Payload
		if err := json.Unmarshal(body, &p); err != nil || p.Version != webhook.Version {
			http.Error(w, "not a version 1 body", http.StatusBadRequest)
			return
		}
		if time.Since(p.SentAt) > maxAge {
			http.Error(w, "stale", http.StatusBadRequest)
			return
		}
		fmt.Printf("%s %s %s: %s\n", p.State, p.Severity, p.SLO, p.PlaybookURL)
	}

	body := fmt.Sprintf(`{"version":"1","alert_id":"8b71","kind":"burn-rate","slo":"cypher-availability","severity":"page","state":"firing","sent_at":%q,"playbook_url":"http://burnwatch.example:9099/playbooks/database-unavailable"}`,
		time.Now().UTC().Format(time.RFC3339))
	for _, sig := range []string{webhook.Sign(secret, []byte(body)), webhook.Sign([]byte("guess"), []byte(body))} {
		req := httptest.NewRequest(http.MethodPost, "/hooks/burnwatch", strings.NewReader(body))
		req.Header.Set(webhook.SignatureHeader, sig)
		rec := httptest.NewRecorder()
		handler(rec, req)
		fmt.Println(rec.Code)
	}
	// Output:
	// firing page cypher-availability: http://burnwatch.example:9099/playbooks/database-unavailable
	// 200
	// 401
}
