// Command scale measures burnwatch at fleet size: it writes the history
// of a simulated fleet of N databases × D days into a fresh Prometheus
// data directory, starts a real Prometheus over it that scrapes the
// fleet's live side, starts `burnwatch serve` (built from this checkout)
// against it, injects failures, and prints time to ready, CPU, memory and
// store writes per cycle and per instance, Prometheus's own cost and the
// delay to a page. docs/scale.md says how to read its output.
//
//	go run ./internal/cmd/scale -databases 1000 -days 2
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/burnwatch/burnwatch/internal/scale"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("scale", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o scale.Options
	fs.IntVar(&o.Databases, "databases", 1000, "simulated databases (3 series each)")
	fs.Float64Var(&o.Days, "days", 2, "days of history in Prometheus before burnwatch starts")
	seed := fs.Uint64("seed", 1, "the seed of the fleet's traffic")
	fs.StringVar(&o.CacheDir, "cache", filepath.Join(os.TempDir(), "burnwatch-scale"), "where generated histories are kept, by databases, days and seed")
	fs.DurationVar(&o.CacheMaxAge, "cache-max-age", 2*time.Hour, "reuse a cached history that ended at most this long ago (the time since is generated anew); an older one is generated again")
	fs.IntVar(&o.Cycles, "cycles", 10, "steady cycles measured after ready")
	fs.DurationVar(&o.Interval, "interval", 30*time.Second, "burnwatch's evaluation_interval")
	fs.DurationVar(&o.ReadyTimeout, "ready-timeout", 30*time.Minute, "how long burnwatch may take to be ready; after that the run reports what it saw and stops")
	fs.DurationVar(&o.PageTimeout, "page-timeout", 5*time.Minute, "how long to wait for the page after a failure is injected")
	fs.IntVar(&o.Fail, "fail", 1, "databases made to fail every query (0: none)")
	fs.BoolVar(&o.InjectAtStart, "inject-at-start", false, "inject the failure right before burnwatch starts, not after it is ready: how soon a first start pages a current outage")
	fs.DurationVar(&o.Baseline, "baseline", 30*time.Second, "how long Prometheus's idle CPU (scraping the fleet) is measured before burnwatch starts")
	fs.BoolVar(&o.Reference, "reference", true, "measure Prometheus reading every raw sample of the history once")
	fs.BoolVar(&o.Rules, "rules", false, "also measure one evaluation of the 7 windows as recording rules")
	fs.StringVar(&o.Burnwatch, "burnwatch", "", "a burnwatch binary to measure (default: build ./cmd/burnwatch of this checkout)")
	fs.StringVar(&o.Prometheus, "prometheus", "prometheus", "the Prometheus binary")
	fs.StringVar(&o.WorkDir, "work", "", "the run's directory for Prometheus's data, burnwatch's state and the logs (default: a temporary one)")
	fs.BoolVar(&o.Keep, "keep", false, "keep the run's directory")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	o.Seed = *seed
	if fs.NArg() > 0 || o.Databases < 1 || o.Days <= 0 || o.Cycles < 1 || o.Interval <= 0 {
		fmt.Fprintln(stderr, "scale: want -databases ≥ 1, -days > 0, -cycles ≥ 1, -interval > 0 and no arguments")
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	o.Log = log
	var err error
	if o.Prometheus, err = exec.LookPath(o.Prometheus); err != nil {
		fmt.Fprintf(stderr, "scale: %v (Debian's prometheus package brings it)\n", err)
		return 1
	}
	if o.Burnwatch == "" {
		wd, _ := os.Getwd()
		if o.Source, err = scale.FindModule(wd); err != nil {
			fmt.Fprintln(stderr, "scale:", err)
			return 1
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := scale.Run(ctx, o)
	if err != nil {
		res.Errors = append(res.Errors, err.Error())
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(res)
	} else {
		res.WriteTable(stdout)
	}
	switch {
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "scale: interrupted; everything it started is stopped")
		return 130
	case err != nil:
		fmt.Fprintln(stderr, "scale:", err)
		return 1
	}
	return 0
}
