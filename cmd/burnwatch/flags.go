package main

import (
	"errors"
	"flag"
	"io"

	"github.com/burnwatch/burnwatch/slo"
)

// newFlags returns a flag set for a command that writes its usage to w.
func newFlags(name string, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("burnwatch "+name, flag.ContinueOnError)
	fs.SetOutput(w)
	return fs
}

// parseFlags parses args, turning a bad command line into a usageError.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return usageError{}
		}
		return usageError{}
	}
	if fs.NArg() > 0 {
		return usageError{errors.New("unexpected arguments: " + fs.Arg(0))}
	}
	return nil
}

// loadConfig loads the config at path, or the embedded default when path
// is empty.
func loadConfig(path string) (*slo.Config, error) {
	if path == "" {
		return slo.LoadDefault()
	}
	return slo.Load(path)
}
