package classify

import (
	"bufio"
	"os"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/prometheus/prometheus/model/labels"
)

// samplesFor returns codes that the rule's match selects, for checking that a
// pack classifies its own rules as its file says. Exact codes are themselves;
// a prefix gets made-up suffixes; a regular expression gets strings generated
// from its syntax, several variants, so that one not taken by an earlier
// exception can be found.
func samplesFor(m Match) []string {
	switch {
	case m.Code != "":
		return []string{m.Code}
	case m.Prefix != "":
		return []string{m.Prefix + "Zz.Unlisted", m.Prefix + "ZZZ", m.Prefix + "q"}
	}
	re, err := syntax.Parse(m.Regex, syntax.Perl)
	if err != nil {
		return nil
	}
	re = re.Simplify()
	var out []string
	for variant := 0; variant < 4; variant++ {
		var b strings.Builder
		if generate(&b, re, variant) {
			out = append(out, b.String())
		}
	}
	return out
}

// generate writes one string that re matches; variant picks the characters of
// classes (0: last, 1: first, 2: second to last, 3: second).
func generate(b *strings.Builder, re *syntax.Regexp, variant int) bool {
	switch re.Op {
	case syntax.OpLiteral:
		b.WriteString(string(re.Rune))
	case syntax.OpCharClass:
		var runes []rune
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= re.Rune[i+1] && len(runes) < 256; r++ {
				if unicode.IsPrint(r) {
					runes = append(runes, r)
				}
			}
		}
		if len(runes) == 0 {
			return false
		}
		pick := map[int]int{0: len(runes) - 1, 1: 0, 2: len(runes) - 2, 3: 1}[variant]
		pick = max(0, min(pick, len(runes)-1))
		b.WriteRune(runes[pick])
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		b.WriteString([]string{"Z", "a", "Y", "b"}[variant])
	case syntax.OpConcat:
		for _, s := range re.Sub {
			if !generate(b, s, variant) {
				return false
			}
		}
	case syntax.OpAlternate:
		return generate(b, re.Sub[variant%len(re.Sub)], variant)
	case syntax.OpCapture:
		return generate(b, re.Sub[0], variant)
	case syntax.OpRepeat:
		for i := 0; i < re.Min; i++ {
			if !generate(b, re.Sub[0], variant) {
				return false
			}
		}
	case syntax.OpPlus:
		return generate(b, re.Sub[0], variant)
	case syntax.OpStar, syntax.OpQuest, syntax.OpEmptyMatch, syntax.OpBeginText, syntax.OpEndText, syntax.OpBeginLine, syntax.OpEndLine:
	default:
		return false
	}
	return true
}

// TestPackRulesClassifyTheirOwnCodes loads each embedded pack file and checks
// that every rule in it decides its own code or pattern, with the class the
// file gives. A rule that an earlier rule of the same pack shadows entirely
// fails here, so every line of a pack means something.
func TestPackRulesClassifyTheirOwnCodes(t *testing.T) {
	all := mustNew(t, nil, nil)
	for _, name := range Packs {
		t.Run(name, func(t *testing.T) {
			p, err := loadPack(name)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.rules) == 0 {
				t.Fatal("pack has no rules")
			}
			alone := mustNew(t, nil, []string{name})
			for i, r := range p.rules {
				ruleName := name + ":" + r.Match.name()
				lset := labels.FromMap(r.Match.Labels) // a series the rule's labels match
				re := regexp.MustCompile(`^(?:` + r.Match.Regex + `)$`)
				var sample string
				for _, s := range samplesFor(r.Match) {
					if r.Match.Regex != "" && !re.MatchString(s) {
						continue
					}
					if d := alone.Classify(s, lset); d.Rule == ruleName {
						sample = s
						break
					}
				}
				if sample == "" {
					t.Errorf("rules[%d] %s: no code it matches is decided by it (shadowed by an earlier rule?)", i, ruleName)
					continue
				}
				d := alone.Classify(sample, lset)
				if d.Class != r.Class || d.Reason != r.Reason {
					t.Errorf("rules[%d] %s: %q is %v (%q), the file says %v", i, ruleName, sample, d.Class, d.Reason, r.Class)
				}
				// With every pack on, an earlier pack may decide a shared code,
				// but it must not give it another class.
				if got := all.Classify(sample, lset); got.Class != r.Class {
					t.Errorf("rules[%d] %s: %q is %v with every pack on (rule %s), %v in its own pack", i, ruleName, sample, got.Class, got.Rule, r.Class)
				}
			}
		})
	}
}

