// Package classify decides, for the error code of a series (and optionally its
// other labels), whose failure it is.
//
// # Classes
//
// Every error is one of three classes, and the class decides what it does to
// an error budget (valid = total − user − ignore; bad = platform):
//
//   - Platform: the platform failed (a database down, a leader lost, a disk
//     full). It burns the budget and can page. A code that no rule knows is
//     Platform: an unknown failure is the platform's until someone says
//     otherwise.
//   - User: the user caused it (a syntax error, a wrong password, their own
//     transactions deadlocking). It does not burn the budget, but it is
//     watched: a fleet-wide surge of user faults is the signature of a
//     platform regression.
//   - Ignore: not a failure at all (a success, a redirect, a notification).
//
// # Packs
//
// Built-in rule sets, one YAML file each in packs/, embedded in the binary and
// derived from the vendor's own published list of codes (named in the file's
// source header): neo4j (Neo4j status codes, every published code listed),
// gqlstatus (Neo4j 5+ GQLSTATUS codes by class), sqlstate (PostgreSQL SQLSTATE
// by class), http (status codes), grpc (status code names) and k8s (pod and
// container failure reasons). Codes are classified by what they mean, not by
// their vendor's grouping alone: each code that differs from its family is an
// exact rule with its reason, ahead of the family rule.
//
// # Precedence
//
// New takes the config's own rules first (named config:rules[i]), then the
// enabled packs in the order given (all of Packs by default); the first
// matching rule decides, and Decision.Rule names it ("neo4j:Neo.ClientError.*",
// "config:rules[2]", or "default"). Classification is meant to be done once
// per series and cached by the caller; Classify itself is an index lookup,
// not a scan of the rules.
package classify
