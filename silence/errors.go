package silence

import "strings"

// FieldError is one problem in a Silence or a Window. Field is the YAML and
// JSON key (matchers[1].value for a matcher's), so that the config loader can
// point at its line and the API can name it in a 400 (as
// {"field": …, "message": …}).
type FieldError struct {
	Field string `json:"field"`
	Msg   string `json:"message"`
}

func (e FieldError) Error() string { return e.Field + ": " + e.Msg }

// FieldErrors is every problem found at once, in field order. Add and NewSet
// return it as their error; errors.As recovers it.
type FieldErrors []FieldError

func (es FieldErrors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "; ")
}

// prefixed returns es with prefix put before each field.
func prefixed(prefix string, es []FieldError) []FieldError {
	out := make([]FieldError, len(es))
	for i, e := range es {
		out[i] = FieldError{prefix + e.Field, e.Msg}
	}
	return out
}
