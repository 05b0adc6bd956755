// Package ritual runs the plan's rituals end to end: the report from
// Prometheus's history (package report), its Markdown, JSON and charts
// (package render), written to files or handed to the relay's channels.
// resonancetool and the relay's schedule both run rituals through it.
package ritual

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/quantum-resonance/telemetry/alertmanager/format"
	"github.com/quantum-resonance/telemetry/grafana/dashboards"
	"github.com/quantum-resonance/telemetry/ritual/amstate"
	"github.com/quantum-resonance/telemetry/ritual/query"
	"github.com/quantum-resonance/telemetry/ritual/render"
	"github.com/quantum-resonance/telemetry/ritual/report"
	"github.com/quantum-resonance/telemetry/rules"
)

// Runner runs rituals against one Prometheus.
type Runner struct {
	API   promv1.API
	Table *rules.Table
	// Location, NightStart and NightEnd: see report.Options.
	Location             *time.Location
	NightStart, NightEnd time.Duration
	// Alertmanager, optional, adds silences to the morning review.
	Alertmanager *amstate.Client
}

// Output is one ritual's report in every form it is delivered in.
type Output struct {
	Report *report.Report
	// Markdown links the charts by their file names: it reads next to the
	// PNGs WriteDir writes with it.
	Markdown string
	JSON     []byte
	Charts   []render.PNG
}

// MarkdownAlone is the Markdown without the charts' links, for where it
// goes without its PNGs (stdout).
func (o *Output) MarkdownAlone() string {
	r := *o.Report
	r.Charts = nil
	return render.Markdown(&r)
}

// Run builds the ritual's report for the window that ends at at.
func (r *Runner) Run(ctx context.Context, ritual string, at time.Time) (*Output, error) {
	opts := report.Options{
		Source:     query.New(r.API, r.Table),
		Table:      r.Table,
		At:         at,
		Location:   r.Location,
		NightStart: r.NightStart,
		NightEnd:   r.NightEnd,
	}
	if r.Alertmanager != nil {
		opts.Alertmanager = r.Alertmanager
	}
	if ritual == report.Monthly {
		boards, err := dashboards.Build(r.Table)
		if err != nil {
			return nil, err
		}
		opts.Panels = dashboards.Queries(boards)
	}
	rep, err := report.Build(ctx, ritual, opts)
	if err != nil {
		return nil, err
	}
	charts, err := render.Charts(rep)
	if err != nil {
		return nil, err
	}
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return nil, err
	}
	return &Output{Report: rep, Markdown: render.Markdown(rep), JSON: append(data, '\n'), Charts: charts}, nil
}

// WriteDir writes <ritual>.md, <ritual>.json and the charts into dir,
// creating it if needed, and returns the paths written.
func (o *Output) WriteDir(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	files := map[string][]byte{
		o.Report.Ritual + ".md":   []byte(o.Markdown),
		o.Report.Ritual + ".json": o.JSON,
	}
	for _, c := range o.Charts {
		files[c.Name] = c.Data
	}
	var written []string
	for _, name := range sortedKeys(files) {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, files[name], 0o644); err != nil {
			return written, err
		}
		written = append(written, path)
	}
	return written, nil
}

// ChannelReport is the output as the relay's channels post it.
func (o *Output) ChannelReport() *format.Report {
	rep := &format.Report{
		Ritual:   o.Report.Ritual,
		Title:    fmt.Sprintf("%s — %s", render.Titles[o.Report.Ritual], o.Report.Window.End.Format("Mon 2 Jan 2006 15:04 MST")),
		Markdown: o.Markdown,
		JSON:     o.JSON,
	}
	for _, c := range o.Charts {
		rep.Charts = append(rep.Charts, format.File{Name: c.Name, Title: c.Title, Data: c.Data})
	}
	return rep
}

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
