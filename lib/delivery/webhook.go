package delivery

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/ratchet-go/ratchet/core"
)

// Headers set on every webhook request (besides Content-Type, User-Agent
// and the configured ones).
const (
	// HeaderDelivery carries the delivery's id, the same on every attempt, so
	// that receivers can drop duplicates.
	HeaderDelivery = "X-Ratchet-Delivery"
	// HeaderAttempt carries the attempt number, from 1.
	HeaderAttempt = "X-Ratchet-Attempt"
	// UserAgent is the default User-Agent.
	UserAgent = "Ratchet-Webhook/1"
)

// Envelope is the JSON body of every webhook request. The body is built once
// per delivery, so every attempt sends the same bytes and the same
// signature.
//
//	{
//	  "delivery_id": "0b6e…",            same on every attempt (also in X-Ratchet-Delivery)
//	  "job_id": 42,                       null without a job
//	  "job_uuid": "…",
//	  "execution_id": 7,
//	  "execution_uuid": "…",
//	  "task_id": 3,
//	  "task_name": "weather",
//	  "task_version": "1.0.0",
//	  "status": "completed",              the execution's status
//	  "attempt": 1,                       the execution's attempt of the job
//	  "output": {…},                      the task's output, null when none
//	  "error": null,                      or {"type": "NetworkError", "message": "…"}
//	  "started_at": "2026-01-02T03:04:05Z",
//	  "completed_at": "2026-01-02T03:04:06Z",
//	  "duration_ms": 1000,
//	  "sent_at": "2026-01-02T03:04:06Z"   when the delivery began
//	}
type Envelope struct {
	DeliveryID    string          `json:"delivery_id"`
	JobID         *int64          `json:"job_id"`
	JobUUID       string          `json:"job_uuid,omitempty"`
	ExecutionID   *int64          `json:"execution_id"`
	ExecutionUUID string          `json:"execution_uuid,omitempty"`
	TaskID        int64           `json:"task_id"`
	TaskName      string          `json:"task_name"`
	TaskVersion   string          `json:"task_version,omitempty"`
	Status        string          `json:"status"`
	Attempt       int             `json:"attempt,omitempty"`
	Output        json.RawMessage `json:"output"`
	Error         *EnvelopeError  `json:"error"`
	StartedAt     *time.Time      `json:"started_at,omitempty"`
	CompletedAt   *time.Time      `json:"completed_at"`
	DurationMS    *int64          `json:"duration_ms,omitempty"`
	SentAt        time.Time       `json:"sent_at"`
}

// EnvelopeError is the error of a failed execution.
type EnvelopeError struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// NewEnvelope builds the envelope for job and exec (either may be nil).
func NewEnvelope(deliveryID string, job *core.Job, exec *core.Execution, taskName string, output []byte, sentAt time.Time) Envelope {
	env := Envelope{DeliveryID: deliveryID, TaskName: taskName, SentAt: sentAt.UTC()}
	var errType, errMsg string
	if job != nil {
		id := job.ID
		env.JobID = &id
		env.JobUUID = job.UUID
		env.TaskID = job.TaskID
		env.Status = string(job.Status)
		env.CompletedAt = utcPtr(job.CompletedAt)
		env.StartedAt = utcPtr(job.StartedAt)
		if env.TaskName == "" {
			env.TaskName = job.TaskName
		}
		errType, errMsg = job.ErrorType, job.ErrorMessage
	}
	if exec != nil {
		id := exec.ID
		env.ExecutionID = &id
		env.ExecutionUUID = exec.UUID
		if exec.TaskID != 0 {
			env.TaskID = exec.TaskID
		}
		if taskName == "" && exec.TaskName != "" {
			env.TaskName = exec.TaskName
		}
		env.TaskVersion = exec.TaskVersion
		if exec.Status != "" {
			env.Status = string(exec.Status)
		}
		env.Attempt = exec.Attempt
		if exec.StartedAt != nil {
			env.StartedAt = utcPtr(exec.StartedAt)
		}
		if exec.CompletedAt != nil {
			env.CompletedAt = utcPtr(exec.CompletedAt)
		}
		env.DurationMS = exec.DurationMS
		if exec.ErrorType != "" || exec.ErrorMessage != "" {
			errType, errMsg = exec.ErrorType, exec.ErrorMessage
		}
	}
	if errType != "" || errMsg != "" {
		env.Error = &EnvelopeError{Type: errType, Message: errMsg}
	}
	switch trimmed := bytes.TrimSpace(output); {
	case len(trimmed) == 0:
		env.Output = json.RawMessage("null")
	case json.Valid(trimmed):
		env.Output = json.RawMessage(trimmed)
	default:
		s, _ := json.Marshal(string(trimmed))
		env.Output = s
	}
	return env
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// Sign returns the signature header value for body: "sha256=" and the hex
// HMAC-SHA256 of body keyed by secret.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// VerifySignature reports whether header is Sign(secret, body), in constant
// time. Receivers written in Go can use it.
func VerifySignature(secret string, body []byte, header string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(strings.TrimSpace(header)))
}

