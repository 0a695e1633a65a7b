package main

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/burnwatch/burnwatch/playbooks"
	"github.com/burnwatch/burnwatch/slo"
	"github.com/burnwatch/burnwatch/source"
)

// checkCmd validates configs as `promtool check config` does: each FILE
// given (or --config, or the embedded default), reporting everything
// serve would refuse or silently mishandle, and what it read.
func checkCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("check", stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "usage: burnwatch check [FILE...] [--config FILE]\n\nValidates each config as serve would load it: syntax, fields, PromQL, playbooks, routes and the receivers' and sources' secret files. Without a file, the embedded default config.\n\n")
		fs.PrintDefaults()
	}
	config := fs.String("config", "", "a config file to validate, as the FILE arguments (default: the embedded default config)")
	files, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if *config != "" {
		files = append([]string{*config}, files...)
	}
	if len(files) == 0 {
		files = []string{""}
	}
	failed := 0
	for _, f := range files {
		if !checkFile(f, stdout, stderr) {
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d config(s) failed the check", failed, len(files))
	}
	return nil
}

// checkFile checks one config, printing what it read to stdout and every
// problem to stderr. It reports whether the config passed.
func checkFile(file string, stdout, stderr io.Writer) bool {
	cfg, err := loadConfig(file)
	if err != nil {
		var es slo.Errors
		if !errors.As(err, &es) {
			fmt.Fprintf(stderr, "%s: %v\n", file, err)
			return false
		}
		for _, e := range es {
			fmt.Fprintln(stderr, e)
		}
		fmt.Fprintf(stderr, "%s: %d problem(s)\n", es[0].File, len(es))
		return false
	}
	problems, warnings := cfg.Lint()
	problems = append(problems, preflight(cfg)...)
	slices.SortStableFunc(problems, func(a, b *slo.Error) int { return cmp.Compare(a.Line, b.Line) })
	describeConfig(stdout, cfg, len(problems) == 0)
	for _, w := range warnings {
		fmt.Fprintf(stderr, "%s (warning)\n", w)
	}
	for _, p := range problems {
		fmt.Fprintln(stderr, p)
	}
	if len(problems) > 0 {
		fmt.Fprintf(stderr, "%s: %d problem(s)\n", cfg.File, len(problems))
		return false
	}
	return true
}

// preflight checks what only reading other files tells, as serve does
// when it starts: that the classifier builds, that the playbook directory
// loads and has every playbook the config names, that each receiver's and
// source's secret files hold secrets, and that the events token file, if
// one is named, holds a token.
func preflight(cfg *slo.Config) slo.Errors {
	var es slo.Errors
	if _, err := cfg.Classifier(); err != nil {
		es = append(es, cfg.ErrorAt("classify", err.Error()))
	}
	set, err := playbooks.Open(cfg.Playbooks.Dir)
	var bad playbooks.Problems
	switch {
	case errors.As(err, &bad):
		for _, p := range bad {
			es = append(es, &slo.Error{File: p.File, Line: p.Line, Field: p.Field, Msg: p.Msg})
		}
	case err != nil:
		es = append(es, cfg.ErrorAt("playbooks.dir", err.Error()))
	default:
		var refs []playbooks.Ref
		for _, r := range cfg.PlaybookRefs() {
			refs = append(refs, playbooks.Ref{Where: r.Where, ID: r.ID})
		}
		var names []string
		for _, s := range cfg.SLOs {
			names = append(names, s.Name)
		}
		for _, p := range playbooks.Lint(set, refs, names) {
			if p.File != "" {
				es = append(es, &slo.Error{File: p.File, Line: p.Line, Field: p.Field, Msg: p.Msg})
				continue
			}
			es = append(es, cfg.ErrorAt(p.Field, p.Msg))
		}
	}
	for i, r := range cfg.ReceiverConfigs {
		at := "receivers[" + strconv.Itoa(i) + "]"
		switch {
		case r.PagerDuty != nil:
			es = append(es, cfg.ErrorsAt(at+".pagerduty", r.PagerDuty.Check())...)
		case r.Alertmanager != nil:
			es = append(es, cfg.ErrorsAt(at+".alertmanager", r.Alertmanager.Check())...)
		case r.Webhook != nil:
			es = append(es, cfg.ErrorsAt(at+".webhook", r.Webhook.Check())...)
		}
	}
	for i, s := range cfg.Sources {
		at := "sources[" + strconv.Itoa(i) + "]"
		switch {
		case s.Prometheus != nil:
			p, err := source.NewPrometheus(*s.Prometheus)
			if err == nil {
				p.Close()
			}
			es = append(es, cfg.ErrorsAt(at+".prometheus", err)...)
		case s.Datadog != nil:
			_, err := source.NewDatadog(*s.Datadog)
			if err != nil {
				err = errors.New(strings.TrimPrefix(err.Error(), "datadog: "))
			}
			es = append(es, cfg.ErrorsAt(at+".datadog", err)...)
		case s.Events != nil && s.Events.TokenFile != "":
			if err := checkSecretFile(s.Events.TokenFile); err != nil {
				es = append(es, cfg.ErrorAt(at+".events.token_file", err.Error()))
			}
		}
	}
	for i, f := range cfg.API.TokenFiles {
		if err := checkSecretFile(f); err != nil {
			es = append(es, cfg.ErrorAt("api.token_files["+strconv.Itoa(i)+"]", err.Error()))
		}
	}
	return es
}

