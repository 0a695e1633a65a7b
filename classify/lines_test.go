package classify

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
)

func TestLines(t *testing.T) {
	c := mustNew(t, []Rule{
		{Match: Match{Code: "429", Labels: map[string]string{"tenant": "t-9"}}, Class: Platform, Reason: "t-9 is our own load generator"},
	}, nil)

	t.Run("a sample input gives the exact expected output", func(t *testing.T) {
		in := `# codes seen in last night's replay
Neo.ClientError.Statement.SyntaxError
Neo.ClientError.Cluster.NotALeader

  Neo.TransientError.Transaction.DeadlockDetected
code=40P01,database=db-1
{code="429", tenant="t-9"}
code=429, tenant=t-1
RESOURCE_EXHAUSTED
OOMKilled
Completed
Vendor.Unknown.Failure
`
		want := "Neo.ClientError.Statement.SyntaxError\tuser\tneo4j:Neo.ClientError.Statement.SyntaxError\n" +
			"Neo.ClientError.Cluster.NotALeader\tplatform\tneo4j:Neo.ClientError.Cluster.NotALeader\n" +
			"Neo.TransientError.Transaction.DeadlockDetected\tuser\tneo4j:Neo.TransientError.Transaction.DeadlockDetected\n" +
			"40P01\tuser\tsqlstate:40P01\n" +
			"429\tplatform\tconfig:rules[0]\n" +
			"429\tuser\thttp:429\n" +
			"RESOURCE_EXHAUSTED\tuser\tgrpc:RESOURCE_EXHAUSTED\n" +
			"OOMKilled\tplatform\tk8s:OOMKilled\n" +
			"Completed\tignore\tk8s:Completed\n" +
			"Vendor.Unknown.Failure\tplatform\tdefault\n"
		var out bytes.Buffer
		if err := Lines(strings.NewReader(in), &out, io.Discard, c, ""); err != nil {
			t.Fatal(err)
		}
		if out.String() != want {
			t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
		}
	})

	t.Run("another code label can be named", func(t *testing.T) {
		var out bytes.Buffer
		if err := Lines(strings.NewReader("grpc_code=Unavailable,grpc_method=Run\n"), &out, io.Discard, c, "grpc_code"); err != nil {
			t.Fatal(err)
		}
		if want := "Unavailable\tplatform\tgrpc:Unavailable\n"; out.String() != want {
			t.Errorf("output %q, want %q", out.String(), want)
		}
	})

	t.Run("a quoted value may hold a comma and escapes", func(t *testing.T) {
		var out bytes.Buffer
		if err := Lines(strings.NewReader(`code="a,b\tc"`+"\n"), &out, io.Discard, c, ""); err == nil {
			t.Errorf("a code with a tab was accepted: %q", out.String())
		}
		out.Reset()
		if err := Lines(strings.NewReader(`code="a,b", x="\"q\""`+"\n"), &out, io.Discard, c, ""); err != nil {
			t.Fatal(err)
		}
		if want := "a,b\tplatform\tdefault\n"; out.String() != want {
			t.Errorf("output %q, want %q", out.String(), want)
		}
	})

	for _, tc := range []struct {
		name    string
		in      string
		wantErr string
	}{
		{"a pair without = is reported with its line", "code=1,database\n", "line 1: \"database\" is not a label=value pair"},
		{"pairs without the code label are reported", "# c\n\ndatabase=db-1\n", "line 3: no code=... pair"},
		{"an empty label name is reported", "=42001\n", "line 1: empty label name"},
		{"a label given twice is reported", "code=1,code=2\n", `line 1: label "code" given twice`},
		{"an unclosed brace is reported", "{code=1\n", "line 1: unclosed {"},
		{"an unterminated quote is reported", "code=\"1\n", "line 1: label \"code\": unterminated quoted value"},
		{"a bare code with a comma is neither form", "a,b\n", `line 1: "a,b" is neither a bare code nor label=value pairs`},
		{"invalid UTF-8 is reported", "\xff\n", "line 1: not valid UTF-8"},
		{"a series with a bad label is reported", "neo4j_query_errors_total{code=\"x\",}=1\n", `line 1: "neo4j_query_errors_total{code=\"x\",}=1" is not a series`},
		{"a series without the code label is reported", "neo4j_query_errors_total{database=\"db-1\"} 3\n", "line 1: no code=... pair"},
	} {
		t.Run(tc.name+", and the lines after it are still classified", func(t *testing.T) {
			var out, errs bytes.Buffer
			err := Lines(strings.NewReader("404\n"+tc.in+"503\n"), &out, &errs, c, "")
			if err == nil || err.Error() != "1 line(s) could not be read and were skipped" {
				t.Errorf("err = %v, want one line skipped", err)
			}
			// The input starts with a good line, so the bad one is a line later.
			var no int
			fmt.Sscanf(tc.wantErr, "line %d:", &no)
			want := fmt.Sprintf("line %d:%s", no+1, tc.wantErr[strings.Index(tc.wantErr, ":")+1:])
			if !strings.HasPrefix(errs.String(), want) {
				t.Errorf("reported %q, want %q", errs.String(), want)
			}
			if wantOut := "404\tuser\thttp:/4[0-9]{2}/\n503\tplatform\thttp:/5[0-9]{2}/\n"; out.String() != wantOut {
				t.Errorf("output %q, want %q", out.String(), wantOut)
			}
		})
	}

	t.Run("a line longer than the limit is reported, not split, and reading goes on", func(t *testing.T) {
		in := "404\n" + strings.Repeat("x", maxLineBytes+1) + "\n503\n"
		var out, errs bytes.Buffer
		err := Lines(strings.NewReader(in), &out, &errs, c, "")
		if err == nil || !strings.HasPrefix(errs.String(), "line 2: longer than") || strings.Count(out.String(), "\n") != 2 {
			t.Errorf("err = %v, reported %q, output %q", err, errs.String(), out.String())
		}
	})

	t.Run("series as /metrics prints them", func(t *testing.T) {
		in := `neo4j_query_errors_total{code="Neo.ClientError.Statement.SyntaxError",database="db-1"} 42
neo4j_query_errors_total{code="40P01",database="db-1"} 7 1700000000000
grpc_server_handled_total{rpc_system="grpc",code="14",grpc_method="Run"}
http_requests_total{code="5xx"}
`
		want := "Neo.ClientError.Statement.SyntaxError\tuser\tneo4j:Neo.ClientError.Statement.SyntaxError\n" +
			"40P01\tuser\tsqlstate:40P01\n" +
			"14\tplatform\tgrpc:14{rpc_system=\"grpc\"}\n" +
			"5xx\tplatform\thttp:5xx\n"
		var out bytes.Buffer
		if err := Lines(strings.NewReader(in), &out, io.Discard, c, ""); err != nil {
			t.Fatal(err)
		}
		if out.String() != want {
			t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
		}
	})
}
