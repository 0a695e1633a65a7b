package report_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"

	"github.com/burnwatch/burnwatch/report"
)

const evil = `<script>alert("x")</script>`

// hostile is a report whose every string a tenant could influence carries a
// script tag, a pipe and a line break.
func hostile() report.Report {
	r := handMade()
	r.Title = "Week " + evil
	r.Fleet.AtRisk = []string{`checkout{tenant="` + evil + `"}`}
	s := &r.SLOs[0]
	s.Description = evil + " | broken\nrow"
	s.Instances[0].Labels = map[string]string{"tenant": evil + "|x"}
	s.Codes[0].Code = evil
	s.Alerts[0].Labels = map[string]string{"tenant": evil}
	s.UserFaults[0].Labels = map[string]string{"tenant": evil}
	s.Surges = []string{evil}
	return r
}

func TestALabelValueWithAScriptTagIsEscapedInEveryFormat(t *testing.T) {
	r := hostile()
	t.Run("html has no script element", func(t *testing.T) {
		var b bytes.Buffer
		if err := report.WriteHTML(&b, r); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(strings.ToLower(b.String()), "<script") {
			t.Errorf("the HTML contains a raw <script: %s", b.String())
		}
		if !strings.Contains(b.String(), "&lt;script&gt;") {
			t.Errorf("the HTML lost the label value instead of escaping it")
		}
	})
	t.Run("markdown renders to HTML with no script element and intact tables", func(t *testing.T) {
		var b, out bytes.Buffer
		if err := report.WriteMarkdown(&b, r); err != nil {
			t.Fatal(err)
		}
		md := goldmark.New(goldmark.WithExtensions(extension.GFM))
		if err := md.Convert(b.Bytes(), &out); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(strings.ToLower(out.String()), "<script") {
			t.Errorf("the Markdown renders a raw <script:\n%s", out.String())
		}
		if !strings.Contains(out.String(), `<td>tenant=&quot;&lt;script&gt;alert(\&quot;x\&quot;)&lt;/script&gt;|x&quot;</td>`) {
			t.Errorf("the label value with a pipe did not survive as one table cell:\n%s", out.String())
		}
	})
	t.Run("json keeps the value", func(t *testing.T) {
		var b bytes.Buffer
		if err := report.WriteJSON(&b, r); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(b.String(), "<script") {
			t.Errorf("the JSON carries a raw <script")
		}
		var back struct {
			SLOs []struct {
				Instances []struct{ Labels map[string]string } `json:"instances"`
			} `json:"slos"`
		}
		if err := json.Unmarshal(b.Bytes(), &back); err != nil {
			t.Fatal(err)
		}
		if got := back.SLOs[0].Instances[0].Labels["tenant"]; got != evil+"|x" {
			t.Errorf("label read back as %q", got)
		}
	})
	t.Run("csv reads back the exact value", func(t *testing.T) {
		var b bytes.Buffer
		if err := report.WriteCSV(&b, r); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(&b).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if want := `{tenant="<script>alert(\"x\")</script>|x"}`; rows[1][1] != want {
			t.Errorf("labels cell = %q, want %q", rows[1][1], want)
		}
	})
}

func TestAnInstanceWithNoDataReadsNoDataNever100Percent(t *testing.T) {
	r := handMade()
	// A producer that left SLI at 1 must still not show 100%: NoData wins.
	r.SLOs[0].Instances[2].SLI = 1
	line := func(s, key string) string {
		for _, l := range strings.Split(s, "\n") {
			if strings.Contains(l, key) {
				return l
			}
		}
		t.Fatalf("no line with %q in:\n%s", key, s)
		return ""
	}
	var md, html, js, cs bytes.Buffer
	for _, w := range []struct {
		b     *bytes.Buffer
		write func(*bytes.Buffer) error
	}{
		{&md, func(b *bytes.Buffer) error { return report.WriteMarkdown(b, r) }},
		{&html, func(b *bytes.Buffer) error { return report.WriteHTML(b, r) }},
		{&js, func(b *bytes.Buffer) error { return report.WriteJSON(b, r) }},
		{&cs, func(b *bytes.Buffer) error { return report.WriteCSV(b, r) }},
	} {
		if err := w.write(w.b); err != nil {
			t.Fatal(err)
		}
	}
	if l := line(md.String(), "ap-south"); !strings.Contains(l, "no data") || strings.Contains(l, "100") {
		t.Errorf("Markdown row: %s", l)
	}
	if l := line(html.String(), "ap-south"); !strings.Contains(l, "no data") || strings.Contains(l, "100.000%") {
		t.Errorf("HTML row: %s", l)
	}
	if l := line(cs.String(), "ap-south"); l != `checkout-availability,"{region=""ap-south""}",,,0,0,true` {
		t.Errorf("CSV row: %s", l)
	}
	var back struct {
		SLOs []struct {
			Instances []struct {
				SLI    *float64 `json:"sli"`
				NoData bool     `json:"no_data"`
			} `json:"instances"`
		} `json:"slos"`
	}
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if i := back.SLOs[0].Instances[2]; i.SLI != nil || !i.NoData {
		t.Errorf("JSON instance: sli=%v no_data=%v, want null and true", i.SLI, i.NoData)
	}
}

func TestAnSLOWithoutDataReadsNoDataInItsSummary(t *testing.T) {
	r := handMade()
	r.SLOs[1].SLIWeek, r.SLOs[1].SLIPeriod = math.NaN(), math.NaN()
	var b bytes.Buffer
	if err := report.WriteMarkdown(&b, r); err != nil {
		t.Fatal(err)
	}
	want := "| search-latency | 99% | no data | no data | 88.0% | 2.8% | −0.3 pts | no data this week; no data over 30d |"
	if !strings.Contains(b.String(), want) {
		t.Errorf("summary row missing %q in:\n%s", want, b.String())
	}
}
