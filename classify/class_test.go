package classify

import (
	"encoding/json"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestClassNames(t *testing.T) {
	for _, tc := range []struct {
		class Class
		name  string
	}{
		{Platform, "platform"},
		{User, "user"},
		{Ignore, "ignore"},
	} {
		t.Run(tc.name+" round-trips through its name", func(t *testing.T) {
			if got := tc.class.String(); got != tc.name {
				t.Errorf("String() = %q, want %q", got, tc.name)
			}
			text, err := tc.class.MarshalText()
			if err != nil || string(text) != tc.name {
				t.Errorf("MarshalText() = %q, %v; want %q", text, err, tc.name)
			}
			parsed, err := ParseClass(tc.name)
			if err != nil || parsed != tc.class {
				t.Errorf("ParseClass(%q) = %v, %v", tc.name, parsed, err)
			}
		})
	}
	t.Run("the zero class is platform, because an unknown failure is the platform's", func(t *testing.T) {
		var c Class
		if c != Platform {
			t.Errorf("zero Class = %v", c)
		}
	})
	t.Run("an out-of-range class does not marshal and says what it is", func(t *testing.T) {
		if _, err := Class(7).MarshalText(); err == nil {
			t.Error("MarshalText of Class(7) succeeded")
		}
		if got := Class(7).String(); got != "Class(7)" {
			t.Errorf("String() = %q", got)
		}
	})
	t.Run("parsing ignores case and surrounding space", func(t *testing.T) {
		if c, err := ParseClass(" User "); err != nil || c != User {
			t.Errorf("ParseClass = %v, %v", c, err)
		}
	})
	t.Run("an unknown name is an error naming the valid ones", func(t *testing.T) {
		_, err := ParseClass("usr")
		if err == nil || !strings.Contains(err.Error(), "platform, user, ignore") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("classes read and write as names in JSON", func(t *testing.T) {
		b, err := json.Marshal(map[string]Class{"c": Ignore})
		if err != nil || string(b) != `{"c":"ignore"}` {
			t.Fatalf("Marshal = %s, %v", b, err)
		}
		var back map[string]Class
		if err := json.Unmarshal(b, &back); err != nil || back["c"] != Ignore {
			t.Errorf("Unmarshal = %v, %v", back, err)
		}
	})
}

func TestClassUnmarshalYAML(t *testing.T) {
	for _, tc := range []struct {
		name    string
		doc     string
		want    Class
		wantErr string // substring; "" means no error
	}{
		{"a class name decodes", "c: ignore\n", Ignore, ""},
		{"an unknown name names the valid values and the line", "\n\nc: sometimes\n", 0, `line 3: unknown class "sometimes" (valid: platform, user, ignore)`},
		{"a list is not a class", "c: [user]\n", 0, "line 1: class must be one of platform, user, ignore, not a list"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v struct{ C Class }
			err := yaml.Unmarshal([]byte(tc.doc), &v)
			if tc.wantErr == "" {
				if err != nil || v.C != tc.want {
					t.Fatalf("got %v, %v; want %v", v.C, err, tc.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}
