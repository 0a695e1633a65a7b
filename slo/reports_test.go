package slo

import "testing"

func TestReportsAreScheduledWhenTheyHaveSomewhereToGo(t *testing.T) {
	const base = `
slos:
  - name: a
    objective: 99
    sli: {total: x_total, errors: y_total}
receivers:
  - name: hook
    webhook: {url: "https://hooks.example/reports", secret_file: /run/secrets/hook}
`
	for _, tc := range []struct {
		name, reports string
		want          bool
	}{
		{"without a reports block there are none", ``, false},
		{"a schedule alone has nowhere to put them", "reports: {schedule: \"0 9 * * MON\"}", false},
		{"a directory alone writes them", "reports: {dir: /var/lib/burnwatch/reports}", true},
		{"a webhook receiver alone is sent them, with no directory", "reports: {receiver: hook}", true},
		{"both write and send", "reports: {dir: /r, receiver: hook}", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse("reports.yaml", []byte(base+tc.reports))
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Reports.Scheduled(); got != tc.want {
				t.Errorf("Scheduled() = %v, want %v", got, tc.want)
			}
			if f := cfg.Reports.Formats; len(f) != 2 || f[0] != "html" || f[1] != "md" {
				t.Errorf("formats %v, want the default html, md", f)
			}
		})
	}
}
