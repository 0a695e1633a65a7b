// Package playbooks holds the documents that tell on-call what to do about an
// alert: Markdown files with a YAML front matter naming the playbook, its
// owner and the alerts it applies to.
//
// # Format
//
//	---
//	id: database-unavailable            # [a-z0-9-], unique
//	title: A tenant database is failing its queries
//	owner: dbaas-oncall
//	applies_to:
//	  alerts: [burn-rate]               # burn-rate | user-fault-surge | no-data; at least one
//	  slos: [cypher-availability]       # empty: any SLO
//	  severities: [page]                # page | ticket; empty: any
//	  codes: [Neo.DatabaseError.*]      # exact codes, or prefixes ending in *; empty: any
//	---
//	# The steps, in Markdown…
//
// # Sets
//
// A Set is playbooks by id. Default is the set built into the binary
// (defaults/*.md); Load reads a directory's *.md on top of a base set, a
// file of the directory replacing the base's playbook of the same id. Every
// broken file is reported at once, each problem with file, line and field.
//
// An alert links the playbook its SLO's config names for its severity; Match
// finds one when the config names none. Lint checks a set against a config:
// every playbook the config names exists, and every applies_to names alerts,
// SLOs and severities that exist. Handler serves the set as HTML at
// /playbooks/{id}, the address URL builds; a page's link (InstanceURL)
// carries the alert's instance labels as query parameters.
//
// # Placeholders
//
// {{label}} in a body stands for a label of the alert that links it
// (DB={{database}}). Handler fills the placeholders with the request's
// query parameters by text replacement, never by running a template, and
// only with values that are plain names; the others stay as written.
package playbooks
