package classify

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// Packs names the built-in packs in their default order. Each is a YAML file
// in packs/, embedded in the binary, derived from the vendor's own published
// list of codes (named in the file's source header).
var Packs = []string{"neo4j", "gqlstatus", "sqlstate", "http", "grpc", "k8s"}

//go:embed packs/*.yaml
var packFiles embed.FS

// pack is a loaded pack file.
type pack struct {
	name   string
	source packSource
	rules  []Rule
}

// packFile is the layout of packs/NAME.yaml.
type packFile struct {
	Pack   string     `yaml:"pack"`
	Source packSource `yaml:"source"`
	Rules  []Rule     `yaml:"rules"`
}

// packSource names the vendor's published list a pack was derived from.
type packSource struct {
	Vendor string   `yaml:"vendor"`
	List   string   `yaml:"list"`
	URLs   []string `yaml:"urls"`
	Note   string   `yaml:"note,omitempty"`
}

// packCache holds each embedded pack, parsed once.
var packCache sync.Map // name -> func() (*pack, error)

// loadPack returns the named built-in pack.
func loadPack(name string) (*pack, error) {
	known := false
	for _, p := range Packs {
		known = known || p == name
	}
	if !known {
		return nil, fmt.Errorf("unknown pack %q (valid: %s)", name, strings.Join(Packs, ", "))
	}
	f, _ := packCache.LoadOrStore(name, sync.OnceValues(func() (*pack, error) {
		data, err := packFiles.ReadFile("packs/" + name + ".yaml")
		if err != nil {
			return nil, fmt.Errorf("reading pack %q: %w", name, err)
		}
		p, err := parsePack(name, data)
		if err != nil {
			return nil, fmt.Errorf("reading pack %q: %w", name, err)
		}
		return p, nil
	}))
	return f.(func() (*pack, error))()
}

// parsePack decodes and validates a pack file strictly.
func parsePack(name string, data []byte) (*pack, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f packFile
	if err := dec.Decode(&f); err != nil {
		return nil, err
	}
	if err := dec.Decode(new(yaml.Node)); !errors.Is(err, io.EOF) {
		return nil, errors.New("more than one YAML document")
	}
	var errs []error
	if f.Pack != name {
		errs = append(errs, fmt.Errorf("pack: is %q, want %q", f.Pack, name))
	}
	if f.Source.Vendor == "" || f.Source.List == "" || len(f.Source.URLs) == 0 {
		errs = append(errs, errors.New("source: vendor, list and urls are required"))
	}
	for i, r := range f.Rules {
		for _, fe := range r.Validate() {
			errs = append(errs, fmt.Errorf("rules[%d].%s: %s", i, fe.Field, fe.Msg))
		}
		if strings.TrimSpace(r.Reason) == "" {
			errs = append(errs, fmt.Errorf("rules[%d] (%s): every pack rule gives its reason", i, r.Match.name()))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &pack{name: name, source: f.Source, rules: f.Rules}, nil
}
