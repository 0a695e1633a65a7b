package report_test

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/burnwatch/burnwatch/report"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// formats are the four renderers, by the golden file's extension.
var formats = []struct {
	ext   string
	write func(io.Writer, report.Report) error
}{
	{"md", report.WriteMarkdown},
	{"html", report.WriteHTML},
	{"json", report.WriteJSON},
	{"csv", report.WriteCSV},
}

func TestTheHandMadeReportRendersAsItsGoldenFileInEveryFormat(t *testing.T) {
	for _, f := range formats {
		t.Run(f.ext, func(t *testing.T) {
			var got bytes.Buffer
			if err := f.write(&got, handMade()); err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", "weekly."+f.ext), got.Bytes())
		})
	}
}

func TestAnEmptyReportStillRendersInEveryFormat(t *testing.T) {
	for _, f := range formats {
		t.Run(f.ext, func(t *testing.T) {
			var got bytes.Buffer
			if err := f.write(&got, report.Report{}); err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", "empty."+f.ext), got.Bytes())
		})
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run go test -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (run go test ./report/ -update and review the diff):\n%s", path, got)
	}
}
