package e2e_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/config"
	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/app"
)

func nodeName(name string) option {
	return func(_ *config.Config, o *app.Options) { o.Node = name }
}

// TestWorkersOfEveryNode: two servers over one database each list the
// workers of both (SPEC §5); a node that stops cleanly leaves the list.
func TestWorkersOfEveryNode(t *testing.T) {
	a := newEnv(t, "", workers(1), nodeName("node-a"))
	b := newEnv(t, a.db, workers(1), nodeName("node-b"))
	ctx := context.Background()

	ids := func(e *env) []string {
		t.Helper()
		page, err := e.svc.Workers().List(ctx, core.ListQuery{})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, w := range page.Items {
			out = append(out, w.ID)
		}
		return out
	}
	both := []string{"node-a-worker-1", "node-b-worker-1"}
	for _, e := range []*env{a, b} {
		if got := ids(e); !slices.Equal(got, both) {
			t.Errorf("%s lists %v, want %v", e.node, got, both)
		}
	}
	st, err := a.svc.Workers().Stats(ctx)
	if err != nil || st.Nodes != 2 || st.Total != 2 {
		t.Errorf("stats on node-a = %+v, %v", st, err)
	}
	if w, err := a.svc.Workers().Get(ctx, "node-b-worker-1"); err != nil || w.Node != "node-b" {
		t.Errorf("node-b's worker from node-a: %+v, %v", w, err)
	}

	b.stop()
	deadline := time.Now().Add(5 * time.Second)
	for got := ids(a); !slices.Equal(got, []string{"node-a-worker-1"}); got = ids(a) {
		if time.Now().After(deadline) {
			t.Fatalf("after node-b stopped, node-a lists %v", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
