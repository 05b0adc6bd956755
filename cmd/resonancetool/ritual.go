package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/client_golang/prometheus"
	commonconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/promslog"

	"github.com/quantum-resonance/telemetry/alertmanager/format"
	"github.com/quantum-resonance/telemetry/alertmanager/relay"
	"github.com/quantum-resonance/telemetry/ritual"
	"github.com/quantum-resonance/telemetry/ritual/amstate"
	"github.com/quantum-resonance/telemetry/ritual/cadence"
	"github.com/quantum-resonance/telemetry/ritual/proposal"
	"github.com/quantum-resonance/telemetry/ritual/report"
	"github.com/quantum-resonance/telemetry/ritual/schedule"
	"github.com/quantum-resonance/telemetry/rules"
)

func init() { register(setupRitual) }

// setupRitual adds "ritual {morning|evening|weekly|monthly}".
func setupRitual(app *kingpin.Application, stdout io.Writer) {
	cmd := app.Command("ritual", "Report one ritual from Prometheus's history: morning review, evening broadcast, weekly threshold audit or monthly review.")
	which := cmd.Arg("ritual", "morning, evening, weekly or monthly.").Required().Enum(report.Rituals...)
	promURL := cmd.Flag("prometheus.url", "Prometheus to read the history from.").Default("http://localhost:9090").String()
	amURL := cmd.Flag("alertmanager.url", "Alertmanager, for the morning review's silences and held-back alerts (optional).").String()
	thresholds := cmd.Flag("thresholds.file", "The thresholds table the rule pack is generated from.").Default(rules.DefaultThresholdsPath).String()
	at := cmd.Flag("at", "The report's end, RFC 3339 (default: now).").String()
	tz := cmd.Flag("timezone", "Time zone of the night and the days, e.g. Europe/Berlin.").Default("UTC").String()
	night := cmd.Flag("night", "The morning review's night, HH:MM-HH:MM in --timezone.").Default("22:00-08:00").String()
	format := cmd.Flag("format", "Output on stdout: markdown or json.").Default("markdown").Enum("markdown", "json")
	outDir := cmd.Flag("out", "Write <ritual>.md, <ritual>.json and the PNG charts into this directory instead of stdout.").String()
	writeProposal := cmd.Flag("write-proposal", "weekly: write the thresholds table with the proposed changes applied to this file, for review (then copy it over the table and run rules generate).").String()
	sendTo := cmd.Flag("send", "Post the report to this relay target (repeatable), with the relay's formatters, limits and retries.").Strings()
	relayConfig := cmd.Flag("relay.config.file", "The relay's configuration, for --send.").Default("relay.yml").String()
	fromRelay := cmd.Flag("from-relay-config", "Take Prometheus (with its http_config), Alertmanager, the thresholds file, the time zone, the night and the timeout from the rituals: section of --relay.config.file instead of the flags: what the relay's schedule runs.").Bool()
	timeout := cmd.Flag("timeout", "Give up after this long.").Default("5m").Duration()

	cmd.Action(func(*kingpin.ParseContext) error {
		var relayCfg *relay.Config
		promClient := http.DefaultClient
		if *fromRelay {
			cfg, section, err := loadRelayRituals(*relayConfig)
			if err != nil {
				return err
			}
			relayCfg = cfg
			*promURL, *amURL, *thresholds, *tz, *night = section.PrometheusURL, section.AlertmanagerURL, section.ThresholdsFile, section.Timezone, section.Night
			*timeout = time.Duration(section.Timeout)
			if promClient, err = commonconfig.NewClientFromConfig(section.HTTPClientConfig, "resonancetool-rituals"); err != nil {
				return fmt.Errorf("rituals.http_config: %w", err)
			}
		}
		end := time.Now()
		if *at != "" {
			t, err := time.Parse(time.RFC3339, *at)
			if err != nil {
				return fmt.Errorf("--at: %w", err)
			}
			end = t
		}
		loc, err := time.LoadLocation(*tz)
		if err != nil {
			return fmt.Errorf("--timezone: %w", err)
		}
		nightStart, nightEnd, err := cadence.ParseNight(*night)
		if err != nil {
			return fmt.Errorf("--night: %w", err)
		}
		if *writeProposal != "" && *which != report.Weekly {
			return errors.New("--write-proposal: only the weekly audit proposes changes")
		}
		table, err := rules.LoadThresholds(*thresholds)
		if err != nil {
			return err
		}
		client, err := api.NewClient(api.Config{Address: *promURL, Client: promClient})
		if err != nil {
			return fmt.Errorf("--prometheus.url: %w", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), *timeout)
		defer cancel()
		runner := &ritual.Runner{API: promv1.NewAPI(client), Table: table, Location: loc, NightStart: nightStart, NightEnd: nightEnd}
		if *amURL != "" {
			if runner.Alertmanager, err = amstate.New(*amURL); err != nil {
				return fmt.Errorf("--alertmanager.url: %w", err)
			}
		}
		out, err := runner.Run(ctx, *which, end)
		if err != nil {
			return err
		}
		if *writeProposal != "" {
			if err := writeProposals(*thresholds, *writeProposal, out.Report); err != nil {
				return err
			}
		}
		if len(*sendTo) > 0 {
			if relayCfg == nil {
				if relayCfg, err = relay.Load(*relayConfig); err != nil {
					return fmt.Errorf("--relay.config.file: %w", err)
				}
			}
			if err := sendReport(ctx, relayCfg, *sendTo, out.ChannelReport()); err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "sent the %s report to %v\n", *which, *sendTo)
		}
		switch {
		case *outDir != "":
			written, err := out.WriteDir(*outDir)
			for _, p := range written {
				fmt.Fprintf(stdout, "wrote %s\n", p)
			}
			return err
		case *format == "json":
			_, err = stdout.Write(out.JSON)
		case len(*sendTo) == 0:
			// The charts are not written: no link to a missing file.
			_, err = io.WriteString(stdout, out.MarkdownAlone())
			if len(out.Charts) > 0 {
				fmt.Fprintf(os.Stderr, "%d chart(s) not written: --out DIR writes them next to the Markdown\n", len(out.Charts))
			}
		}
		return err
	})
}

