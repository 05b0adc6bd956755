package rules

// What the external tests (package rules_test) reach of the unexported parts.
type (
	Selector       = selector
	PrometheusRule = prometheusRule
)

var HeadingAnchor = headingAnchor
