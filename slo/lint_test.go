package slo

import (
	"strings"
	"testing"
)

func TestLint(t *testing.T) {
	const slos = "slos:\n  - {name: a, objective: 99, sli: {total: x_total, errors: y_total}, group_by: [database]}\n"
	for _, tc := range []struct {
		name, config string
		problems     []string // substrings, one a problem, in order
		warnings     []string
	}{
		{"no receivers and no routes: the console, as documented", "", nil, nil},
		{"a webhook only for the weekly report needs no route",
			"receivers:\n  - {name: wiki, webhook: {url: 'https://wiki.example/x', secret_file: /s}}\nreports: {receiver: wiki}\n", nil, nil},
		{"a paging receiver without routes receives nothing",
			"receivers:\n  - {name: oncall, console: {}}\n", []string{"receivers: 1 receiver is defined, but there are no routes"}, nil},
		{"a catch-all route sends everything",
			"receivers:\n  - {name: oncall, console: {}}\nroutes:\n  - receiver: oncall\n", nil, nil},
		{"a route after a catch-all is never reached",
			"receivers:\n  - {name: oncall, console: {}}\n  - {name: am, console: {}}\nroutes:\n  - receiver: oncall\n  - {match: {severity: page}, receiver: am}\n",
			[]string{"routes[1]: never reached: every alert it matches, routes[0] matches first"}, nil},
		{"a route that continues does not shadow the next",
			"receivers:\n  - {name: oncall, console: {}}\n  - {name: am, console: {}}\nroutes:\n  - {receiver: oncall, continue: true}\n  - {match: {severity: page}, receiver: am}\n", nil, nil},
		{"a label route for no-data alerts matches the source label",
			"receivers:\n  - {name: oncall, console: {}}\nroutes:\n  - {match: {alert: no-data, labels: {source: events}}, receiver: oncall}\n  - receiver: oncall\n", nil, nil},
		{"pages only: tickets, surges and no-data go nowhere",
			"receivers:\n  - {name: oncall, console: {}}\nroutes:\n  - {match: {severity: page}, receiver: oncall}\n",
			[]string{"no route sends the ticket burn-rate alerts of a", "no route sends the ticket user-fault-surge alerts of a", "no route sends the ticket no-data alerts of a"}, nil},
		{"an unused receiver is a warning",
			"receivers:\n  - {name: oncall, console: {}}\n  - {name: spare, console: {}}\nroutes:\n  - receiver: oncall\n", nil, []string{`receivers[1].name: no route sends to "spare"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse("x.yaml", []byte(slos+tc.config))
			if err != nil {
				t.Fatal(err)
			}
			problems, warnings := cfg.Lint()
			check := func(what string, got Errors, want []string) {
				if len(got) != len(want) {
					t.Errorf("%d %s, want %d:\n%v", len(got), what, len(want), got)
					return
				}
				for i, w := range want {
					if !strings.Contains(got[i].Error(), w) {
						t.Errorf("%s[%d] = %q, want %q", what, i, got[i], w)
					}
				}
			}
			check("problems", problems, tc.problems)
			check("warnings", warnings, tc.warnings)
		})
	}
}
