package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/burnwatch/burnwatch/playbooks"
)

func playbooksCmd(args []string, stdout, stderr io.Writer) error {
	const usage = "usage: burnwatch playbooks lint [--config F]"
	switch {
	case len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help" || args[0] == "help"):
		fmt.Fprintln(stdout, usage)
		return nil
	case len(args) == 0 || args[0] != "lint":
		return usageError{errors.New(usage)}
	}
	fs := newFlags("playbooks lint", stderr)
	config := fs.String("config", "", "the config whose playbooks to check (default: the embedded default config)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	cfg, err := loadConfig(*config)
	if err != nil {
		return err
	}
	set, err := playbooks.Open(cfg.Playbooks.Dir)
	if err != nil {
		return err
	}
	var refs []playbooks.Ref
	for _, r := range cfg.PlaybookRefs() {
		refs = append(refs, playbooks.Ref{Where: cfg.File + ": " + r.Where, ID: r.ID})
	}
	var names []string
	for _, s := range cfg.SLOs {
		names = append(names, s.Name)
	}
	problems := playbooks.Lint(set, refs, names)
	for _, p := range problems {
		fmt.Fprintln(stderr, p.Error())
	}
	if len(problems) > 0 {
		return fmt.Errorf("%d problem(s)", len(problems))
	}
	fmt.Fprintf(stdout, "%d playbooks, %d references from %s: all resolve\n", len(set.IDs()), len(refs), cfg.File)
	return nil
}
