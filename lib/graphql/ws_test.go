package graphql_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/ratchet-go/ratchet/lib/graphql"
)

func graphqlOptions(depth, complexity int, noIntrospection bool) graphql.Options {
	return graphql.Options{MaxDepth: depth, MaxComplexity: complexity, DisableIntrospection: noIntrospection}
}

// wsMessage is one message of the graphql-transport-ws protocol.
type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// wsClient is a minimal graphql-transport-ws client.
type wsClient struct {
	t    testing.TB
	conn *websocket.Conn
}

func dialWS(t testing.TB, e *env) *wsClient {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 5 * time.Second}
	h := http.Header{}
	if e.key != "" {
		h.Set("Authorization", "Bearer "+e.key)
	}
	conn, resp, err := d.Dial("ws"+strings.TrimPrefix(e.http.URL, "http")+"/graphql", h)
	if err != nil {
		t.Fatalf("dialing: %v", err)
	}
	resp.Body.Close()
	if conn.Subprotocol() != "graphql-transport-ws" {
		t.Fatalf("subprotocol %q", conn.Subprotocol())
	}
	c := &wsClient{t: t, conn: conn}
	t.Cleanup(func() { conn.Close() })
	c.send(wsMessage{Type: "connection_init", Payload: json.RawMessage(`{}`)})
	if m := c.read(); m.Type != "connection_ack" {
		t.Fatalf("got %+v, want connection_ack", m)
	}
	return c
}

func (c *wsClient) send(m wsMessage) {
	c.t.Helper()
	if err := c.conn.WriteJSON(m); err != nil {
		c.t.Fatalf("writing %+v: %v", m, err)
	}
}

func (c *wsClient) read() wsMessage {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	var m wsMessage
	if err := c.conn.ReadJSON(&m); err != nil {
		c.t.Fatalf("reading: %v", err)
	}
	return m
}

func (c *wsClient) subscribe(id, query string, vars map[string]any) {
	c.t.Helper()
	p, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	c.send(wsMessage{ID: id, Type: "subscribe", Payload: p})
}

// close ends the connection politely.
func (c *wsClient) close() {
	_ = c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	_ = c.conn.Close()
}

func testSubscription(t *testing.T, e *env) {
	// A job that starts in a moment: the subscription sees it queued, then
	// started and finished.
	at := time.Now().Add(700 * time.Millisecond).UTC().Format(time.RFC3339Nano)
	var c struct{ CreateJob struct{ ID string } }
	e.post(`mutation($at: DateTime) { createJob(input: {taskId: "addition", input: {num1: 20, num2: 22}, processAt: $at}) { id } }`,
		map[string]any{"at": at}).decode(t, &c)

	ws := dialWS(t, e)
	defer ws.close()
	ws.subscribe("1", `subscription($id: ID!) { jobUpdates(jobId: $id) { type at job { id status output } execution { status } } }`,
		map[string]any{"id": c.CreateJob.ID})

	type update struct {
		JobUpdates struct {
			Type string
			Job  *struct {
				ID, Status string
				Output     map[string]float64
			}
		}
	}
	var got []update
	for {
		m := ws.read()
		if m.ID != "1" {
			t.Fatalf("message for %q: %+v", m.ID, m)
		}
		if m.Type == "complete" {
			break
		}
		if m.Type != "next" {
			t.Fatalf("got %s: %s", m.Type, m.Payload)
		}
		var p struct {
			Data   update
			Errors []gqlError
		}
		if err := json.Unmarshal(m.Payload, &p); err != nil || len(p.Errors) > 0 {
			t.Fatalf("next payload %s: %v", m.Payload, err)
		}
		got = append(got, p.Data)
	}
	if len(got) < 2 {
		t.Fatalf("got %d updates, want the queued job and more: %+v", len(got), got)
	}
	first, last := got[0].JobUpdates, got[len(got)-1].JobUpdates
	if first.Job == nil || first.Job.Status != "QUEUED" {
		t.Fatalf("first update %+v, want the job queued", first)
	}
	if last.Type != "job.completed" || last.Job == nil || last.Job.Status != "COMPLETED" || last.Job.Output["sum"] != 42 {
		t.Fatalf("last update %+v, want the job completed with sum 42", last)
	}

	// An unknown job: the error is presented like any other.
	ws.subscribe("2", `subscription { jobUpdates(jobId: "424242") { type } }`, nil)
	m := ws.read()
	var p struct{ Errors []gqlError }
	_ = json.Unmarshal(m.Payload, &p)
	if m.Type != "next" || len(p.Errors) != 1 || p.Errors[0].Extensions["code"] != "NOT_FOUND" {
		t.Fatalf("unknown job: %+v %s", m, m.Payload)
	}
	if m := ws.read(); m.Type != "complete" || m.ID != "2" {
		t.Fatalf("got %+v, want complete", m)
	}

	// executionUpdates sees a synchronous execution of the task; complete
	// from the client ends it.
	ws.subscribe("3", `subscription { executionUpdates(taskId: "addition") { type execution { status output } } }`, nil)
	time.Sleep(100 * time.Millisecond) // let the subscription reach the bus
	e.post(`mutation { executeTask(taskId: "addition", input: {num1: 1, num2: 1}) { execution { id } } }`, nil).decode(t, &struct{}{})
	m = ws.read()
	if m.Type != "next" || !strings.Contains(string(m.Payload), "execution.finished") || !strings.Contains(string(m.Payload), `"sum":2`) {
		t.Fatalf("executionUpdates: %+v %s", m, m.Payload)
	}
	ws.send(wsMessage{ID: "3", Type: "complete"})
}
