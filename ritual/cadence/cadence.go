// Package cadence names the rituals and holds their shipped schedule and the
// morning review's night: what the relay's scheduler, the local stack and
// the chart need to know about the rituals without linking the code that
// reports them (Prometheus queries, charts, dashboards).
package cadence

// The rituals.
const (
	Morning = "morning"
	Evening = "evening"
	Weekly  = "weekly"
	Monthly = "monthly"
)

// Rituals lists them in the order of the plan's cadence.
var Rituals = []string{Morning, Evening, Weekly, Monthly}

// Shipped is the plan's cadence, the schedule `make stack`, docker-compose
// and the Helm chart's CronJobs run: Morning Resonance at 08:00, Evening
// Broadcast at 20:00, the Weekly Audit on Monday at 09:00, the Monthly Review
// on the 1st at 09:00.
var Shipped = []struct{ Ritual, Cron string }{
	{Morning, "0 8 * * *"},
	{Evening, "0 20 * * *"},
	{Weekly, "0 9 * * 1"},
	{Monthly, "0 9 1 * *"},
}
