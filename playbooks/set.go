package playbooks

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// Set is playbooks by id. A Set is not changed after it is built, so it can be
// shared between goroutines.
type Set struct {
	byID map[string]*Playbook
	ids  []string // sorted
}

//go:embed defaults/*.md
var defaults embed.FS

// Default returns the playbooks built into burnwatch, read from defaults/*.md
// at build time. Each call returns a new Set.
func Default() (*Set, error) {
	entries, err := fs.ReadDir(defaults, "defaults")
	if err != nil {
		return nil, fmt.Errorf("reading the default playbooks: %w", err)
	}
	var files []file
	for _, e := range entries {
		if !isPlaybookFile(e) {
			continue
		}
		data, err := fs.ReadFile(defaults, path.Join("defaults", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("reading the default playbook %s: %w", e.Name(), err)
		}
		files = append(files, file{source: "embedded:" + e.Name(), data: data})
	}
	return build(files, nil)
}

// Load reads the playbooks of dir (its *.md files; not its subdirectories,
// hidden files or a README.md) on top of base, which may be nil: a playbook of
// dir replaces base's playbook with the same id. The error lists every
// problem of every file (as Problems) or says why dir could not be read.
func Load(dir string, base *Set) (*Set, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading playbooks directory %q: %w", dir, err)
	}
	var files []file
	var probs Problems
	for _, e := range entries {
		if !isPlaybookFile(e) {
			continue
		}
		name := filepath.Join(dir, e.Name())
		data, err := os.ReadFile(name)
		if err != nil {
			// One unreadable file is reported with the others.
			probs = append(probs, Problem{File: name, Msg: fmt.Sprintf("reading playbook: %v", unwrapPath(err))})
			continue
		}
		files = append(files, file{source: name, data: data})
	}
	s, err := build(files, base)
	var more Problems
	if errors.As(err, &more) {
		probs = append(probs, more...)
	} else if err != nil {
		return nil, err
	}
	if len(probs) > 0 {
		return nil, probs
	}
	return s, nil
}

// isPlaybookFile says whether a directory entry is a playbook: a *.md file,
// not hidden (editors' lock and swap files are) and not a README.
func isPlaybookFile(e fs.DirEntry) bool {
	name := e.Name()
	return !e.IsDir() && strings.HasSuffix(name, ".md") &&
		!strings.HasPrefix(name, ".") && !strings.EqualFold(name, "README.md")
}

// unwrapPath drops the path from a *fs.PathError, which the problem already
// names.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

type file struct {
	source string
	data   []byte
}

// build parses files in order into a copy of base. Two files with the same id
// are a problem; a file with the id of a playbook of base replaces it.
func build(files []file, base *Set) (*Set, error) {
	s := &Set{byID: map[string]*Playbook{}}
	if base != nil {
		for id, p := range base.byID {
			s.byID[id] = p
		}
	}
	var probs Problems
	mine := map[string]*Playbook{} // read here, by id
	for _, f := range files {
		p, ps := parse(f.source, f.data)
		if len(ps) > 0 {
			probs = append(probs, ps...)
			continue
		}
		if first, dup := mine[p.ID]; dup {
			probs = append(probs, Problem{File: p.Source, Line: p.line("id"), Field: "id",
				Msg: fmt.Sprintf("%q is also the id of %s:%d; ids must be unique", p.ID, first.Source, first.line("id"))})
			continue
		}
		mine[p.ID] = p
		s.byID[p.ID] = p
	}
	if len(probs) > 0 {
		return nil, probs
	}
	for id := range s.byID {
		s.ids = append(s.ids, id)
	}
	slices.Sort(s.ids)
	return s, nil
}

// Get returns the playbook with the given id.
func (s *Set) Get(id string) (*Playbook, bool) {
	if s == nil {
		return nil, false
	}
	p, ok := s.byID[id]
	return p, ok
}

// IDs returns the ids of the set's playbooks, sorted.
func (s *Set) IDs() []string {
	if s == nil {
		return nil
	}
	return slices.Clone(s.ids)
}

// all returns the set's playbooks in the order of their ids.
func (s *Set) all() []*Playbook {
	if s == nil {
		return nil
	}
	out := make([]*Playbook, len(s.ids))
	for i, id := range s.ids {
		out[i] = s.byID[id]
	}
	return out
}
