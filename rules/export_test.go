package rules

// What the external tests (package rules_test) reach of the unexported parts.
type (
	Selector       = selector
	PrometheusRule = prometheusRule
)

var HeadingAnchor = headingAnchor

// SelectorOf is the table's exporter selector with its group labels.
func SelectorOf(t *Table) Selector { return t.selector() }
