package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/resilience/breaker"
	"github.com/ratchet-go/ratchet/resilience/retry"
)

// ResultStore stores delivery records. SaveDeliveryResult is called once
// per attempt (and once for a destination that could not be attempted), and
// may set r.ID.
type ResultStore interface {
	SaveDeliveryResult(ctx context.Context, r *core.DeliveryResult) error
}

// ResultStoreFunc adapts a function to a ResultStore.
type ResultStoreFunc func(ctx context.Context, r *core.DeliveryResult) error

// SaveDeliveryResult calls f.
func (f ResultStoreFunc) SaveDeliveryResult(ctx context.Context, r *core.DeliveryResult) error {
	return f(ctx, r)
}

// DiscardResults is a ResultStore that keeps nothing, for callers with no
// database (run-once).
var DiscardResults ResultStore = ResultStoreFunc(func(context.Context, *core.DeliveryResult) error { return nil })

// Defaults of Config.
const (
	DefaultMaxConcurrent = 10
	DefaultTimeout       = 30 * time.Second
)

// saveTimeout bounds storing one record, which happens even when the
// delivery's context has ended.
const saveTimeout = 10 * time.Second

// Config configures a Deliverer. Zero fields take the defaults named below.
type Config struct {
	// MaxConcurrent bounds the attempts in flight across all deliveries
	// (output.max_concurrent_deliveries). Default DefaultMaxConcurrent.
	MaxConcurrent int
	// DefaultTimeout bounds each webhook attempt whose destination gives no
	// timeout. Default DefaultTimeout.
	DefaultTimeout time.Duration
	// DefaultRetry is the retry policy of filesystem destinations and of
	// webhooks without their own; a webhook's retry_policy overrides the
	// fields it sets. The zero Policy means retry.DefaultPolicy(); set
	// MaxAttempts to 1 for no retries. Its Classifier is replaced: 4xx
	// answers other than 408 and 429, invalid destinations and an open
	// circuit breaker are not retried.
	DefaultRetry retry.Policy
	// GlobalDestinations receive every delivered output, after the job's
	// own (output.global_destinations). They are trusted configuration:
	// FilesystemRoots does not apply to them.
	GlobalDestinations []core.OutputDestination
	// FilesystemRoots, when not empty, are the only directories that a
	// job's own filesystem destinations (which come from API requests) may
	// write under; symbolic links are resolved. Empty allows any path the
	// server can write to.
	FilesystemRoots []string
	// HTTPClient sends webhooks. Default: a client of its own that does not
	// follow redirects (a 3xx answer fails the delivery) and has no overall
	// timeout (each attempt has its own).
	HTTPClient *http.Client
	// Breakers holds one circuit breaker per destination. Default: a new
	// registry with Breaker's settings.
	Breakers *breaker.Registry
	// Breaker configures the default Breakers. Its IsFailure defaults to
	// failures a retry could fix (network errors, timeouts, 408, 429, 5xx):
	// a 400 says nothing about the destination's health.
	Breaker breaker.Config
	// Logger receives a line per delivery. Default: discard.
	Logger *slog.Logger
	// Now returns the current time. Default time.Now.
	Now func() time.Time
}

// Deliverer delivers job outputs to destinations. It is safe for concurrent
// use; Deliver calls share the concurrency bound and the breakers.
type Deliverer struct {
	store    ResultStore
	cfg      Config
	client   *http.Client
	ownHTTP  *http.Transport // closed by Close when the client is ours
	sem      chan struct{}
	breakers *breaker.Registry
	log      *slog.Logger
}

