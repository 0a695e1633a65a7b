package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
)

// CSVHeader is the header row of WriteCSV, documented in docs/report.md.
var CSVHeader = []string{"slo", "labels", "sli_week", "budget_remaining", "burned_week", "user_faults", "no_data"}

// WriteCSV writes one row per SLO instance under CSVHeader. Labels are in
// Prometheus form ({region="eu"}); numbers are fractions written in full
// (shortest form that reads back exactly); an unknown number is an empty cell,
// and the SLI of an instance with no data is empty with no_data true. An SLO
// that lists no instances gets one row with empty labels and its own figures,
// so that no SLO drops out of a spreadsheet.
func WriteCSV(w io.Writer, r Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return fmt.Errorf("writing CSV header: %w", err)
	}
	for _, s := range r.SLOs {
		rows := s.Instances
		if len(rows) == 0 {
			rows = []Instance{{SLI: s.SLIWeek, BudgetRemaining: s.BudgetRemaining, Burned: s.BurnedWeek, UserFaults: math.NaN()}}
		}
		for _, i := range rows {
			rec := []string{
				s.Name, labelString(i.Labels),
				csvNumber(i.weekSLI()), csvNumber(i.BudgetRemaining), csvNumber(i.Burned), csvNumber(i.UserFaults),
				strconv.FormatBool(i.NoData || math.IsNaN(i.weekSLI())),
			}
			if err := cw.Write(rec); err != nil {
				return fmt.Errorf("writing CSV row for %s%s: %w", s.Name, labelString(i.Labels), err)
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("writing CSV report: %w", err)
	}
	return nil
}

func csvNumber(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
