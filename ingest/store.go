package ingest

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quantum-resonance/telemetry/buckets"
	"github.com/quantum-resonance/telemetry/ingest/loki"
)

// The histograms' boundaries (package buckets, shared with the rules
// generator, which checks each latency SLO's threshold against them).
var (
	APIDurationBuckets      = buckets.APIDuration
	UpstreamDurationBuckets = buckets.UpstreamDuration
)

// Limits are the Store's settings that a config reload may change.
type Limits struct {
	// Service is the label value of log entries that name no service and
	// come in a batch without a source.
	Service        string
	MaxLabelValues int
	// MaxSeriesPerMetric bounds the label combinations of each event
	// metric: capped labels multiply (endpoint × method × code), so capping
	// each alone is not enough.
	MaxSeriesPerMetric int
	BusinessTTL        time.Duration
}

// Store holds what the app pushed, as metrics. It lives as long as the
// process: a config reload changes its Limits, never its contents.
type Store struct {
	now func() time.Time

	mu       sync.Mutex // guards limits, caps, users, business
	limits   Limits
	service  *labelCap // of log entries and errors
	endpoint *labelCap
	upstream *labelCap
	upOp     *labelCap
	// Label combinations per metric; a combination beyond the cap folds
	// its free-form labels into OtherValue (and code into its class).
	apiSeries, apiDurSeries, upSeries, upDurSeries *labelCap
	users                                          *activeUsers
	business                                       [numBusiness]businessValue
	lastPush                                       time.Time
	unauthorized                                   float64 // see AppFigures

	logEntries     *prometheus.CounterVec
	errors         *prometheus.CounterVec
	apiRequests    *prometheus.CounterVec
	apiDuration    *prometheus.HistogramVec
	upRequests     *prometheus.CounterVec
	upDuration     *prometheus.HistogramVec
	transactions   *prometheus.CounterVec
	overflow       *prometheus.CounterVec
	usersUntracked prometheus.Counter

	// Self-metrics of the ingest API: the handlers' (see handler.go) and
	// the Loki forwarder's, kept here to outlive reloads.
	api  requestMetrics
	loki loki.Metrics
}

type businessKind int

const (
	bizActiveUsers businessKind = iota
	bizMiningBoost
	bizWalletBalance
	bizCommunity
	bizStartedAt
	bizResidentMemory
	bizVersion // text: the version label of resonance_app_info
	numBusiness
)

type businessValue struct {
	v    float64
	text string    // of bizVersion
	at   time.Time // zero: never pushed
}

// fresh reports whether b was pushed less than ttl ago.
func (b businessValue) fresh(now time.Time, ttl time.Duration) bool {
	return !b.at.IsZero() && now.Sub(b.at) < ttl
}

// AppFigures are the app's own reports of figures the exporter also reads
// elsewhere: the wallet's balance and unauthorized transactions (from the
// chain) and the app's process start time and memory (from /proc). Each
// pair forms one family, labelled source="app" here, and the collector that
// reads the other side owns its descriptor; the ingest collector exposes
// these values with it.
type AppFigures struct {
	WalletBalance         Reported
	ProcessStartTime      Reported // Unix time
	ProcessResidentMemory Reported // bytes
	// UnauthorizedTransactions counts transaction events with
	// authorized=false since the exporter started.
	UnauthorizedTransactions float64
}

// Reported is a pushed business value. Fresh is false until it is pushed
// and once it is older than ingest.business_ttl: then it is not exposed.
type Reported struct {
	Value float64
	Fresh bool
}

// AppFigures returns the app's reports of figures the exporter also reads
// elsewhere.
func (s *Store) AppFigures() AppFigures {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	reported := func(k businessKind) Reported {
		b := s.business[k]
		if !b.fresh(now, s.limits.BusinessTTL) {
			return Reported{}
		}
		return Reported{Value: b.v, Fresh: true}
	}
	return AppFigures{
		WalletBalance:            reported(bizWalletBalance),
		ProcessStartTime:         reported(bizStartedAt),
		ProcessResidentMemory:    reported(bizResidentMemory),
		UnauthorizedTransactions: s.unauthorized,
	}
}

