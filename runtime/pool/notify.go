package pool

import (
	"sync"

	"github.com/ratchet-go/ratchet/core"
)

// notifier delivers worker status changes to Config.OnStatusChange in
// order, from one goroutine, so that the pool never waits for the callback.
type notifier struct {
	fn func(core.Worker)

	mu      sync.Mutex
	queue   []core.Worker
	wake    chan struct{}
	stopped chan struct{}
	done    chan struct{}
	running bool
}

func newNotifier(fn func(core.Worker)) *notifier {
	return &notifier{
		fn:      fn,
		wake:    make(chan struct{}, 1),
		stopped: make(chan struct{}),
		done:    make(chan struct{}),
	}
}

func (n *notifier) start() {
	if n.fn == nil {
		close(n.done)
		return
	}
	n.mu.Lock()
	n.running = true
	n.mu.Unlock()
	go n.loop()
}

func (n *notifier) send(w core.Worker) {
	if n.fn == nil {
		return
	}
	n.mu.Lock()
	n.queue = append(n.queue, w)
	n.mu.Unlock()
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

func (n *notifier) loop() {
	defer close(n.done)
	for {
		n.mu.Lock()
		batch := n.queue
		n.queue = nil
		n.mu.Unlock()
		for _, w := range batch {
			n.fn(w)
		}
		if len(batch) > 0 {
			continue
		}
		select {
		case <-n.wake:
		case <-n.stopped:
			n.mu.Lock()
			batch := n.queue
			n.queue = nil
			n.mu.Unlock()
			for _, w := range batch {
				n.fn(w)
			}
			return
		}
	}
}

// stop delivers what is queued and waits for the callback to return.
func (n *notifier) stop() {
	n.mu.Lock()
	running := n.running
	n.running = false
	n.mu.Unlock()
	if running {
		close(n.stopped)
	}
	<-n.done
}
