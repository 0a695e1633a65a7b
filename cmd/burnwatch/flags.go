package main

import (
	"errors"
	"flag"
	"io"
	"strings"

	"github.com/burnwatch/burnwatch/slo"
)

// newFlags returns a flag set for a command that writes its usage to w.
func newFlags(name string, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("burnwatch "+name, flag.ContinueOnError)
	fs.SetOutput(w)
	return fs
}

// parseFlags parses args, turning a bad command line into a usageError;
// --help is flag.ErrHelp, which exits 0 once the usage is printed.
func parseFlags(fs *flag.FlagSet, args []string) error {
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageError{errors.New("unexpected arguments: " + strings.Join(rest, " "))}
	}
	return nil
}

// parseArgs parses args with flags and arguments in any order, as
// promtool takes them (check a.yaml --config b.yaml), and returns the
// arguments. "--" ends the flags.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, flag.ErrHelp
			}
			return nil, usageError{}
		}
		left := fs.Args()
		if consumed := len(args) - len(left); consumed > 0 && args[consumed-1] == "--" {
			return append(rest, left...), nil
		}
		if len(left) == 0 {
			break
		}
		rest = append(rest, left[0])
		args = left[1:]
	}
	return rest, nil
}

// loadConfig loads the config at path, or the embedded default when path
// is empty.
func loadConfig(path string) (*slo.Config, error) {
	if path == "" {
		return slo.LoadDefault()
	}
	return slo.Load(path)
}

// helpRequested reports whether err is a command's --help, which has
// printed the usage and is not a failure.
func helpRequested(err error) bool { return errors.Is(err, flag.ErrHelp) }
