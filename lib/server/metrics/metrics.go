// Package metrics holds Ratchet's Prometheus metrics on their own registry
// (never the global one): HTTP requests, fed by the server's middleware,
// and the job, execution, queue, worker and delivery metrics that the
// composition root feeds through the methods and callbacks here. Handler
// serves them at /metrics.
//
// Every method is safe for concurrent use, and a nil *Metrics is a no-op,
// so components can take one optionally.
package metrics

import (
	"context"
	"net/http"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ratchet-go/ratchet/core"
)

// Namespace prefixes every metric name.
const Namespace = "ratchet"

// Delivery outcomes (label "outcome" of ratchet_deliveries_total).
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
)

// CallbackTimeout bounds each callback a scrape calls (queue depth,
// workers).
const CallbackTimeout = 5 * time.Second

// Options configure New.
type Options struct {
	// Version and Commit label ratchet_build_info.
	Version, Commit string
	// NoRuntimeCollectors leaves out the Go runtime and process
	// collectors (go_*, process_*), for tests that count series.
	NoRuntimeCollectors bool
}

// Metrics is Ratchet's set of metrics and the registry that holds them.
type Metrics struct {
	registry *prometheus.Registry

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	jobs         *prometheus.CounterVec
	execDuration *prometheus.HistogramVec
	deliveries   *prometheus.CounterVec

	queueDepth atomic.Pointer[func(context.Context) (int64, error)]
	workers    atomic.Pointer[func(context.Context) ([]core.Worker, error)]
}

// New registers every metric on a new registry.
//
// Metrics:
//
//	ratchet_http_requests_total{method,route,status}          counter
//	ratchet_http_request_duration_seconds{method,route}       histogram
//	ratchet_jobs_total{task,status}                           counter of job outcomes
//	ratchet_execution_duration_seconds{task,status}           histogram
//	ratchet_queue_depth                                       gauge (SetQueueDepthFunc)
//	ratchet_workers{state}                                    gauge (SetWorkersFunc)
//	ratchet_deliveries_total{destination_type,outcome}        counter
//	ratchet_build_info{version,commit,go_version}             gauge, always 1
func New(opts Options) *Metrics {
	m := &Metrics{registry: prometheus.NewRegistry()}
	m.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Subsystem: "http", Name: "requests_total",
		Help: "HTTP requests served, by method, route template and status.",
	}, []string{"method", "route", "status"})
	m.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Subsystem: "http", Name: "request_duration_seconds",
		Help:    "Time to serve an HTTP request, by method and route template.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
	}, []string{"method", "route"})
	m.jobs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "jobs_total",
		Help: "Job outcomes (completed, failed, cancelled, retrying), by task and status.",
	}, []string{"task", "status"})
	m.execDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "execution_duration_seconds",
		Help:    "Duration of task executions, by task and final status.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300},
	}, []string{"task", "status"})
	m.deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "deliveries_total",
		Help: "Output delivery attempts, by destination type and outcome (success, failure).",
	}, []string{"destination_type", "outcome"})
	buildInfo := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "build_info",
		Help: "Always 1; the labels tell the build.",
	}, []string{"version", "commit", "go_version"})
	buildInfo.WithLabelValues(opts.Version, opts.Commit, runtime.Version()).Set(1)

	m.registry.MustRegister(m.httpRequests, m.httpDuration, m.jobs, m.execDuration, m.deliveries, buildInfo,
		&queueCollector{m: m}, &workerCollector{m: m})
	if !opts.NoRuntimeCollectors {
		m.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	return m
}

// Registry is the registry holding the metrics; more collectors may be
// registered on it.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{
		Registry:          m.registry, // promhttp_metric_handler_errors_total
		ErrorHandling:     promhttp.ContinueOnError,
		EnableOpenMetrics: false,
	})
}

// ObserveHTTP records one served request. route is the route template
// (/api/v1/tasks/:id), never the raw path, so the series stay bounded.
func (m *Metrics) ObserveHTTP(method, route string, status int, d time.Duration) {
	if m == nil {
		return
	}
	m.httpRequests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.httpDuration.WithLabelValues(method, route).Observe(d.Seconds())
}

// JobFinished counts one job outcome: a job reaching a final status
// (completed, failed, cancelled) or scheduled for a retry (retrying).
func (m *Metrics) JobFinished(task string, status core.JobStatus) {
	if m == nil {
		return
	}
	m.jobs.WithLabelValues(task, string(status)).Inc()
}

// ObserveExecution records the duration of one finished execution.
func (m *Metrics) ObserveExecution(task string, status core.ExecutionStatus, d time.Duration) {
	if m == nil {
		return
	}
	m.execDuration.WithLabelValues(task, string(status)).Observe(d.Seconds())
}

// DeliveryAttempted counts one delivery attempt of a job's output.
func (m *Metrics) DeliveryAttempted(destinationType string, success bool) {
	if m == nil {
		return
	}
	outcome := OutcomeFailure
	if success {
		outcome = OutcomeSuccess
	}
	m.deliveries.WithLabelValues(destinationType, outcome).Inc()
}

// SetQueueDepthFunc sets the callback a scrape calls for
// ratchet_queue_depth (jobs waiting to run). Until it is set, or when it
// fails, the metric is absent from the scrape.
func (m *Metrics) SetQueueDepthFunc(fn func(ctx context.Context) (int64, error)) {
	if m == nil {
		return
	}
	m.queueDepth.Store(&fn)
}

// SetWorkersFunc sets the callback a scrape calls for ratchet_workers
// (the number of workers in each state; every state is reported, 0
// included). Until it is set, or when it fails, the metric is absent.
func (m *Metrics) SetWorkersFunc(fn func(ctx context.Context) ([]core.Worker, error)) {
	if m == nil {
		return
	}
	m.workers.Store(&fn)
}

var (
	queueDepthDesc = prometheus.NewDesc(Namespace+"_queue_depth", "Jobs waiting to run (queued or retrying).", nil, nil)
	workersDesc    = prometheus.NewDesc(Namespace+"_workers", "Worker processes by state.", []string{"state"}, nil)
)

type queueCollector struct{ m *Metrics }

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- queueDepthDesc }

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	fn := c.m.queueDepth.Load()
	if fn == nil || *fn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), CallbackTimeout)
	defer cancel()
	n, err := (*fn)(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(queueDepthDesc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(queueDepthDesc, prometheus.GaugeValue, float64(n))
}

type workerCollector struct{ m *Metrics }

func (c *workerCollector) Describe(ch chan<- *prometheus.Desc) { ch <- workersDesc }

func (c *workerCollector) Collect(ch chan<- prometheus.Metric) {
	fn := c.m.workers.Load()
	if fn == nil || *fn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), CallbackTimeout)
	defer cancel()
	ws, err := (*fn)(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(workersDesc, err)
		return
	}
	counts := map[core.WorkerStatus]int{}
	for _, w := range ws {
		counts[w.Status]++
	}
	for _, st := range core.WorkerStatuses {
		ch <- prometheus.MustNewConstMetric(workersDesc, prometheus.GaugeValue, float64(counts[st]), string(st))
		delete(counts, st)
	}
	for st, n := range counts { // states core does not know: still counted
		ch <- prometheus.MustNewConstMetric(workersDesc, prometheus.GaugeValue, float64(n), string(st))
	}
}
