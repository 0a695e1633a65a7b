// Package deploy holds what runs burnwatch somewhere else than a laptop: the
// container image (Dockerfile), the Kubernetes manifests (kustomize/ and the
// Helm chart in helm/burnwatch), the alerting rules for burnwatch's own
// health (rules/) and its Grafana dashboard (grafana/). docs/deploy.md is the
// guide.
//
// The package has no code of its own: its tests are the check. They render
// the chart with the Helm SDK and build the kustomizations with kustomize's
// API, decode every object strictly into its Kubernetes type (a misspelt
// field fails), check that the objects fit together (selectors, ports,
// volumes, the config and the secrets it names, leader election's RBAC),
// validate the config with the slo package, run promtool over the rules, and
// check that the rules and the dashboard name only metrics burnwatch
// registers. `go test ./deploy -update` regenerates the rules' copies in the
// chart and the kustomize component from rules/burnwatch.rules.yml.
package deploy
