package scale

import (
	"context"
	"fmt"
	"net/http"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// metrics is one read of a /metrics page: every sample by name, a
// histogram or summary as its _sum and _count.
type metrics map[string][]metricSample

type metricSample struct {
	labels map[string]string
	value  float64
}

// scrapeMetrics reads the /metrics page at url.
func scrapeMetrics(ctx context.Context, url string) (metrics, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", url, err)
	}
	m := metrics{}
	for name, f := range fams {
		for _, s := range f.GetMetric() {
			ls := map[string]string{}
			for _, l := range s.GetLabel() {
				ls[l.GetName()] = l.GetValue()
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				m[name] = append(m[name], metricSample{ls, s.GetCounter().GetValue()})
			case dto.MetricType_GAUGE:
				m[name] = append(m[name], metricSample{ls, s.GetGauge().GetValue()})
			case dto.MetricType_HISTOGRAM:
				m[name+"_sum"] = append(m[name+"_sum"], metricSample{ls, s.GetHistogram().GetSampleSum()})
				m[name+"_count"] = append(m[name+"_count"], metricSample{ls, float64(s.GetHistogram().GetSampleCount())})
			case dto.MetricType_SUMMARY:
				m[name+"_sum"] = append(m[name+"_sum"], metricSample{ls, s.GetSummary().GetSampleSum()})
				m[name+"_count"] = append(m[name+"_count"], metricSample{ls, float64(s.GetSummary().GetSampleCount())})
			default:
				m[name] = append(m[name], metricSample{ls, s.GetUntyped().GetValue()})
			}
		}
	}
	return m, nil
}

// sum adds the samples of name whose labels include match (name=value
// pairs), and says whether there was any.
func (m metrics) sum(name string, match ...string) (float64, bool) {
	var total float64
	found := false
next:
	for _, s := range m[name] {
		for k := 0; k+1 < len(match); k += 2 {
			if s.labels[match[k]] != match[k+1] {
				continue next
			}
		}
		total += s.value
		found = true
	}
	return total, found
}

// byLabel sums the samples of name by the value of one label.
func (m metrics) byLabel(name, label string) map[string]float64 {
	out := map[string]float64{}
	for _, s := range m[name] {
		out[s.labels[label]] += s.value
	}
	return out
}
