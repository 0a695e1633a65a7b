package playbooks

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestLoadReportsEveryBrokenFileAtOnce(t *testing.T) {
	s, err := Load("testdata/bad", nil)
	if s != nil {
		t.Error("Load of a directory with broken files returned a set")
	}
	var probs Problems
	if !errors.As(err, &probs) {
		t.Fatalf("err = %v (%T), want Problems", err, err)
	}
	files := map[string]bool{}
	for _, p := range probs {
		files[filepath.Base(p.File)] = true
	}
	for name := range badFiles {
		if !files[name] {
			t.Errorf("no problem reported for %s", name)
		}
	}
	// The error names file, line and field.
	if msg := err.Error(); !strings.Contains(msg, "testdata/bad/wrong-types.md:3: title: must be a string") {
		t.Errorf("error does not locate the problem:\n%s", msg)
	}
}

func TestLoadReportsADuplicateID(t *testing.T) {
	_, err := Load("testdata/dup", nil)
	want := `testdata/dup/b.md:2: id: "database-down" is also the id of testdata/dup/a.md:2; ids must be unique`
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
}

func TestLoadOverridesTheBaseByID(t *testing.T) {
	base, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	s, err := Load("testdata/override", base)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := s.Get("database-unavailable")
	if !ok || p.Owner != "team-graph" || p.Source != filepath.Join("testdata", "override", "database-unavailable.md") {
		t.Errorf("database-unavailable = %+v, want the directory's", p)
	}
	if _, ok := s.Get("graph-writes-failing"); !ok {
		t.Error("the directory's own playbook is missing")
	}
	if p, _ := base.Get("database-unavailable"); p.Owner != "dbaas-oncall" {
		t.Error("Load changed its base")
	}
	want := append(base.IDs(), "graph-writes-failing")
	slices.Sort(want)
	if got := s.IDs(); !slices.Equal(got, want) {
		t.Errorf("IDs = %v, want %v (README.md is not a playbook)", got, want)
	}
}

func TestLoadWithoutBase(t *testing.T) {
	s, err := Load("testdata/override", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.IDs(); !slices.Equal(got, []string{"database-unavailable", "graph-writes-failing"}) {
		t.Errorf("IDs = %v", got)
	}
}

func TestLoadOfAMissingDirectoryIsAnError(t *testing.T) {
	_, err := Load("testdata/no-such-dir", nil)
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), `reading playbooks directory "testdata/no-such-dir"`) {
		t.Errorf("err = %v", err)
	}
}

func TestLoadSkipsHiddenFilesAndDirectories(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(".#draft.md", "not a playbook")
	write("notes.txt", "not a playbook")
	write("ok.md", "---\nid: ok\ntitle: OK\nowner: o\napplies_to: {alerts: [no-data]}\n---\nsteps\n")
	if err := os.Mkdir(filepath.Join(dir, "old.md"), 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := Load(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.IDs(); !slices.Equal(got, []string{"ok"}) {
		t.Errorf("IDs = %v", got)
	}
}

func TestANilSetIsEmpty(t *testing.T) {
	var s *Set
	if _, ok := s.Get("x"); ok || s.IDs() != nil || s.Match(AlertBurnRate, "", "page", nil) != nil {
		t.Error("a nil set is not empty")
	}
}
