// Command burnwatch is an error-budget alerting service: it separates user
// faults from platform failures and pages on multiwindow, multi-burn-rate
// SLO alerts per tenant database.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/prometheus/common/version"
)

// exitUsage is the exit code for a command line that cannot be run.
const exitUsage = 2

const usage = `usage: burnwatch <command> [flags]

commands:
  serve      the service: read sources, evaluate, keep state, answer over HTTP
  demo       serve the embedded defaults with a traffic generator that injects an outage
  replay     evaluate a recorded OpenMetrics file and print every alert transition
  check      validate a config
  classify   classify error codes read from standard input
  playbooks  lint: check that every playbook the config names exists and parses
  report     the weekly error-budget report, from serve's state
  export     the postmortem data of an incident, from serve's state
  version    print the version, revision and build date (also --version)

Run 'burnwatch <command> --help' for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs one command and returns the process's exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	var err error
	switch args[0] {
	case "serve":
		err = serveCmd(ctx, args[1:], stderr)
	case "demo":
		err = demoCmd(ctx, args[1:], stdout, stderr)
	case "agent":
		err = agentCmd(ctx, args[1:], stderr)
	case "replay":
		err = replayCmd(ctx, args[1:], stdin, stdout, stderr)
	case "check":
		err = checkCmd(args[1:], stdout, stderr)
	case "classify":
		err = classifyCmd(args[1:], stdin, stdout, stderr)
	case "playbooks":
		err = playbooksCmd(args[1:], stdout, stderr)
	case "export":
		err = exportCmd(ctx, args[1:], stdout, stderr)
	case "report":
		err = reportCmd(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-version":
		err = versionCmd(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "burnwatch: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
	var ue usageError
	switch {
	case err == nil, helpRequested(err):
		return 0
	case errors.As(err, &ue):
		if ue.err != nil {
			fmt.Fprintf(stderr, "burnwatch %s: %v\n", args[0], ue.err)
		}
		return exitUsage
	default:
		fmt.Fprintf(stderr, "burnwatch %s: %v\n", args[0], err)
		return 1
	}
}

// versionCmd prints the build's version as Prometheus's --version does:
// version, branch and revision, build user and date, Go version and
// platform. `make build` stamps them with -ldflags -X on
// github.com/prometheus/common/version; a build without them says
// "unknown" rather than nothing.
func versionCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("version", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fmt.Fprintln(stdout, version.Print("burnwatch"))
	return nil
}

func init() {
	for _, v := range []*string{&version.Version, &version.Branch, &version.BuildUser, &version.BuildDate} {
		if *v == "" {
			*v = "unknown"
		}
	}
}

// usageError is a command line that cannot be run; its command has printed
// its usage already when err is nil.
type usageError struct{ err error }

func (e usageError) Error() string {
	if e.err == nil {
		return "usage"
	}
	return e.err.Error()
}
