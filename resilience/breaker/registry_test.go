package breaker_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/ratchet-go/ratchet/resilience/breaker"
)

func TestRegistry(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var opened []string
	r, err := breaker.NewRegistry(breaker.Config{
		FailureThreshold: 1,
		OnStateChange: func(name string, _, to breaker.State) {
			mu.Lock()
			defer mu.Unlock()
			opened = append(opened, name+":"+to.String())
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	a := r.Get("a.example.com")
	if a != r.Get("a.example.com") {
		t.Fatal("Get returned a different breaker for the same name")
	}
	b := r.Get("b.example.com")
	if a == b || b.Name() != "b.example.com" {
		t.Fatalf("Get(b) = %q, want a distinct breaker named b.example.com", b.Name())
	}
	_ = a.Execute(t.Context(), fail)

	states := r.States()
	if states["a.example.com"] != breaker.Open || states["b.example.com"] != breaker.Closed || len(states) != 2 {
		t.Errorf("States() = %v, want a open, b closed", states)
	}
	if got := fmt.Sprint(r.Names()); got != "[a.example.com b.example.com]" {
		t.Errorf("Names() = %s", got)
	}
	if got := fmt.Sprint(opened); got != "[a.example.com:open]" {
		t.Errorf("OnStateChange calls = %s, want [a.example.com:open]", got)
	}

	r.Remove("a.example.com")
	if r.Len() != 1 {
		t.Errorf("Len() after Remove = %d, want 1", r.Len())
	}
	if s := r.Get("a.example.com").State(); s != breaker.Closed {
		t.Errorf("breaker recreated after Remove is %s, want closed", s)
	}
}

func TestRegistryConcurrentGet(t *testing.T) {
	t.Parallel()
	r, err := breaker.NewRegistry(breaker.Config{})
	if err != nil {
		t.Fatal(err)
	}
	const goroutines, names = 8, 20
	got := make([][]*breaker.Breaker, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range names {
				got[g] = append(got[g], r.Get(fmt.Sprintf("host-%d", i)))
				_ = r.States()
			}
		})
	}
	wg.Wait()
	if r.Len() != names {
		t.Fatalf("Len() = %d, want %d", r.Len(), names)
	}
	for g := 1; g < goroutines; g++ {
		for i := range names {
			if got[g][i] != got[0][i] {
				t.Errorf("goroutines got different breakers for host-%d", i)
			}
		}
	}
}
