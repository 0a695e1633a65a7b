package classify

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// Class says whose fault an error is, and so whether it burns the error budget.
// valid = total − user − ignore; bad = platform (DESIGN.md).
type Class uint8

const (
	// Platform is a failure of the platform: it burns the budget. It is the
	// zero value because an unknown failure is the platform's until someone
	// writes a rule that says otherwise.
	Platform Class = iota
	// User is a fault the user caused (a syntax error, a wrong password, their
	// own transactions deadlocking). It is taken out of the valid events and
	// watched by the surge guard instead of burning the budget.
	User
	// Ignore is noise that is not a failure at all (a success, a redirect, a
	// notification): it is taken out of the valid events and not watched.
	Ignore
)

// classNames is indexed by Class; its order is the order of the constants.
var classNames = [...]string{Platform: "platform", User: "user", Ignore: "ignore"}

// validClasses is the list quoted in errors.
const validClasses = "platform, user, ignore"

// String returns "platform", "user" or "ignore".
func (c Class) String() string {
	if c.valid() {
		return classNames[c]
	}
	return fmt.Sprintf("Class(%d)", uint8(c))
}

func (c Class) valid() bool { return int(c) < len(classNames) }

// ParseClass parses a class name; case and surrounding space do not matter.
func ParseClass(s string) (Class, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	for c, n := range classNames {
		if n == name {
			return Class(c), nil
		}
	}
	return Platform, fmt.Errorf("unknown class %q (valid: %s)", s, validClasses)
}

// MarshalText writes the class name, so that classes read well in JSON and YAML.
func (c Class) MarshalText() ([]byte, error) {
	if !c.valid() {
		return nil, fmt.Errorf("unknown class %d (valid: %s)", uint8(c), validClasses)
	}
	return []byte(classNames[c]), nil
}

// UnmarshalText parses a class name (JSON, flags).
func (c *Class) UnmarshalText(b []byte) error {
	v, err := ParseClass(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// UnmarshalYAML reads a class from a YAML scalar. Its error names the line
// and the valid values, in the form yaml.v3 uses for its own type errors, so
// that decoding goes on and reports every bad value at once.
func (c *Class) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return typeErrorf(n, "class must be one of %s, not a %s", validClasses, kindName(n.Kind))
	}
	v, err := ParseClass(n.Value)
	if err != nil {
		return typeErrorf(n, "%v", err)
	}
	*c = v
	return nil
}

// typeErrorf returns a *yaml.TypeError, which yaml.v3 collects (rather than
// stopping at) so that one decode reports every bad field, each with its line.
func typeErrorf(n *yaml.Node, format string, args ...any) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %s", n.Line, fmt.Sprintf(format, args...))}}
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.DocumentNode:
		return "document"
	case yaml.SequenceNode:
		return "list"
	case yaml.MappingNode:
		return "map"
	case yaml.ScalarNode:
		return "scalar"
	case yaml.AliasNode:
		return "alias"
	}
	return "node"
}