func TestPackFilesNameTheirSource(t *testing.T) {
	for _, name := range Packs {
		t.Run(name+" names its vendor's published list", func(t *testing.T) {
			p, err := loadPack(name)
			if err != nil {
				t.Fatal(err)
			}
			if p.source.Vendor == "" || p.source.List == "" || len(p.source.URLs) == 0 {
				t.Errorf("source = %+v", p.source)
			}
			for _, r := range p.rules {
				if strings.TrimSpace(r.Reason) == "" {
					t.Errorf("%s has no reason", r.Match.name())
				}
			}
		})
	}
	t.Run("the embedded files are exactly the listed packs", func(t *testing.T) {
		entries, err := packFiles.ReadDir("packs")
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != len(Packs) {
			t.Errorf("%d files in packs/, %d names in Packs", len(entries), len(Packs))
		}
	})
}

// readVendorList reads testdata/vendor/FILE: the first field of each line
// that is not a comment.
func readVendorList(t *testing.T, file string) []string {
	t.Helper()
	f, err := os.Open("testdata/vendor/" + file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var codes []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		codes = append(codes, strings.Fields(line)[0])
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return codes
}

// TestPacksCoverTheVendorsLists checks each pack against the vendor's
// published list (transcribed in testdata/vendor): no published code falls
// through to the default.
func TestPacksCoverTheVendorsLists(t *testing.T) {
	all := mustNew(t, nil, nil)
	for _, tc := range []struct {
		name, pack, file string
		wantCount        int
	}{
		{"every published Neo4j status code has its own exact rule", "neo4j", "neo4j-status-codes.txt", 124},
		{"every published GQLSTATUS error code is classified", "gqlstatus", "gqlstatus-error-codes.txt", 514},
		{"every PostgreSQL SQLSTATE code is classified", "sqlstate", "sqlstate-errcodes.txt", 262},
		{"every registered HTTP status code is classified", "http", "http-status-codes.txt", 63},
	} {
		t.Run(tc.name, func(t *testing.T) {
			codes := readVendorList(t, tc.file)
			if len(codes) != tc.wantCount {
				t.Errorf("%s has %d codes, want %d", tc.file, len(codes), tc.wantCount)
			}
			alone := mustNew(t, nil, []string{tc.pack})
			for _, code := range codes {
				d := alone.Classify(code, labels.EmptyLabels())
				if d.Rule == DefaultRule {
					t.Errorf("%s: no rule in pack %s", code, tc.pack)
				}
				if tc.pack == "neo4j" && d.Rule != "neo4j:"+code {
					t.Errorf("%s is decided by %s, not by its own exact rule", code, d.Rule)
				}
				if got := all.Classify(code, labels.EmptyLabels()); got.Class != d.Class {
					t.Errorf("%s: %v in pack %s but %v with every pack on (%s)", code, d.Class, tc.pack, got.Class, got.Rule)
				}
			}
		})
	}
	t.Run("every gRPC status code has a rule under both of its names", func(t *testing.T) {
		alone := mustNew(t, nil, []string{"grpc"})
		for _, code := range []string{"OK", "CANCELLED", "Canceled", "UNKNOWN", "Unknown", "INVALID_ARGUMENT", "InvalidArgument",
			"DEADLINE_EXCEEDED", "DeadlineExceeded", "NOT_FOUND", "NotFound", "ALREADY_EXISTS", "AlreadyExists",
			"PERMISSION_DENIED", "PermissionDenied", "RESOURCE_EXHAUSTED", "ResourceExhausted", "FAILED_PRECONDITION",
			"FailedPrecondition", "ABORTED", "Aborted", "OUT_OF_RANGE", "OutOfRange", "UNIMPLEMENTED", "Unimplemented",
			"INTERNAL", "Internal", "UNAVAILABLE", "Unavailable", "DATA_LOSS", "DataLoss", "UNAUTHENTICATED", "Unauthenticated"} {
			if d := alone.Classify(code, labels.EmptyLabels()); d.Rule != "grpc:"+code {
				t.Errorf("%s is decided by %s", code, d.Rule)
			}
		}
	})
}

// TestNotableClassifications is the table of codes whose class is a decision,
// mostly against the vendor's own grouping, each with the reason it is shown.
// Every pack is on, in the default order.
func TestNotableClassifications(t *testing.T) {
	c := mustNew(t, nil, nil)
	for _, tc := range []struct {
		name string
		code string
		want Class
	}{
		// Cluster routing: a vendor's "client error" that is the platform's.
		{"a write routed to a follower during a leader switch is the platform's", "Neo.ClientError.Cluster.NotALeader", Platform},
		{"a request the cluster could not route is the platform's", "Neo.ClientError.Cluster.Routing", Platform},
		{"a routing failure reported as a client error is the platform's", "Neo.ClientError.Routing.RoutingFailed", Platform},
		{"a server in panic reported as a client error is the platform's", "Neo.ClientError.Routing.DbmsInPanic", Platform},
		{"GQLSTATUS not-the-leader is the platform's", "08N07", Platform},
		{"a write that reached a PostgreSQL hot standby is the platform's", "25006", Platform},
		{"an HTTP request that reached a server unable to answer for its authority is the platform's", "421", Platform},
		{"a leader switch under a transaction is the platform's", "Neo.TransientError.Transaction.LeaderSwitch", Platform},
		// The user's own workload: transient errors it caused.
		{"Neo4j transactions deadlocking with each other are the user's workload", "Neo.TransientError.Transaction.DeadlockDetected", User},
		{"a GQLSTATUS deadlock is the user's workload", "50N05", User},
		{"a PostgreSQL deadlock is the user's workload", "40P01", User},
		{"a PostgreSQL serialization failure is the user's workload", "40001", User},
		{"lock contention between the user's transactions is the user's", "Neo.TransientError.Transaction.LockAcquisitionTimeout", User},
		{"a PostgreSQL lock that is not available is the user's", "55P03", User},
		{"a gRPC ABORTED concurrency conflict is the user's", "ABORTED", User},
		// Authentication and authorization.
		{"wrong Neo4j credentials are the user's", "Neo.ClientError.Security.Unauthorized", User},
		{"a missing Neo4j privilege is the user's", "Neo.ClientError.Security.Forbidden", User},
		{"GQLSTATUS permission denied is the user's", "42NFF", User},
		{"a wrong PostgreSQL password is the user's", "28P01", User},
		{"a missing PostgreSQL privilege is the user's", "42501", User},
		{"HTTP 401 is the user's", "401", User},
		{"HTTP 403 is the user's", "403", User},
		{"gRPC UNAUTHENTICATED is the user's", "UNAUTHENTICATED", User},
		{"gRPC PERMISSION_DENIED is the user's", "PERMISSION_DENIED", User},
		{"a failing auth provider that the platform runs is the platform's", "Neo.TransientError.Security.AuthProviderFailed", Platform},
		// Rate limits.
		{"Neo4j throttling repeated wrong credentials is the user's", "Neo.ClientError.Security.AuthenticationRateLimit", User},
		{"HTTP 429, a per-client rate limit the client exceeded, is the user's", "429", User},
		{"gRPC RESOURCE_EXHAUSTED, gRPC's 429, is the user's", "RESOURCE_EXHAUSTED", User},
		// Resource exhaustion: the platform's capacity, unless one request exceeded its own limit.
		{"a JVM heap out of memory is the platform's", "Neo.TransientError.General.OutOfMemoryError", Platform},
		{"the global transaction memory limit is the platform's", "Neo.TransientError.General.TransactionMemoryLimit", Platform},
		{"an exhausted memory pool is the platform's", "Neo.TransientError.General.MemoryPoolOutOfMemoryError", Platform},
		{"one transaction over its own memory limit is the user's", "Neo.ClientError.General.TransactionOutOfMemoryError", User},
		{"GQLSTATUS transaction memory limit is the user's, as its legacy code", "51N73", User},
		{"no free worker threads is the platform's", "Neo.TransientError.Request.NoThreadsAvailable", Platform},
		{"a full disk is the platform's", "53100", Platform},
		{"PostgreSQL out of memory is the platform's", "53200", Platform},
		{"too many PostgreSQL connections is the platform's", "53300", Platform},
		{"an OOM-killed container is the platform's", "OOMKilled", Platform},
		{"an evicted pod is the platform's", "Evicted", Platform},
		// Timeouts and cancellation.
		{"a transaction past the server's timeout is the user's", "Neo.ClientError.Transaction.TransactionTimedOut", User},
		{"HTTP 408, a client that did not finish its request in time, is the user's", "408", User},
		{"HTTP 504, a gateway timeout, is the platform's", "504", Platform},
		{"gRPC DEADLINE_EXCEEDED is the platform's", "DEADLINE_EXCEEDED", Platform},
		{"gRPC CANCELLED, the caller giving up, is the user's", "CANCELLED", User},
		{"grpc-go's spelling Canceled is the same code", "Canceled", User},
		{"a PostgreSQL statement cancelled by statement_timeout or the client is the user's", "57014", User},
		// Shutdowns and internal errors.
		{"a PostgreSQL admin shutdown is the platform's", "57P01", Platform},
		{"a PostgreSQL internal error is the platform's", "XX000", Platform},
		{"a PostgreSQL protocol violation by the client is the user's", "08P01", User},
		{"a PostgreSQL connection failure is the platform's", "08006", Platform},
		{"an unlisted Neo4j client error is the user's by its family", "Neo.ClientError.Future.Unlisted", User},
		{"an unlisted Neo4j database error is the platform's by its family", "Neo.DatabaseError.Future.Unlisted", Platform},
		// Not failures.
		{"a Neo4j notification is noise", "Neo.ClientNotification.Statement.CartesianProduct", Ignore},
		{"a completed container is noise", "Completed", Ignore},
		{"HTTP 304 is noise", "304", Ignore},
		{"gRPC OK is noise", "OK", Ignore},
		{"a PostgreSQL warning is noise", "01000", Ignore},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := c.Classify(tc.code, labels.EmptyLabels())
			if d.Class != tc.want {
				t.Errorf("%s is %v (%s: %s), want %v", tc.code, d.Class, d.Rule, d.Reason, tc.want)
			}
			if d.Rule == DefaultRule || d.Reason == "" {
				t.Errorf("%s decided by %q with reason %q", tc.code, d.Rule, d.Reason)
			}
		})
	}
}