var (
	activeUsersDesc = prometheus.NewDesc("resonance_active_users",
		"Distinct users of the app (plan: active_users): the last pushed active_users while fresh, else distinct user values of api_request events in the last 5 minutes.",
		nil, nil)
	businessDescs = [numBusiness]*prometheus.Desc{
		bizActiveUsers: activeUsersDesc,
		bizMiningBoost: prometheus.NewDesc("resonance_mining_boost_active",
			"Whether the mining boost is active (1) or not (0), as last pushed (plan: mining_boost_active).",
			nil, nil),
		bizCommunity: prometheus.NewDesc("resonance_community_resonance_score",
			"Community engagement score 0-100, as last pushed (plan: community_resonance).",
			nil, nil),
		// bizWalletBalance, bizStartedAt, bizResidentMemory: see AppFigures.
		// bizVersion: appInfoDesc, a label rather than a value.
	}
	appInfoDesc = prometheus.NewDesc("resonance_app_info",
		"The app's version as it last reported it (PUT /api/v1/business version); a restart with a new version is a deploy.",
		[]string{"version"}, nil)
	lastUpdateDesc = prometheus.NewDesc("resonance_business_last_update_timestamp_seconds",
		"When business values were last pushed (PUT /api/v1/business), as a Unix time.",
		nil, nil)
	trackedUsersDesc = prometheus.NewDesc("resonance_ingest_active_users_tracked",
		"Users held exactly by the active-user tracker (at most 100000; beyond it resonance_active_users is a HyperLogLog estimate).",
		nil, nil)
)

// NewStore returns an empty store.
func NewStore(limits Limits) *Store {
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	}
	s := &Store{
		now:      time.Now,
		limits:   limits,
		service:  newLabelCap("resonance_log_entries_total", "service"),
		endpoint: newLabelCap("resonance_api_requests_total", "endpoint"),
		upstream: newLabelCap("resonance_upstream_requests_total", "upstream"),
		upOp:     newLabelCap("resonance_upstream_requests_total", "operation"),
		users:    newActiveUsers(maxTrackedUsers),

		apiSeries:    newLabelCap("resonance_api_requests_total", seriesLabel),
		apiDurSeries: newLabelCap("resonance_api_request_duration_seconds", seriesLabel),
		upSeries:     newLabelCap("resonance_upstream_requests_total", seriesLabel),
		upDurSeries:  newLabelCap("resonance_upstream_request_duration_seconds", seriesLabel),

		logEntries: counter("resonance_log_entries_total",
			"Log entries pushed to the ingest API, by service and level.", "service", "level"),
		errors: counter("resonance_errors_total",
			"Log entries at level ERROR or CRITICAL, by service (plan: error_rate is its rate per minute).", "service"),
		apiRequests: counter("resonance_api_requests_total",
			"Requests the app served, from api_request events, by endpoint, method and status code (plan: api_request_count).", "endpoint", "method", "code"),
		apiDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "resonance_api_request_duration_seconds",
			Help:    "Time the app took to serve a request, from api_request events (plan: api_response_time).",
			Buckets: APIDurationBuckets,
		}, []string{"endpoint", "method"}),
		upRequests: counter("resonance_upstream_requests_total",
			"Calls the app made to upstream services (huggingface, pi_sdk, ...), from upstream_call events, by outcome (ok or error).", "upstream", "operation", "outcome"),
		upDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "resonance_upstream_request_duration_seconds",
			Help:    "Duration of the app's calls to upstream services, from upstream_call events (plan: huggingface_latency, pi_sdk_latency).",
			Buckets: UpstreamDurationBuckets,
		}, []string{"upstream", "operation"}),
		transactions: counter("resonance_transactions_total",
			"Pi transactions reported by the app, by status (plan: transactions_completed is status=\"completed\").", "status"),
		overflow: counter("resonance_ingest_label_values_overflow_total",
			"Pushed values folded into \"other\" because the label already had ingest.max_label_values distinct values, or (label=\"series\") the metric already had ingest.max_series_per_metric label combinations; by metric and label.", "metric", "label"),
		usersUntracked: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "resonance_ingest_active_users_untracked_total",
			Help: "User sightings the exact active-user tracker had no room for; resonance_active_users is then a HyperLogLog estimate.",
		}),

		api:  newRequestMetrics(),
		loki: loki.NewMetrics(),
	}
	// Series an alert reads from the start, so that increase() sees the
	// first event.
	for _, st := range txStatuses {
		s.transactions.WithLabelValues(st)
	}
	s.initService(limits.Service)
	return s
}

