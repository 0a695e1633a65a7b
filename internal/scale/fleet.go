// Package scale stands up a simulated fleet of Neo4j databases for
// measuring burnwatch at fleet size: the history of its query counters
// written as TSDB blocks, a live target that Prometheus scrapes, failure
// injection, a real Prometheus and a real `burnwatch serve`, and the
// figures of issue 10 (time to ready, CPU and memory per instance, store
// writes, Prometheus's cost, the delay to a page). The command is
// internal/cmd/scale; docs/scale.md says how to read what it prints.
package scale

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// The series a database exports, as burnwatch's default config reads them
// (slo/default.yaml): three per database, the fleet shape issue 10 measures.
const (
	QueriesMetric = "neo4j_queries_total"
	ErrorsMetric  = "neo4j_query_errors_total"
	// UserCode is the user-error code every database reports now and then.
	UserCode = "Neo.ClientError.Statement.SyntaxError"
	// PlatformCode is the platform-error code: rare in normal traffic, and
	// every query's when a database is made to fail.
	PlatformCode = "Neo.DatabaseError.General.UnknownError"

	// job and instance are exported with every sample, and the scrape keeps
	// them (honor_labels), so that the live series are the history's.
	jobLabel      = "neo4j"
	instanceLabel = "fleet-simulator"
)

// Step is the scrape interval of the simulated fleet: one sample per
// series per step, in the history and in the live target alike.
const Step = 15 * time.Second

const stepMs = int64(Step / time.Millisecond)

// The traffic model. Each database draws its own rate and user-error ratio
// once from the seed; everything else is drawn per step.
const (
	// medianQPS and qpsSigma shape the per-database query rate, log-normal:
	// most databases are quiet, a few are a hundred times busier.
	medianQPS = 2.0
	qpsSigma  = 1.5
	minQPS    = 0.01
	maxQPS    = 500
	// diurnal is the amplitude of the daily swing of every rate.
	diurnal = 0.4
	// medianUserRatio and userSigma shape the share of queries that fail
	// with UserCode.
	medianUserRatio = 0.005
	userSigma       = 1.0
	maxUserRatio    = 0.2
	// stormPerStep is the chance a database starts a syntax-error storm
	// (a user deploying a broken query) in a step, about once a week; during
	// one, stormRatio of its queries fail, for stormMinSteps to
	// stormMaxSteps.
	stormPerStep  = 1.0 / (7 * 24 * 240)
	stormRatio    = 0.3
	stormMinSteps = 20
	stormMaxSteps = 80
	// platformRatio is the share of queries failing with PlatformCode in
	// normal traffic: far below the 0.1% budget of a 99.9% SLO.
	platformRatio = 2e-6
	// resetPerStep is the chance a database's pod restarts in a step,
	// about once in three days: its counters start again from zero.
	resetPerStep = 1.0 / (3 * 24 * 240)
)

// stepsPerDay is the length of the diurnal table.
const stepsPerDay = int(24 * time.Hour / Step)

// diurnalTable holds 1 + diurnal×sin over one day, one entry per step.
var diurnalTable = func() []float64 {
	t := make([]float64, stepsPerDay)
	for i := range t {
		t[i] = 1 + diurnal*math.Sin(2*math.Pi*float64(i)/float64(stepsPerDay))
	}
	return t
}()

// Fleet is N simulated databases: their fixed traits, drawn from the seed,
// and the state of their counters, which Advance moves on one step at a
// time. Databases are independent: Advance on different databases may run
// concurrently.
type Fleet struct {
	Seed  uint64
	names []string
	trait []trait
	state []DBState // PCG is kept in pcg while the fleet runs
	pcg   []rand.PCG
	rng   []*rand.Rand // over pcg
}

// trait is what a database keeps for its life.
type trait struct {
	meanPerStep float64 // queries per step, before the diurnal swing
	userRatio   float64
	phase       int // steps into the diurnal table at midnight UTC
}

// DBState is one database's counters and random stream at a step: all a
// simulation needs to carry on from where it stopped.
type DBState struct {
	// PCG is the state of the database's random stream.
	PCG [2]uint64
	// Queries, User and Platform are the counters' values.
	Queries, User, Platform float64
	// Storm is how many more steps a syntax-error storm lasts.
	Storm int
	// FailFrom is when the database starts failing every query (ms); 0 for
	// never.
	FailFrom int64
}

// Counts are one step's increments of a database's counters.
type Counts struct {
	Queries, User, Platform float64
	// Reset: the counters started again from zero before the increments.
	Reset bool
}

