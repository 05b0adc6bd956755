package slack

// For the tests of package slack_test, which (unlike package slack's) may
// import formattest.

import "github.com/prometheus/alertmanager/template"

func (f *Formatter) Blocks(data *template.Data, a *template.Alert) ([]Block, error) {
	blocks, _, err := f.blocks(data, a)
	return blocks, err
}
