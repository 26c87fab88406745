package breaker

import (
	"sort"
	"sync"
)

// Registry holds one breaker per name (an outbound host, a webhook
// destination), created on first use with a shared Config. It is safe for
// concurrent use.
type Registry struct {
	cfg Config

	mu       sync.Mutex
	breakers map[string]*Breaker
}

// NewRegistry returns an empty registry whose breakers use cfg, or an error
// when cfg has negative settings.
func NewRegistry(cfg Config) (*Registry, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Registry{cfg: cfg, breakers: map[string]*Breaker{}}, nil
}

// Get returns the breaker for name, creating a closed one on first use.
func (r *Registry) Get(name string) *Breaker {
	r.mu.Lock()
	defer r.mu.Unlock()
	b, ok := r.breakers[name]
	if !ok {
		b = &Breaker{name: name, cfg: r.cfg}
		r.breakers[name] = b
	}
	return b
}

// Remove forgets the breaker for name; the next Get creates a fresh one.
func (r *Registry) Remove(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.breakers, name)
}

// Len returns the number of breakers.
func (r *Registry) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.breakers)
}

// Names returns the names of the breakers, sorted.
func (r *Registry) Names() []string {
	r.mu.Lock()
	names := make([]string, 0, len(r.breakers))
	for name := range r.breakers {
		names = append(names, name)
	}
	r.mu.Unlock()
	sort.Strings(names)
	return names
}

// States returns the current state of every breaker, by name.
func (r *Registry) States() map[string]State {
	r.mu.Lock()
	bs := make([]*Breaker, 0, len(r.breakers))
	for _, b := range r.breakers {
		bs = append(bs, b)
	}
	r.mu.Unlock()
	states := make(map[string]State, len(bs))
	for _, b := range bs {
		states[b.name] = b.State()
	}
	return states
}