func writeProposals(tablePath, outPath string, r *report.Report) error {
	data, err := os.ReadFile(tablePath)
	if err != nil {
		return err
	}
	label := "weekly audit " + r.Window.End.Format("2006-01-02")
	proposed, changed, err := proposal.Apply(tablePath, data, r.Proposals, label)
	if err != nil {
		return err
	}
	if err := os.WriteFile(outPath, proposed, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s: %d alert(s) changed %v; review with: diff %s %s\n", outPath, len(changed), changed, tablePath, outPath)
	return nil
}

// loadRelayRituals reads the relay's config and its rituals: section, as
// the relay does.
func loadRelayRituals(file string) (*relay.Config, schedule.Config, error) {
	cfg, err := relay.Load(file)
	if err != nil {
		return nil, schedule.Config{}, fmt.Errorf("--relay.config.file: %w", err)
	}
	section, err := schedule.Decode(cfg.Rituals.Node, cfg.Rituals.Dir, cfg.TargetNames())
	if err != nil {
		return nil, schedule.Config{}, fmt.Errorf("%s: %w", file, err)
	}
	if !section.Enabled() {
		return nil, schedule.Config{}, fmt.Errorf("--from-relay-config: %s schedules no rituals", file)
	}
	return cfg, section, nil
}

// sendReport posts the report to the targets of the relay's config, with the
// relay's own formatters, client and retries. It keeps no message store:
// a report is never edited, and the relay that runs this owns the store.
func sendReport(ctx context.Context, cfg *relay.Config, targets []string, rep *format.Report) error {
	cfg.Delivery.MessagesFile = ""
	logger := promslog.New(&promslog.Config{Writer: os.Stderr})
	rl, err := relay.New(cfg, logger, prometheus.NewRegistry())
	if err != nil {
		return err
	}
	var errs []error
	for _, t := range targets {
		errs = append(errs, rl.SendReport(ctx, t, rep))
	}
	return errors.Join(errs...)
}