// initService creates the configured service's log and error series at 0:
// a series born with its first increment is invisible to rate() and
// increase(), so the first error burst after a restart would go unseen.
func (s *Store) initService(service string) {
	if service == "" {
		return
	}
	s.mu.Lock()
	svc, _ := s.service.fold(service, s.limits.MaxLabelValues)
	s.mu.Unlock()
	for _, l := range levelNames {
		s.logEntries.WithLabelValues(svc, l)
	}
	s.errors.WithLabelValues(svc)
}

// SetLimits applies a reloaded config.
func (s *Store) SetLimits(l Limits) {
	s.mu.Lock()
	s.limits = l
	s.mu.Unlock()
	s.initService(l.Service)
}

// Limits returns the settings in force.
func (s *Store) Limits() Limits {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limits
}

type serviceLevel struct {
	service string
	level   Level
}

// AddLogs counts a validated batch. A batch usually comes from one service,
// so entries are tallied locally and each counter is touched once.
func (s *Store) AddLogs(b *LogBatch) {
	var (
		tally [4]struct {
			k serviceLevel
			n int
		}
		used  int
		extra map[serviceLevel]int // more than len(tally) combinations
	)
	for i := range b.Logs {
		e := &b.Logs[i]
		k := serviceLevel{e.Service, e.Level}
		j := 0
		for j < used && tally[j].k != k {
			j++
		}
		switch {
		case j < used:
			tally[j].n++
		case used < len(tally):
			tally[used].k, tally[used].n = k, 1
			used++
		default:
			if extra == nil {
				extra = map[serviceLevel]int{}
			}
			extra[k]++
		}
	}
	for k, n := range extra {
		s.countLogs(k, n, b.Source)
	}
	for _, t := range tally[:used] {
		s.countLogs(t.k, t.n, b.Source)
	}
}

func (s *Store) countLogs(k serviceLevel, n int, source string) {
	svc := k.service
	if svc == "" {
		svc = source
	}
	s.mu.Lock()
	if svc == "" {
		svc = s.limits.Service
	}
	svc, folded := s.service.fold(svc, s.limits.MaxLabelValues)
	s.mu.Unlock()
	if folded {
		s.overflow.WithLabelValues(s.service.metric, s.service.label).Add(float64(n))
	}
	s.logEntries.WithLabelValues(svc, k.level.String()).Add(float64(n))
	if k.level >= LevelError {
		s.errors.WithLabelValues(svc).Add(float64(n))
	}
}

// AddEvents applies a validated batch.
func (s *Store) AddEvents(b *EventBatch) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	maxValues := s.limits.MaxLabelValues
	for i := range b.Events {
		e := &b.Events[i]
		switch e.Type {
		case EventAPIRequest:
			endpoint := s.fold(s.endpoint, e.Endpoint, maxValues)
			reqEndpoint, code := endpoint, strconv.Itoa(e.Code)
			if s.foldSeries(s.apiSeries, reqEndpoint, e.methodNorm, code) {
				// The class keeps code=~"5.." (the API error ratio) true.
				reqEndpoint, code = OtherValue, strconv.Itoa(e.Code/100)+"xx"
			}
			s.apiRequests.WithLabelValues(reqEndpoint, e.methodNorm, code).Inc()
			if s.foldSeries(s.apiDurSeries, endpoint, e.methodNorm) {
				endpoint = OtherValue
			}
			s.apiDuration.WithLabelValues(endpoint, e.methodNorm).Observe(e.durationS)
			if e.User != "" {
				before := s.users.untrack
				s.users.see(e.User, e.Time, now)
				if s.users.untrack != before {
					s.usersUntracked.Inc()
				}
			}
		case EventUpstreamCall:
			upstream := s.fold(s.upstream, e.Upstream, maxValues)
			op := s.fold(s.upOp, e.Operation, maxValues)
			outcome := "ok"
			if !*e.OK {
				outcome = "error"
			}
			if s.foldSeries(s.upSeries, upstream, op, outcome) {
				s.upRequests.WithLabelValues(OtherValue, OtherValue, outcome).Inc()
			} else {
				s.upRequests.WithLabelValues(upstream, op, outcome).Inc()
			}
			if s.foldSeries(s.upDurSeries, upstream, op) {
				upstream, op = OtherValue, OtherValue
			}
			s.upDuration.WithLabelValues(upstream, op).Observe(e.durationS)
		case EventTransaction:
			s.transactions.WithLabelValues(e.TxStatus).Inc()
			if e.Authorized != nil && !*e.Authorized {
				s.unauthorized++
			}
		}
	}
}