// allSampleCodes returns every code of every pack's exact rules, samples of
// its prefix and regex rules, the vendors' lists, and some unknown codes.
func allSampleCodes(t testing.TB) []string {
	t.Helper()
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, name := range Packs {
		p, err := loadPack(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.rules {
			for _, s := range samplesFor(r.Match) {
				add(s)
			}
		}
	}
	for _, s := range []string{"", "N", "Neo", "Neo.", "Neo.ClientError", "4", "40", "4000", "400000", "Neo.Unknown.X", "zzz", "OutOf", "42N0", "42N012"} {
		add(s)
	}
	return out
}

// TestStatusClassesAndNumericGRPCCodes: an exporter that counts HTTP
// responses by class (4xx, 5xx) and one that labels gRPC codes by number,
// as OpenTelemetry does (rpc_system="grpc"), are classified as the codes
// they stand for; a bare number without that label is left to the rules
// that know it.
func TestStatusClassesAndNumericGRPCCodes(t *testing.T) {
	c := mustNew(t, nil, nil)
	grpc := labels.FromStrings("rpc_system", "grpc")
	for _, tc := range []struct {
		name string
		code string
		lset labels.Labels
		want Class
	}{
		{"5xx is the platform's", "5xx", labels.EmptyLabels(), Platform},
		{"4xx is the user's", "4xx", labels.EmptyLabels(), User},
		{"2xx is not a failure", "2xx", labels.EmptyLabels(), Ignore},
		{"gRPC 14 on a gRPC series is UNAVAILABLE, the platform's", "14", grpc, Platform},
		{"gRPC 3 on a gRPC series is INVALID_ARGUMENT, the user's", "3", grpc, User},
		{"gRPC 0 on a gRPC series is OK", "0", grpc, Ignore},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if d := c.Classify(tc.code, tc.lset); d.Class != tc.want || d.Rule == DefaultRule {
				t.Errorf("Classify(%q) = %+v, want %v by a pack rule", tc.code, d, tc.want)
			}
		})
	}
	names := []string{"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
		"PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
		"INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"}
	for n, name := range names {
		byNumber := c.Classify(strconv.Itoa(n), grpc)
		if byName := c.Classify(name, labels.EmptyLabels()); byNumber.Class != byName.Class {
			t.Errorf("gRPC %d is %v, its name %s %v", n, byNumber.Class, name, byName.Class)
		}
	}
	if d := c.Classify("14", labels.EmptyLabels()); d.Rule != DefaultRule {
		t.Errorf("a bare 14 on a series that says nothing of gRPC is decided by %s", d.Rule)
	}
}
