package pagerduty

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// fields returns the fields Validate's error names, in order.
func fields(err error) []string {
	if err == nil {
		return nil
	}
	var out []string
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	for _, e := range errs {
		var fe FieldError
		if errors.As(e, &fe) {
			out = append(out, fe.Field)
		} else {
			out = append(out, "not a FieldError: "+e.Error())
		}
	}
	return out
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		config Config
		want   []string // the fields named, in order
	}{
		{"a key file alone is enough", Config{RoutingKeyFile: "/run/secrets/pagerduty"}, nil},
		{"a key variable alone is enough", Config{RoutingKeyEnv: "PAGERDUTY_ROUTING_KEY"}, nil},
		{"every field set is valid", Config{
			RoutingKeyFile: "/run/secrets/pagerduty",
			Endpoint:       "https://pd-proxy.internal:8443/pagerduty/",
			Severity:       map[string]string{"page": "error", "ticket": "info"},
			Component:      "neo4j-eu-1",
			Timeout:        5 * time.Second,
		}, nil},
		{"no key at all", Config{}, []string{"routing_key_file"}},
		{"a key file and a key variable both", Config{RoutingKeyFile: "k", RoutingKeyEnv: "K"}, []string{"routing_key_env"}},
		{"a variable name with a dash", Config{RoutingKeyEnv: "PD-KEY"}, []string{"routing_key_env"}},
		{"a variable name starting with a digit", Config{RoutingKeyEnv: "1KEY"}, []string{"routing_key_env"}},
		{"the key itself where its variable's name belongs", Config{RoutingKeyEnv: testKey}, []string{"routing_key_env"}},
		{"an endpoint without a scheme", Config{RoutingKeyEnv: "K", Endpoint: "events.pagerduty.com"}, []string{"endpoint"}},
		{"an endpoint that is not http(s)", Config{RoutingKeyEnv: "K", Endpoint: "ftp://events.pagerduty.com"}, []string{"endpoint"}},
		{"an endpoint with a query", Config{RoutingKeyEnv: "K", Endpoint: "https://events.pagerduty.com?x=1"}, []string{"endpoint"}},
		{"an endpoint with a user", Config{RoutingKeyEnv: "K", Endpoint: "https://me:hunter2@events.pagerduty.com"}, []string{"endpoint"}},
		{"the enqueue URL instead of the base URL", Config{RoutingKeyEnv: "K", Endpoint: "https://events.pagerduty.com/v2/enqueue"}, []string{"endpoint"}},
		{"a PagerDuty severity that does not exist", Config{RoutingKeyEnv: "K", Severity: map[string]string{"page": "urgent"}}, []string{"severity.page"}},
		{"a burnwatch severity that does not exist", Config{RoutingKeyEnv: "K", Severity: map[string]string{"pgae": "critical"}}, []string{"severity"}},
		{"a component over 255 characters", Config{RoutingKeyEnv: "K", Component: strings.Repeat("c", 256)}, []string{"component"}},
		{"a negative timeout", Config{RoutingKeyEnv: "K", Timeout: -time.Second}, []string{"timeout"}},
		{"every problem at once, each naming its field", Config{
			RoutingKeyFile: "k", RoutingKeyEnv: "bad name",
			Endpoint: "nowhere",
			Severity: map[string]string{"page": "loud", "ticket": "quiet"},
			Timeout:  -1,
		}, []string{"routing_key_env", "routing_key_env", "endpoint", "severity.page", "severity.ticket", "timeout"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.config.Validate()
			if got := fields(err); !slices.Equal(got, tc.want) {
				t.Errorf("Validate() names %q; want %q\n%v", got, tc.want, err)
			}
			if err != nil && (strings.Contains(err.Error(), testKey) || strings.Contains(err.Error(), "hunter2")) {
				t.Errorf("Validate() shows a secret: %v", err)
			}
		})
	}
}

