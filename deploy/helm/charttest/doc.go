// Package charttest holds the Helm chart's test: it renders
// deploy/helm/resonance-telemetry with the pinned helm, decodes every
// document strictly into its Kubernetes or prometheus-operator type and
// checks the objects against the daemons' flags and configs. It lives in
// its own package so that the Kubernetes modules build for this test only.
package charttest