// NewFleet returns n databases drawn from seed, their counters at zero.
func NewFleet(n int, seed uint64) *Fleet {
	f := &Fleet{Seed: seed, names: make([]string, n), trait: make([]trait, n), state: make([]DBState, n),
		pcg: make([]rand.PCG, n), rng: make([]*rand.Rand, n)}
	width := len(fmt.Sprint(n))
	traits := rand.New(rand.NewPCG(seed, 0x7261697473)) // "traits"
	for i := range n {
		f.names[i] = fmt.Sprintf("db-%0*d", width, i+1)
		qps := math.Exp(math.Log(medianQPS) + qpsSigma*traits.NormFloat64())
		qps = min(max(qps, minQPS), maxQPS)
		ur := math.Exp(math.Log(medianUserRatio) + userSigma*traits.NormFloat64())
		f.trait[i] = trait{
			meanPerStep: qps * Step.Seconds(),
			userRatio:   min(ur, maxUserRatio),
			phase:       traits.IntN(stepsPerDay),
		}
		f.pcg[i].Seed(seed, uint64(i)+1)
		f.rng[i] = rand.New(&f.pcg[i])
	}
	return f
}

// Len is the number of databases.
func (f *Fleet) Len() int { return len(f.names) }

// Name is database i's name: db-1 … db-N, zero-padded so that names sort
// as numbers do.
func (f *Fleet) Name(i int) string { return f.names[i] }

// Index returns the database named name.
func (f *Fleet) Index(name string) (int, bool) {
	var i int
	if _, err := fmt.Sscanf(name, "db-%d", &i); err != nil || i < 1 || i > len(f.names) || f.names[i-1] != name {
		return 0, false
	}
	return i - 1, true
}

// State returns database i's state.
func (f *Fleet) State(i int) DBState {
	s := f.state[i]
	b, _ := f.pcg[i].MarshalBinary() // "pcg:", then the two words big-endian
	s.PCG = [2]uint64{binary.BigEndian.Uint64(b[4:]), binary.BigEndian.Uint64(b[12:])}
	return s
}

// SetState replaces database i's state, to carry on from a saved one.
func (f *Fleet) SetState(i int, s DBState) {
	f.state[i] = s
	f.pcg[i].Seed(s.PCG[0], s.PCG[1])
}

// Fail makes database i fail every query from at on.
func (f *Fleet) Fail(i int, at time.Time) { f.state[i].FailFrom = at.UnixMilli() }

// Advance moves database i one step on, to time t (ms), and returns the
// step's increments. A failing database fails all of the step's queries
// with PlatformCode and reports no user errors.
func (f *Fleet) Advance(i int, t int64) Counts {
	s, tr, r := &f.state[i], &f.trait[i], f.rng[i]

	var c Counts
	if r.Float64() < resetPerStep {
		c.Reset = true
		s.Queries, s.User, s.Platform = 0, 0, 0
	}
	day := int((t/stepMs)%int64(stepsPerDay)+int64(tr.phase)) % stepsPerDay
	c.Queries = poisson(r, tr.meanPerStep*diurnalTable[day])
	ratio := tr.userRatio
	if s.Storm > 0 {
		s.Storm--
		ratio = stormRatio
	} else if r.Float64() < stormPerStep {
		s.Storm = stormMinSteps + r.IntN(stormMaxSteps-stormMinSteps+1)
	}
	if s.FailFrom != 0 && t >= s.FailFrom {
		c.Platform = c.Queries
	} else {
		c.User = min(poisson(r, c.Queries*ratio), c.Queries)
		c.Platform = min(poisson(r, c.Queries*platformRatio), c.Queries-c.User)
	}
	s.Queries += c.Queries
	s.User += c.User
	s.Platform += c.Platform
	return c
}

// poisson draws from a Poisson distribution of the mean: by Knuth's
// product of uniforms for small means, and by the normal approximation
// (rounded, at least 0) from 10 on, where it is close and far cheaper.
func poisson(r *rand.Rand, mean float64) float64 {
	switch {
	case mean <= 0:
		return 0
	case mean >= 10:
		return max(0, math.Round(mean+math.Sqrt(mean)*r.NormFloat64()))
	}
	limit := math.Exp(-mean)
	k, p := 0.0, r.Float64()
	for p > limit {
		k++
		p *= r.Float64()
	}
	return k
}

// seriesLabels are the three series of database i, in the order Series
// numbers them: queries, user errors, platform errors.
func (f *Fleet) seriesLabels(i int) [3]labels.Labels {
	db := f.names[i]
	return [3]labels.Labels{
		labels.FromStrings(labels.MetricName, QueriesMetric, "database", db, "instance", instanceLabel, "job", jobLabel),
		labels.FromStrings(labels.MetricName, ErrorsMetric, "code", UserCode, "database", db, "instance", instanceLabel, "job", jobLabel),
		labels.FromStrings(labels.MetricName, ErrorsMetric, "code", PlatformCode, "database", db, "instance", instanceLabel, "job", jobLabel),
	}
}

// values are the three counters of a state, in seriesLabels' order.
func (s *DBState) values() [3]float64 { return [3]float64{s.Queries, s.User, s.Platform} }
