// Package silence decides whether a notification must not be sent: because
// a silence (matchers, a start and an end, an author and a comment, added
// through the config or the API) holds its alert, or because a maintenance
// window (one-off or recurring, per SLO or label matchers) covers it. A
// window with exclude_from_budget also removes its minutes from the error
// budget, as Datadog's SLO corrections do: Set.Excluded names those minutes.
//
// The package is pure logic: it never reads the clock (every method takes
// now), stores nothing and serves nothing. The service persists silences,
// serves the API and asks Set.Decide in its notification pipeline; see
// docs/silences.md.
package silence