// checkSecretFile says what is wrong with a file serve reads a secret
// from: unreadable, or empty once trimmed.
func checkSecretFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if strings.TrimSpace(string(b)) == "" {
		return fmt.Errorf("%s is empty", path)
	}
	return nil
}

// describeConfig prints what the check read: the SLOs with their alert
// pairs and where their alerts go, the receivers and the routes.
func describeConfig(w io.Writer, cfg *slo.Config, valid bool) {
	verdict := "valid"
	if !valid {
		verdict = "with problems"
	}
	fmt.Fprintf(w, "%s: %d SLO(s), %s\n", cfg.File, len(cfg.SLOs), verdict)
	kinds := cfg.AlertKinds()
	for _, s := range cfg.SLOs {
		fmt.Fprintf(w, "  %s: objective %v%% over %s, grouped by %v\n", s.Name, s.Objective, s.Window, s.GroupBy)
		for _, p := range s.Pairs() {
			fmt.Fprintf(w, "    %-6s %s of budget in %s (short %s): burn rate > %s\n",
				p.Severity, strconv.FormatFloat(p.BudgetPercent, 'f', -1, 64)+"%", p.Long, p.Short,
				strconv.FormatFloat(p.Factor, 'f', -1, 64))
		}
		if len(cfg.Routes) == 0 {
			continue // the routes line says where everything goes
		}
		for _, k := range kinds {
			if k.SLO != s.Name {
				continue
			}
			to := strings.Join(cfg.ReceiversOf(k), ", ")
			if to == "" {
				to = "nowhere"
			}
			fmt.Fprintf(w, "    %s %s alerts -> %s\n", k.Severity, k.Alert, to)
		}
	}
	fmt.Fprintln(w, "  receivers:")
	if len(cfg.ReceiverConfigs) == 0 {
		fmt.Fprintln(w, "    none: alerts go to the console (standard output)")
	}
	for _, r := range cfg.ReceiverConfigs {
		fmt.Fprintf(w, "    %-12s %s\n", r.Name, describeReceiver(r))
	}
	if len(cfg.Routes) == 0 {
		fmt.Fprintln(w, "  routes: none: every alert goes to the console (standard output)")
		return
	}
	fmt.Fprintln(w, "  routes (the first that matches decides, unless it continues):")
	for i, r := range cfg.Routes {
		cont := ""
		if r.Continue {
			cont = ", continue"
		}
		fmt.Fprintf(w, "    routes[%d]  %-40s -> %s%s\n", i, describeMatch(r.Match), r.Receiver, cont)
	}
}

// describeReceiver says a receiver's kind and where it sends, never a
// secret.
func describeReceiver(r *slo.Receiver) string {
	switch {
	case r.PagerDuty != nil:
		c := r.PagerDuty
		key := "routing key from file " + c.RoutingKeyFile
		if c.RoutingKeyEnv != "" {
			key = "routing key from $" + c.RoutingKeyEnv
		}
		return "pagerduty, " + key
	case r.Alertmanager != nil:
		return "alertmanager " + redactURL(r.Alertmanager.URL)
	case r.Webhook != nil:
		return "webhook " + redactURL(r.Webhook.URL)
	case r.Console != nil:
		return "console (standard output)"
	}
	return "incomplete"
}

// redactURL keeps a URL's scheme and host: its path or query may hold a
// token.
func redactURL(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return "(not a URL)"
	}
	host, _, _ := strings.Cut(rest, "/")
	if _, h, ok := strings.Cut(host, "@"); ok {
		host = h
	}
	return scheme + "://" + host
}

// describeMatch writes a route's match as its fields, or "every alert".
func describeMatch(m slo.RouteMatch) string {
	var parts []string
	if m.Alert != "" {
		parts = append(parts, "alert="+m.Alert)
	}
	if m.Severity != "" {
		parts = append(parts, "severity="+string(m.Severity))
	}
	if m.SLO != "" {
		parts = append(parts, "slo="+m.SLO)
	}
	for _, k := range slices.Sorted(maps.Keys(m.Labels)) {
		parts = append(parts, k+"="+strconv.Quote(m.Labels[k]))
	}
	if len(parts) == 0 {
		return "every alert"
	}
	return strings.Join(parts, " ")
}
