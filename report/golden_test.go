package report_test

import (
	"bytes"
	"io"
	"path/filepath"
	"testing"

	"github.com/burnwatch/burnwatch/internal/golden"
	"github.com/burnwatch/burnwatch/report"
)

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
			golden.Check(t, filepath.Join("testdata", "weekly."+f.ext), got.Bytes())
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
			golden.Check(t, filepath.Join("testdata", "empty."+f.ext), got.Bytes())
		})
	}
}
