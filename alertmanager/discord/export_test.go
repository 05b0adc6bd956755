package discord

// For the tests of package discord_test, which (unlike package discord's) may
// import formattest.

import "github.com/prometheus/alertmanager/template"

func (f *Formatter) Embed(data *template.Data, a *template.Alert) (Embed, error) {
	e, _, err := f.embed(data, a)
	return e, err
}
