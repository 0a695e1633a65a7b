package slo

import (
	"strconv"
	"strings"
)

// ErrorAt returns a problem with the field of the loaded config, such as
// slos[0].alerting.page.playbook, located at its line as a problem found
// while loading would be: what checks made after loading (that a playbook
// exists, that a receiver's secret file holds a secret) report with.
func (c *Config) ErrorAt(field, msg string) *Error {
	e := &Error{File: c.File, Field: field, Msg: msg}
	if c.doc != nil {
		e.Line = c.doc.line(parseField(field))
		if n := c.doc.node(parseField(field)); n != nil && c.doc.runsOver(n) {
			e.Msg += " (this plain value runs over several lines: is a line below it indented too far?)"
		}
	}
	return e
}

// ErrorsAt returns the problems err lists, one a line, each "field:
// message" with the field relative to field (as a component's Validate or
// Check writes them), as ErrorAt locates them. A nil err is none.
func (c *Config) ErrorsAt(field string, err error) Errors {
	if err == nil {
		return nil
	}
	var es Errors
	for _, line := range strings.Split(err.Error(), "\n") {
		f, msg := splitField(line)
		if f != "" {
			f = strings.TrimPrefix(field+"."+f, ".")
		} else {
			f = field
		}
		es = append(es, c.ErrorAt(f, msg))
	}
	return es
}

// parseField reads a field as path.String writes it: names joined by dots,
// each followed by any number of [index].
func parseField(field string) path {
	var p path
	for _, part := range strings.Split(field, ".") {
		name, rest, _ := strings.Cut(part, "[")
		if name != "" {
			p = append(p, name)
		}
		for rest != "" {
			idx, after, ok := strings.Cut(rest, "]")
			i, err := strconv.Atoi(idx)
			if !ok || err != nil {
				break
			}
			p = append(p, i)
			rest = strings.TrimPrefix(after, "[")
		}
	}
	return p
}