// fold must be called with s.mu held.
func (s *Store) fold(c *labelCap, v string, maxValues int) string {
	v, folded := c.fold(v, maxValues)
	if folded {
		s.overflow.WithLabelValues(c.metric, c.label).Inc()
	}
	return v
}

// seriesLabel names the series cap in the overflow counter.
const seriesLabel = "series"

// foldSeries admits the label combination while the metric has room and
// reports whether it must fold instead. Must be called with s.mu held.
func (s *Store) foldSeries(c *labelCap, values ...string) bool {
	_, folded := c.fold(strings.Join(values, "\xff"), s.limits.MaxSeriesPerMetric)
	if folded {
		s.overflow.WithLabelValues(c.metric, c.label).Inc()
	}
	return folded
}

// SetBusiness applies a validated update.
func (s *Store) SetBusiness(u *BusinessUpdate) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	set := func(k businessKind, v float64) { s.business[k] = businessValue{v: v, at: now} }
	if u.ActiveUsers != nil {
		set(bizActiveUsers, *u.ActiveUsers)
	}
	if u.MiningBoostActive != nil {
		v := 0.0
		if *u.MiningBoostActive {
			v = 1
		}
		set(bizMiningBoost, v)
	}
	if u.WalletBalance != nil {
		set(bizWalletBalance, *u.WalletBalance)
	}
	if u.CommunityResonance != nil {
		set(bizCommunity, *u.CommunityResonance)
	}
	if u.StartedAt != nil {
		set(bizStartedAt, float64(u.StartedAt.UnixNano())/1e9)
	}
	if u.ResidentMemoryBytes != nil {
		set(bizResidentMemory, *u.ResidentMemoryBytes)
	}
	if u.Version != nil {
		s.business[bizVersion] = businessValue{v: 1, text: *u.Version, at: now}
	}
	s.lastPush = now
}

// Describe implements prometheus.Collector.
func (s *Store) Describe(ch chan<- *prometheus.Desc) {
	prometheus.DescribeByCollect(s, ch)
}

// Collect implements prometheus.Collector: the app's metrics and the
// ingest API's own, except AppFigures, which belong to other sources'
// families.
func (s *Store) Collect(ch chan<- prometheus.Metric) {
	for _, c := range append([]prometheus.Collector{
		s.logEntries, s.errors, s.apiRequests, s.apiDuration, s.upRequests, s.upDuration,
		s.transactions, s.overflow, s.usersUntracked,
		s.api.requests, s.api.rejected, s.api.accepted,
	}, s.loki.Collectors()...) {
		c.Collect(ch)
	}
	now := s.now()
	s.mu.Lock()
	ttl := s.limits.BusinessTTL
	biz := s.business
	lastPush := s.lastPush
	usersEver := s.users.everSeen
	windowUsers, estimate := s.users.count(now)
	trackedUsers := s.users.tracked()
	s.mu.Unlock()
	if estimate != nil {
		windowUsers = estimate()
	}

	fresh := func(b businessValue) bool { return b.fresh(now, ttl) }
	for k, b := range biz {
		if businessDescs[k] == nil || k == int(bizActiveUsers) {
			continue // see AppFigures
		}
		if fresh(b) {
			ch <- prometheus.MustNewConstMetric(businessDescs[k], prometheus.GaugeValue, b.v)
		}
	}
	// Like the other business values, the version is gone once it is
	// older than the TTL: an app that stopped pushing has no known version.
	if b := biz[bizVersion]; fresh(b) {
		ch <- prometheus.MustNewConstMetric(appInfoDesc, prometheus.GaugeValue, 1, b.text)
	}
	switch {
	case fresh(biz[bizActiveUsers]):
		ch <- prometheus.MustNewConstMetric(activeUsersDesc, prometheus.GaugeValue, biz[bizActiveUsers].v)
	case usersEver:
		ch <- prometheus.MustNewConstMetric(activeUsersDesc, prometheus.GaugeValue, windowUsers)
	}
	if !lastPush.IsZero() {
		ch <- prometheus.MustNewConstMetric(lastUpdateDesc, prometheus.GaugeValue, float64(lastPush.UnixNano())/1e9)
	}
	ch <- prometheus.MustNewConstMetric(trackedUsersDesc, prometheus.GaugeValue, float64(trackedUsers))
}

// foldService maps a service name onto the capped set without counting an
// overflow: the Loki forwarder labels streams with it, and the metrics have
// already counted the entry.
func (s *Store) foldService(svc string) string {
	if svc == "" {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, _ := s.service.fold(svc, s.limits.MaxLabelValues)
	return v
}