func TestNewReadsTheRoutingKey(t *testing.T) {
	for _, tc := range []struct {
		name    string
		file    *string // nil: the key is read from PD_TEST_KEY
		env     *string // nil: PD_TEST_KEY is unset
		wantErr string  // "" when New succeeds
	}{
		{name: "a key file's surrounding white space is trimmed", file: ptr(" \t" + testKey + "\r\n")},
		{name: "an empty key file is an error", file: ptr(""), wantErr: "holds no routing key"},
		{name: "a key file of white space is an error", file: ptr("  \n\t \n"), wantErr: "holds no routing key"},
		{name: "a key of 31 characters is an error", file: ptr(testKey[:31]), wantErr: "31 characters"},
		{name: "a key of 33 characters is an error", file: ptr(testKey + "x"), wantErr: "33 characters"},
		{name: "two keys on two lines are an error", file: ptr(testKey + "\n" + testKey), wantErr: "65 characters"},
		{name: "a key variable's surrounding white space is trimmed", env: ptr("  " + testKey + " ")},
		{name: "an unset key variable is an error", wantErr: "PD_TEST_KEY is not set"},
		{name: "an empty key variable is an error", env: ptr(""), wantErr: "holds no routing key"},
		{name: "a key variable of white space is an error", env: ptr(" \n "), wantErr: "holds no routing key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Config{RoutingKeyEnv: "PD_TEST_KEY"}
			if tc.file != nil {
				c = Config{RoutingKeyFile: writeKey(t, *tc.file)}
			}
			if tc.env != nil {
				t.Setenv("PD_TEST_KEY", *tc.env)
			}
			r, err := New("oncall", c)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("New: %v", err)
			case tc.wantErr == "" && r.key.s != testKey:
				t.Errorf("New read a key of %d characters; want the test key", len(r.key.s))
			case tc.wantErr != "" && err == nil:
				t.Fatalf("New succeeded; want an error with %q", tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Errorf("New: %v\nwant an error with %q", err, tc.wantErr)
			}
			if err != nil {
				if leak := leaked(err.Error()); leak != "" {
					t.Errorf("New's error shows the key (%q): %v", leak, err)
				}
				if !strings.Contains(err.Error(), `pagerduty receiver "oncall"`) {
					t.Errorf("New's error does not name the receiver: %v", err)
				}
			}
		})
	}
	t.Run("a missing key file is an error naming it", func(t *testing.T) {
		_, err := New("oncall", Config{RoutingKeyFile: "/nonexistent/routing-key"})
		if err == nil || !strings.Contains(err.Error(), "routing_key_file") || !strings.Contains(err.Error(), "/nonexistent/routing-key") {
			t.Errorf("New: %v; want an error naming routing_key_file and the path", err)
		}
	})
	t.Run("an invalid config is an error naming its field", func(t *testing.T) {
		_, err := New("oncall", Config{RoutingKeyEnv: "PD_TEST_KEY", Endpoint: "nowhere"})
		var fe FieldError
		if !errors.As(err, &fe) || fe.Field != "endpoint" {
			t.Errorf("New: %v; want a FieldError for endpoint", err)
		}
	})
	t.Run("a receiver needs a name", func(t *testing.T) {
		if _, err := New("", Config{RoutingKeyFile: writeKey(t, testKey)}); err == nil {
			t.Error("New without a name succeeded")
		}
	})
}

func ptr[T any](v T) *T { return &v }

// TestCheckRefusesWhatNewRefuses: `burnwatch check` runs Check, and serve
// runs New; a key file or variable that New refuses must fail Check with
// the same FieldError, and one New accepts must pass it.
func TestCheckRefusesWhatNewRefuses(t *testing.T) {
	for _, tc := range []struct {
		name      string
		config    func(t *testing.T) Config
		wantField string // "" when both accept
	}{
		{"a good key file passes", func(t *testing.T) Config { return Config{RoutingKeyFile: writeKey(t, testKey+"\n")} }, ""},
		{"a key file of the wrong length fails", func(t *testing.T) Config { return Config{RoutingKeyFile: writeKey(t, "not-a-key")} }, "routing_key_file"},
		{"an empty key file fails", func(t *testing.T) Config { return Config{RoutingKeyFile: writeKey(t, "\n")} }, "routing_key_file"},
		{"a missing key file fails", func(*testing.T) Config { return Config{RoutingKeyFile: "/nonexistent/routing-key"} }, "routing_key_file"},
		{"an unset key variable fails", func(*testing.T) Config { return Config{RoutingKeyEnv: "PD_CHECK_UNSET"} }, "routing_key_env"},
		{"an invalid config fails on its field", func(*testing.T) Config { return Config{RoutingKeyEnv: "PD-KEY"} }, "routing_key_env"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.config(t)
			checkErr := c.Check()
			_, newErr := New("oncall", c)
			if (checkErr == nil) != (newErr == nil) {
				t.Fatalf("Check() = %v but New() = %v", checkErr, newErr)
			}
			if tc.wantField == "" {
				return
			}
			if got := fields(checkErr); len(got) != 1 || got[0] != tc.wantField {
				t.Errorf("Check() = %v; want one FieldError for %s", checkErr, tc.wantField)
			}
			if !strings.Contains(newErr.Error(), checkErr.Error()) {
				t.Errorf("New() = %v; want it to say what Check says: %v", newErr, checkErr)
			}
		})
	}
}