// New returns a Deliverer that records every attempt in store. Use
// DiscardResults to keep no record.
func New(store ResultStore, cfg Config) (*Deliverer, error) {
	if store == nil {
		return nil, errors.New("delivery.New: nil ResultStore: pass the storage's delivery repository, or delivery.DiscardResults to keep no record")
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	d := &Deliverer{store: store, cfg: cfg, client: cfg.HTTPClient, breakers: cfg.Breakers, log: cfg.Logger}
	if d.cfg.MaxConcurrent == 0 {
		d.cfg.MaxConcurrent = DefaultMaxConcurrent
	}
	if d.cfg.DefaultTimeout == 0 {
		d.cfg.DefaultTimeout = DefaultTimeout
	}
	if isZeroPolicy(d.cfg.DefaultRetry) {
		d.cfg.DefaultRetry = retry.DefaultPolicy()
	}
	if d.cfg.Now == nil {
		d.cfg.Now = time.Now
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	if d.client == nil {
		d.ownHTTP = http.DefaultTransport.(*http.Transport).Clone()
		d.client = &http.Client{
			Transport:     d.ownHTTP,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if d.breakers == nil {
		bc := cfg.Breaker
		if bc.IsFailure == nil {
			bc.IsFailure = countsAgainstDestination
		}
		reg, err := breaker.NewRegistry(bc)
		if err != nil {
			return nil, fmt.Errorf("delivery.New: %w", err)
		}
		d.breakers = reg
	}
	d.sem = make(chan struct{}, d.cfg.MaxConcurrent)
	return d, nil
}

func (c Config) validate() error {
	var errs []error
	if c.MaxConcurrent < 0 {
		errs = append(errs, fmt.Errorf("MaxConcurrent must not be negative, got %d", c.MaxConcurrent))
	}
	if c.DefaultTimeout < 0 {
		errs = append(errs, fmt.Errorf("DefaultTimeout must not be negative, got %s", c.DefaultTimeout))
	}
	if !isZeroPolicy(c.DefaultRetry) {
		if err := c.DefaultRetry.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("DefaultRetry: %w", err))
		}
	}
	for i, g := range c.GlobalDestinations {
		if _, err := parseDestination(g, fmt.Sprintf("global_destinations[%d].", i)); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("delivery.New: invalid config: %w", err)
	}
	return nil
}

func isZeroPolicy(p retry.Policy) bool {
	return p.MaxAttempts == 0 && p.InitialDelay == 0 && p.MaxDelay == 0 && p.Multiplier == 0 && p.Jitter == 0
}

// Breakers returns the per-destination circuit breakers, for health and
// debug endpoints.
func (d *Deliverer) Breakers() *breaker.Registry { return d.breakers }

// Close releases idle HTTP connections of the Deliverer's own client. It
// does not wait for Deliver calls in flight.
func (d *Deliverer) Close() {
	if d.ownHTTP != nil {
		d.ownHTTP.CloseIdleConnections()
	}
}

// Deliver sends the output of exec (or, when exec has none, of job) to dests
// and then to Config.GlobalDestinations, all at once, and returns one result
// per destination in that order when all are done. job and exec may each be
// nil (a run outside a job); taskName, when not empty, names the task in
// templates and envelopes.
//
// Each destination is tried with its retry policy behind its circuit
// breaker; each attempt waits for one of Config.MaxConcurrent slots and is
// stored through the ResultStore as its own record (Attempts is the attempt
// number, DurationMS that attempt's duration), so every attempt is visible.
// The returned result sums up the delivery: total attempts, the last status
// code and error, the total duration including backoff, and the ID of the
// last record. A destination that is invalid or cannot be rendered is
// reported with 0 attempts. When ctx ends, pending retries are abandoned and
// reported as failures.
func (d *Deliverer) Deliver(ctx context.Context, job *core.Job, exec *core.Execution, taskName string, dests []core.OutputDestination) []core.DeliveryResult {
	type item struct {
		dest   core.OutputDestination
		global bool
	}
	items := make([]item, 0, len(dests)+len(d.cfg.GlobalDestinations))
	for _, dst := range dests {
		items = append(items, item{dst, false})
	}
	for _, dst := range d.cfg.GlobalDestinations {
		items = append(items, item{dst, true})
	}
	if len(items) == 0 {
		return nil
	}
	now := d.cfg.Now()
	req := &request{
		job:      job,
		exec:     exec,
		taskName: taskName,
		vars:     NewVars(job, exec, taskName, now),
		started:  now,
	}
	switch {
	case exec != nil && len(exec.Output) > 0:
		req.output = exec.Output
	case job != nil:
		req.output = job.Output
	}
	if job != nil {
		req.jobID = job.ID
	}
	if exec != nil {
		req.execID = exec.ID
	}

	results := make([]core.DeliveryResult, len(items))
	var wg sync.WaitGroup
	for i, it := range items {
		wg.Go(func() { results[i] = d.deliverOne(ctx, req, it.dest, it.global) })
	}
	wg.Wait()
	return results
}

// request is what every destination of one Deliver call shares.
type request struct {
	job      *core.Job
	exec     *core.Execution
	taskName string
	vars     Vars
	output   json.RawMessage
	jobID    int64
	execID   int64
	started  time.Time
}

// attemptFunc makes one attempt; it returns the status code (0 for none), a
// Retry-After hint and the error.
type attemptFunc func(ctx context.Context, attempt int) (int, time.Duration, error)

// prepared is a destination ready to attempt.
type prepared struct {
	display    string
	breakerKey string
	policy     retry.Policy
	attempt    attemptFunc
}

func (d *Deliverer) deliverOne(ctx context.Context, req *request, dest core.OutputDestination, global bool) core.DeliveryResult {
	res := core.DeliveryResult{
		JobID:           req.jobID,
		ExecutionID:     req.execID,
		DestinationType: normalizedType(dest.Type),
		CreatedAt:       req.started,
	}
	p, err := d.prepare(req, dest, global)
	if err != nil {
		res.Destination = p.display
		res.ErrorMessage = err.Error()
		d.save(ctx, &res)
		d.logResult(ctx, &res)
		return res
	}
	res.Destination = p.display

	var lastID int64
	for attempt := 1; ; attempt++ {
		if ctx.Err() != nil {
			res.ErrorMessage = "delivery abandoned: " + context.Cause(ctx).Error()
			break
		}
		start := d.cfg.Now()
		code, hint, err := d.try(ctx, p, attempt)
		rec := res
		rec.Attempts = attempt
		rec.Success = err == nil
		rec.StatusCode = nil
		if code != 0 {
			c := code
			rec.StatusCode = &c
		}
		rec.ErrorMessage = ""
		if err != nil {
			rec.ErrorMessage = err.Error()
		}
		rec.DurationMS = d.cfg.Now().Sub(start).Milliseconds()
		rec.CreatedAt = start
		d.save(ctx, &rec)
		lastID = rec.ID
		res.Attempts, res.Success, res.StatusCode, res.ErrorMessage = rec.Attempts, rec.Success, rec.StatusCode, rec.ErrorMessage

		if err == nil || !p.policy.ShouldRetry(attempt, err) {
			break
		}
		delay := p.policy.Delay(attempt)
		if hint > delay {
			delay = min(hint, maxDelayOf(p.policy))
		}
		d.log.DebugContext(ctx, "output delivery attempt failed, retrying",
			slog.Int64("job_id", req.jobID), slog.String("destination", p.display),
			slog.Int("attempt", attempt), slog.Duration("delay", delay), slog.String("error", rec.ErrorMessage))
		if !sleep(ctx, delay) {
			res.ErrorMessage = fmt.Sprintf("delivery abandoned after attempt %d (%s): %v", attempt, rec.ErrorMessage, context.Cause(ctx))
			break
		}
	}
	if res.Attempts == 0 { // ended before the first attempt: say why
		d.save(ctx, &res)
		lastID = res.ID
	}
	res.ID = lastID
	res.DurationMS = d.cfg.Now().Sub(req.started).Milliseconds()
	d.logResult(ctx, &res)
	return res
}

// try makes one attempt in a concurrency slot, behind the breaker.
func (d *Deliverer) try(ctx context.Context, p prepared, attempt int) (int, time.Duration, error) {
	select {
	case d.sem <- struct{}{}:
	case <-ctx.Done():
		return 0, 0, fmt.Errorf("waiting for a delivery slot: %w", context.Cause(ctx))
	}
	defer func() { <-d.sem }()
	done, err := d.breakers.Get(p.breakerKey).Allow()
	if err != nil {
		return 0, 0, err
	}
	code, hint, err := p.attempt(ctx, attempt)
	done(!d.breakerFailure(err))
	return code, hint, err
}

// breakerFailure applies the registry's IsFailure when the registry is ours;
// a caller-provided registry was built with its own.
func (d *Deliverer) breakerFailure(err error) bool {
	if d.cfg.Breakers != nil {
		return breaker.DefaultIsFailure(err)
	}
	f := d.cfg.Breaker.IsFailure
	if f == nil {
		f = countsAgainstDestination
	}
	return f(err)
}

// countsAgainstDestination: errors a retry could fix say the destination is
// unwell; a 400 or an invalid path does not.
func countsAgainstDestination(err error) bool {
	return breaker.DefaultIsFailure(err) && retry.DefaultClassifier(err)
}

// prepare parses and renders dest. On error, display may still be set.
func (d *Deliverer) prepare(req *request, dest core.OutputDestination, global bool) (prepared, error) {
	parsed, err := ParseDestination(dest)
	if err != nil {
		return prepared{}, err
	}
	switch {
	case parsed.Filesystem != nil:
		f := parsed.Filesystem
		var roots []string
		if !global {
			roots = d.cfg.FilesystemRoots
		}
		path, err := resolvePath(RenderPath(f.Path, req.vars), roots)
		if err != nil {
			return prepared{display: RenderPath(f.Path, req.vars)}, err
		}
		content, err := EncodeOutput(req.output, f.Format)
		if err != nil {
			return prepared{display: path}, fmt.Errorf("encoding the output as %s: %w", f.Format, err)
		}
		p := prepared{display: path, breakerKey: "filesystem:" + f.Path, policy: d.policy(nil)}
		p.attempt = func(context.Context, int) (int, time.Duration, error) {
			written, err := writeFile(path, content, f)
			if err == nil && written != path {
				d.log.Debug("output file existed: wrote a suffixed name", slog.String("path", path), slog.String("written", written))
			}
			return 0, 0, err
		}
		return p, nil
	case parsed.Webhook != nil:
		w := parsed.Webhook
		target := RenderURL(w.URL, req.vars)
		display := RedactURL(target)
		if u, err := url.Parse(target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return prepared{display: display}, fmt.Errorf("the rendered URL %s is not an http(s) URL", display)
		}
		id := newDeliveryID()
		body, err := json.Marshal(NewEnvelope(id, req.job, req.exec, req.taskName, req.output, req.started))
		if err != nil {
			return prepared{display: display}, fmt.Errorf("encoding the envelope: %w", err)
		}
		call := &webhookCall{hook: w, url: target, display: display, body: body, deliveryID: id, timeout: w.Timeout}
		if call.timeout == 0 {
			call.timeout = d.cfg.DefaultTimeout
		}
		p := prepared{
			display:    display,
			breakerKey: "webhook:" + w.Method + " " + redactText(w.URL),
			policy:     d.policy(w.Retry),
		}
		p.attempt = func(ctx context.Context, attempt int) (int, time.Duration, error) {
			return call.send(ctx, d.client, attempt)
		}
		return p, nil
	}
	return prepared{}, errors.New("destination has no settings")
}

// policy is DefaultRetry with the destination's overrides and Ratchet's
// classifier.
func (d *Deliverer) policy(o *RetryPolicy) retry.Policy {
	p := d.cfg.DefaultRetry
	if o != nil {
		if o.MaxAttempts != 0 {
			p.MaxAttempts = o.MaxAttempts
		}
		if o.InitialDelay != 0 {
			p.InitialDelay = o.InitialDelay
		}
		if o.MaxDelay != 0 {
			p.MaxDelay = o.MaxDelay
		}
		if o.BackoffMultiplier != 0 {
			p.Multiplier = o.BackoffMultiplier
		}
		if p.MaxDelay > 0 && p.InitialDelay > p.MaxDelay {
			p.MaxDelay = p.InitialDelay
		}
	}
	p.Classifier = retryable
	return p
}

// retryable: an open breaker is not retried within this delivery (it would
// only burn attempts during the cool-down); otherwise errors decide through
// Retryable() (StatusError, core errors, retry.Permanent).
func retryable(err error) bool {
	if errors.Is(err, breaker.ErrOpen) {
		return false
	}
	return retry.DefaultClassifier(err)
}

func maxDelayOf(p retry.Policy) time.Duration {
	if p.MaxDelay > 0 {
		return p.MaxDelay
	}
	return MaxDelay
}

func (d *Deliverer) save(ctx context.Context, r *core.DeliveryResult) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), saveTimeout)
	defer cancel()
	if err := d.store.SaveDeliveryResult(sctx, r); err != nil {
		d.log.ErrorContext(ctx, "storing a delivery result failed",
			slog.Int64("job_id", r.JobID), slog.String("destination", r.Destination), slog.String("error", err.Error()))
	}
}

func (d *Deliverer) logResult(ctx context.Context, r *core.DeliveryResult) {
	attrs := []slog.Attr{
		slog.Int64("job_id", r.JobID), slog.Int64("execution_id", r.ExecutionID),
		slog.String("destination_type", r.DestinationType), slog.String("destination", r.Destination),
		slog.Int("attempts", r.Attempts), slog.Int64("duration_ms", r.DurationMS),
	}
	if r.StatusCode != nil {
		attrs = append(attrs, slog.Int("status_code", *r.StatusCode))
	}
	if r.Success {
		d.log.LogAttrs(ctx, slog.LevelDebug, "output delivered", attrs...)
		return
	}
	attrs = append(attrs, slog.String("error", r.ErrorMessage))
	d.log.LogAttrs(ctx, slog.LevelWarn, "output delivery failed", attrs...)
}

func normalizedType(t string) string {
	n := strings.ToLower(strings.TrimSpace(t))
	if n == core.DestinationFilesystem || n == core.DestinationWebhook {
		return n
	}
	return t
}

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func permanent(err error) error { return retry.Permanent(err) }