// StatusError is a webhook answer outside 2xx.
type StatusError struct {
	StatusCode int
	Status     string
	// Body is the start of the response body, for the error message.
	Body string
}

func (e *StatusError) Error() string {
	msg := "webhook answered " + e.Status
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// Retryable reports whether the status may change on a retry: 408, 429 and
// 5xx. Other statuses (4xx, and 3xx since redirects are not followed) are
// final.
func (e *StatusError) Retryable() bool {
	return e.StatusCode == http.StatusRequestTimeout || e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
}

// errAttemptTimeout is the cause of an attempt's context when its timeout
// passed.
var errAttemptTimeout = errors.New("webhook attempt timed out")

// webhookCall is one webhook delivery, rendered and ready to send.
type webhookCall struct {
	hook       *Webhook
	url        string // rendered
	display    string // redacted, for results and logs
	body       []byte
	deliveryID string
	timeout    time.Duration
}

// send makes one attempt. It returns the status code (0 when there was no
// answer), a Retry-After hint, and the error.
func (c *webhookCall) send(ctx context.Context, client *http.Client, attempt int) (int, time.Duration, error) {
	actx, cancel := context.WithTimeoutCause(ctx, c.timeout, errAttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, c.hook.Method, c.url, bytes.NewReader(c.body))
	if err != nil {
		return 0, 0, permanent(fmt.Errorf("building the request for %s: %v", c.display, sanitizeURLError(err)))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	for k, v := range c.hook.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set(HeaderDelivery, c.deliveryID)
	req.Header.Set(HeaderAttempt, strconv.Itoa(attempt))
	if a := c.hook.Auth; a != nil {
		switch a.Type {
		case AuthBearer:
			req.Header.Set("Authorization", "Bearer "+a.Token)
		case AuthBasic:
			req.SetBasicAuth(a.Username, a.Password)
		case AuthAPIKey:
			req.Header.Set(a.Header, a.Key)
		}
	}
	if s := c.hook.Signature; s != nil {
		req.Header.Set(s.Header, Sign(s.Secret, c.body))
	}

	resp, err := client.Do(req)
	if err != nil {
		switch {
		case ctx.Err() != nil:
			return 0, 0, fmt.Errorf("%s %s: delivery cancelled: %w", c.hook.Method, c.display, context.Cause(ctx))
		case errors.Is(context.Cause(actx), errAttemptTimeout):
			return 0, 0, fmt.Errorf("%s %s: no answer within %s: %w", c.hook.Method, c.display, c.timeout, core.ErrTimeout)
		}
		return 0, 0, fmt.Errorf("%s %s: %v", c.hook.Method, c.display, sanitizeURLError(err))
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // lets the connection be reused
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp.StatusCode, 0, nil
	}
	serr := &StatusError{StatusCode: resp.StatusCode, Status: resp.Status, Body: snippet(head)}
	if serr.Status == "" {
		serr.Status = strconv.Itoa(resp.StatusCode)
	}
	return resp.StatusCode, retryAfter(resp.Header.Get("Retry-After"), time.Now()), serr
}

// sanitizeURLError drops the URL from net/http's errors: it may carry
// secrets in its query or user info.
func sanitizeURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// snippet makes the start of a response body printable and short.
func snippet(b []byte) string {
	s := strings.Map(func(r rune) rune {
		if r == unicode.ReplacementChar || !unicode.IsPrint(r) {
			return ' '
		}
		return r
	}, string(b))
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// retryAfter parses a Retry-After header: seconds or an HTTP date.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if n, err := strconv.Atoi(h); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// RedactURL is u without user info, query and fragment: what results and
// logs show of a webhook URL. Secrets belong in headers or auth, not in the
// URL path, which is shown.
func RedactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return redactText(u)
	}
	p.User, p.RawQuery, p.Fragment, p.ForceQuery = nil, "", "", false
	return p.String()
}

// redactText is RedactURL on text that need not parse (a URL template): it
// cuts the query and fragment and removes user info, leaving the rest as
// written.
func redactText(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	if i := strings.Index(u, "://"); i >= 0 {
		hostEnd := len(u)
		if j := strings.IndexByte(u[i+3:], '/'); j >= 0 {
			hostEnd = i + 3 + j
		}
		if j := strings.LastIndex(u[i+3:hostEnd], "@"); j >= 0 {
			u = u[:i+3] + u[i+3+j+1:]
		}
	}
	return u
}

// newDeliveryID returns a random UUID (version 4).
func newDeliveryID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
