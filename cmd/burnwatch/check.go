package main

import (
	"fmt"
	"io"
	"strconv"

	"github.com/burnwatch/burnwatch/slo"
)

func checkCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("check", stderr)
	config := fs.String("config", "", "the config file to validate (default: the embedded default config)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*config)
	if err != nil {
		if es, ok := err.(slo.Errors); ok {
			for _, e := range es {
				fmt.Fprintln(stderr, e)
			}
			return fmt.Errorf("%d problem(s) in %s", len(es), es[0].File)
		}
		return err
	}
	fmt.Fprintf(stdout, "%s: %d SLO(s), valid\n", cfg.File, len(cfg.SLOs))
	for _, s := range cfg.SLOs {
		fmt.Fprintf(stdout, "  %s: objective %v%% over %s, grouped by %v\n", s.Name, s.Objective, s.Window, s.GroupBy)
		for _, p := range s.Pairs() {
			fmt.Fprintf(stdout, "    %-6s %s of budget in %s (short %s): burn rate > %s\n",
				p.Severity, strconv.FormatFloat(p.BudgetPercent, 'f', -1, 64)+"%", p.Long, p.Short,
				strconv.FormatFloat(p.Factor, 'f', -1, 64))
		}
	}
	return nil
}
