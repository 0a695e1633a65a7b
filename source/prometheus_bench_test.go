package source

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/burnwatch/burnwatch/internal/promtest"
)

var (
	benchSeries = flag.Int("promread.series", 1000, "BenchmarkPrometheusRead: series in the Prometheus it reads")
	benchHours  = flag.Int("promread.hours", 6, "BenchmarkPrometheusRead: hours of samples, every 15s, that it reads")
)

// BenchmarkPrometheusRead reads every sample of N series × H hours (a
// sample every 15s) from a real Prometheus on loopback with one selector,
// through remote read and through the query API, and reports per read:
// requests, bytes on the wire (both ways, headers included), samples,
// this process's CPU per sample, and the server's CPU per sample (from its
// process_cpu_seconds_total, whose resolution is 10ms).
//
//	BURNWATCH_INTEGRATION=required go test ./source/ -run '^$' -bench PrometheusRead -benchtime 5x -args -promread.series 1000 -promread.hours 6
func BenchmarkPrometheusRead(b *testing.B) {
	end := time.Now().UTC().Truncate(time.Minute).Add(-time.Minute)
	om := benchRecording(b, *benchSeries, *benchHours, end)
	url := promtest.Start(b, om)
	from := end.Add(-time.Duration(*benchHours) * time.Hour)
	for _, api := range []string{PrometheusRemoteRead, PrometheusQuery} {
		b.Run(api, func(b *testing.B) {
			p, err := NewPrometheus(PrometheusConfig{URL: url, API: api, Timeout: model.Duration(5 * time.Minute)})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			var wire atomic.Int64
			dial := p.transport.DialContext
			p.transport.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := dial(ctx, network, addr)
				if err != nil {
					return nil, err
				}
				return &benchConn{Conn: c, n: &wire}, nil
			}
			auth := p.client.Transport.(*promAuth)
			var requests atomic.Int64
			auth.next = benchCounter{next: auth.next, n: &requests}

			serverCPU0 := benchServerCPU(b, url)
			cpu0 := benchCPU()
			samples := 0
			b.ResetTimer()
			for b.Loop() {
				err := p.Read(b.Context(), []string{"bench_queries_total"}, from, end, func(_ labels.Labels, ts []int64, _ []float64) error {
					samples += len(ts)
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			cpu := benchCPU() - cpu0
			serverCPU := benchServerCPU(b, url) - serverCPU0
			if want := *benchSeries * *benchHours * 240 * b.N; samples != want {
				b.Fatalf("read %d samples, want %d", samples, want)
			}
			n := float64(b.N)
			b.ReportMetric(float64(requests.Load())/n, "requests/op")
			b.ReportMetric(float64(wire.Load())/n, "wire-B/op")
			b.ReportMetric(float64(samples)/n, "samples/op")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(samples), "cpu-ns/sample")
			b.ReportMetric(float64(serverCPU.Nanoseconds())/float64(samples), "server-cpu-ns/sample")
		})
	}
}

// benchRecording writes n counters of h hours, a sample every 15s ending
// at end, as OpenMetrics.
func benchRecording(b *testing.B, n, h int, end time.Time) string {
	name := filepath.Join(b.TempDir(), "bench.om")
	f, err := os.Create(name)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString("# TYPE bench_queries counter\n")
	steps := h * 240
	start := end.UnixMilli() - int64(steps-1)*15000
	for s := range n {
		v := 0
		for i := range steps {
			v += (i*31 + s*17) % 13 // uneven increments, as a real counter has
			fmt.Fprintf(w, "bench_queries_total{db=\"db-%05d\",cluster=\"eu-1\"} %d %.3f\n", s, v, float64(start+int64(i)*15000)/1000)
		}
	}
	w.WriteString("# EOF\n")
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return name
}

// benchConn counts the bytes a connection moves both ways.
type benchConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *benchConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (c *benchConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// benchCounter counts requests.
type benchCounter struct {
	next http.RoundTripper
	n    *atomic.Int64
}

func (c benchCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(req)
}

// benchCPU is the CPU time this process has used, user and system.
func benchCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchServerCPU is the CPU time the Prometheus server has used.
func benchServerCPU(b *testing.B, url string) time.Duration {
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.Lines(string(body)) {
		if v, ok := strings.CutPrefix(line, "process_cpu_seconds_total "); ok {
			s, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				b.Fatal(err)
			}
			return time.Duration(s * float64(time.Second))
		}
	}
	b.Fatal("no process_cpu_seconds_total in Prometheus's /metrics")
	return 0
}
