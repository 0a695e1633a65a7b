package service

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	coordv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
)

// fakeLeaseAPI is the part of the Kubernetes API that client-go's Lease
// lock uses, coordination.k8s.io/v1 Leases: GET, POST (create) and PUT
// (update, refused with 409 on a stale resourceVersion, as the API server
// does), over HTTP on loopback, so that separate processes contend for one
// Lease. It records every write with the server's time.
type fakeLeaseAPI struct {
	mu     sync.Mutex
	leases map[string]*coordv1.Lease // by namespace/name
	rv     int
	writes []leaseWrite
}

// leaseWrite is one accepted create or update of a Lease.
type leaseWrite struct {
	At     time.Time // the server's clock
	Holder string
	// Renew is the lease's renewTime as written; Duration its
	// leaseDurationSeconds.
	Renew    time.Time
	Duration time.Duration
}

const leasePrefix = "/apis/coordination.k8s.io/v1/namespaces/"

func (f *fakeLeaseAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, leasePrefix)
	parts := strings.Split(rest, "/")
	if !ok || len(parts) < 2 || parts[1] != "leases" || len(parts) > 3 {
		status(w, http.StatusNotFound, "NotFound")
		return
	}
	ns, name := parts[0], ""
	if len(parts) == 3 {
		name = parts[2]
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.leases == nil {
		f.leases = map[string]*coordv1.Lease{}
	}
	switch {
	case r.Method == http.MethodGet && name != "":
		l, ok := f.leases[ns+"/"+name]
		if !ok {
			status(w, http.StatusNotFound, "NotFound")
			return
		}
		writeLease(w, http.StatusOK, l)
	case r.Method == http.MethodPost && name == "":
		l, ok := decodeLease(r)
		if !ok {
			status(w, http.StatusBadRequest, "BadRequest")
			return
		}
		key := ns + "/" + l.Name
		if _, ok := f.leases[key]; ok {
			status(w, http.StatusConflict, "AlreadyExists")
			return
		}
		f.store(key, ns, l)
		writeLease(w, http.StatusCreated, l)
	case r.Method == http.MethodPut && name != "":
		l, ok := decodeLease(r)
		if !ok {
			status(w, http.StatusBadRequest, "BadRequest")
			return
		}
		key := ns + "/" + name
		old, ok := f.leases[key]
		if !ok {
			status(w, http.StatusNotFound, "NotFound")
			return
		}
		if l.ResourceVersion != old.ResourceVersion {
			status(w, http.StatusConflict, "Conflict")
			return
		}
		f.store(key, ns, l)
		writeLease(w, http.StatusOK, l)
	default:
		status(w, http.StatusMethodNotAllowed, "MethodNotAllowed")
	}
}

func (f *fakeLeaseAPI) store(key, ns string, l *coordv1.Lease) {
	f.rv++
	l.Namespace, l.ResourceVersion = ns, strconv.Itoa(f.rv)
	l.APIVersion, l.Kind = "coordination.k8s.io/v1", "Lease"
	f.leases[key] = l
	w := leaseWrite{At: time.Now()}
	if h := l.Spec.HolderIdentity; h != nil {
		w.Holder = *h
	}
	if rt := l.Spec.RenewTime; rt != nil {
		w.Renew = rt.Time
	}
	if d := l.Spec.LeaseDurationSeconds; d != nil {
		w.Duration = time.Duration(*d) * time.Second
	}
	f.writes = append(f.writes, w)
}

// history returns the writes so far.
func (f *fakeLeaseAPI) history() []leaseWrite {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]leaseWrite(nil), f.writes...)
}

// holder is the lease's holder now, "" if none.
func (f *fakeLeaseAPI) holder() string {
	h := f.history()
	if len(h) == 0 {
		return ""
	}
	return h[len(h)-1].Holder
}

// decodeLease reads a Lease in the body as client-go sends it: protobuf
// (its default for built-in types) or JSON.
func decodeLease(r *http.Request) (*coordv1.Lease, bool) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, false
	}
	obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(body, nil, nil)
	if err != nil {
		return nil, false
	}
	l, ok := obj.(*coordv1.Lease)
	return l, ok
}

func writeLease(w http.ResponseWriter, code int, l *coordv1.Lease) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(l)
}

func status(w http.ResponseWriter, code int, reason string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusFailure, Reason: metav1.StatusReason(reason), Code: int32(code),
	})
}

// startLeaseAPI serves a fakeLeaseAPI on loopback and writes a kubeconfig
// that points at it; it returns both.
func startLeaseAPI(t *testing.T) (*fakeLeaseAPI, string) {
	t.Helper()
	api := &fakeLeaseAPI{}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	cfg := `apiVersion: v1
kind: Config
clusters: [{name: fake, cluster: {server: "` + srv.URL + `"}}]
users: [{name: fake, user: {token: fake}}]
contexts: [{name: fake, context: {cluster: fake, user: fake}}]
current-context: fake
`
	if err := os.WriteFile(kubeconfig, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return api, kubeconfig
}
