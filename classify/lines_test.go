package classify

import (
	"bytes"
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
		if err := Lines(strings.NewReader(in), &out, c, ""); err != nil {
			t.Fatal(err)
		}
		if out.String() != want {
			t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
		}
	})

	t.Run("another code label can be named", func(t *testing.T) {
		var out bytes.Buffer
		if err := Lines(strings.NewReader("grpc_code=Unavailable,grpc_method=Run\n"), &out, c, "grpc_code"); err != nil {
			t.Fatal(err)
		}
		if want := "Unavailable\tplatform\tgrpc:Unavailable\n"; out.String() != want {
			t.Errorf("output %q, want %q", out.String(), want)
		}
	})

	t.Run("a quoted value may hold a comma and escapes", func(t *testing.T) {
		var out bytes.Buffer
		if err := Lines(strings.NewReader(`code="a,b\tc"`+"\n"), &out, c, ""); err == nil {
			t.Errorf("a code with a tab was accepted: %q", out.String())
		}
		out.Reset()
		if err := Lines(strings.NewReader(`code="a,b", x="\"q\""`+"\n"), &out, c, ""); err != nil {
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
		wantOut string
	}{
		{"a pair without = is an error naming its line", "404\ncode=1,database\n", "line 2: \"database\" is not a label=value pair", "404\tuser\thttp:/4[0-9]{2}/\n"},
		{"pairs without the code label are an error", "# c\n\ndatabase=db-1\n", "line 3: no code=... pair", ""},
		{"an empty label name is an error", "=42001\n", "line 1: empty label name", ""},
		{"a label given twice is an error", "code=1,code=2\n", `line 1: label "code" given twice`, ""},
		{"an unclosed brace is an error", "{code=1\n", "line 1: unclosed {", ""},
		{"an unterminated quote is an error", "code=\"1\n", "line 1: label \"code\": unterminated quoted value", ""},
		{"a bare code with a comma is neither form", "a,b\n", `line 1: "a,b" is neither a bare code nor label=value pairs`, ""},
		{"invalid UTF-8 is an error", "\xff\n", "line 1: not valid UTF-8", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := Lines(strings.NewReader(tc.in), &out, c, "")
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
			}
			if out.String() != tc.wantOut {
				t.Errorf("output before the error = %q, want %q", out.String(), tc.wantOut)
			}
		})
	}

	t.Run("a line longer than the limit is an error, not a silent split", func(t *testing.T) {
		in := "404\n" + strings.Repeat("x", maxLineBytes+1) + "\n"
		err := Lines(strings.NewReader(in), &bytes.Buffer{}, c, "")
		if err == nil || !strings.Contains(err.Error(), "line 2: longer than") {
			t.Errorf("err = %v", err)
		}
	})
}
