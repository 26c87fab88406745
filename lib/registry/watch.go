package registry

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// maxWatchDepth is how deep below a source's folder folders are watched:
// a folder of tasks holds task folders holding tests folders, and no task
// file lies deeper.
const maxWatchDepth = 2

// retryAfterError is the pause before a reload that failed on a database
// error is tried again (as a full reload of the source).
const retryAfterError = 2 * time.Second

// watcher watches one source.
type watcher struct {
	src *source
	fs  *fsnotify.Watcher
	log *slog.Logger
	// file is set when the source is a file (a zip): its folder is watched
	// and the events of other files are dropped.
	file string
}

func (r *Registry) newWatcher(src *source) (*watcher, error) {
	st, err := os.Stat(src.root)
	if err != nil {
		return nil, err
	}
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("starting a file watcher: %w", err)
	}
	w := &watcher{src: src, fs: fw, log: r.log.With(slog.String("source", src.Name))}
	if st.IsDir() {
		err = w.addTree(src.root)
	} else {
		w.file = src.root
		err = fw.Add(filepath.Dir(src.root))
	}
	if err != nil {
		_ = fw.Close()
		return nil, fmt.Errorf("watching %s: %w", src.root, err)
	}
	return w, nil
}

// rel returns p relative to the source root, slash-separated, and false
// when p is outside it.
func (w *watcher) rel(p string) (string, bool) {
	rel, err := filepath.Rel(w.src.root, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

func depth(rel string) int {
	if rel == "." {
		return 0
	}
	return strings.Count(rel, "/") + 1
}

// hidden reports whether a path component of rel starts with a dot.
func hidden(rel string) bool {
	for part := range strings.SplitSeq(rel, "/") {
		if strings.HasPrefix(part, ".") && part != "." {
			return true
		}
	}
	return false
}

// addTree watches dir and the folders below it, down to maxWatchDepth
// below the root, skipping hidden and ignored ones.
func (w *watcher) addTree(dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir {
				return err
			}
			return nil // gone meanwhile
		}
		rel, ok := w.rel(p)
		if !ok {
			return filepath.SkipDir
		}
		isDir := d.IsDir()
		if !isDir && d.Type()&fs.ModeSymlink != 0 {
			if st, err := os.Stat(p); err == nil && st.IsDir() {
				isDir = true // a linked task folder: watched, not walked
			}
		}
		if !isDir {
			return nil
		}
		if rel != "." && (hidden(rel) || w.src.ignore.Ignored(rel) || depth(rel) > maxWatchDepth) {
			return filepath.SkipDir
		}
		if err := w.fs.Add(p); err != nil {
			if p == dir {
				return err
			}
			w.log.Warn("cannot watch folder", slog.String("path", p), slog.String("error", err.Error()))
			return nil
		}
		if depth(rel) == maxWatchDepth && d.IsDir() {
			return filepath.SkipDir
		}
		return nil
	})
}

// note records what an event changed in pending. It reports whether the
// event matters.
func (w *watcher) note(ev fsnotify.Event, pending map[string]bool) bool {
	if ev.Op == fsnotify.Chmod {
		return false
	}
	name := filepath.Clean(ev.Name)
	if w.file != "" {
		if name != w.file {
			return false
		}
		pending["."] = true
		return true
	}
	rel, ok := w.rel(name)
	if !ok {
		return false
	}
	if rel != "." && (hidden(rel) || w.src.ignore.Ignored(rel)) {
		return false
	}
	if ev.Has(fsnotify.Create) && rel != "." {
		if st, err := os.Stat(name); err == nil && st.IsDir() {
			if err := w.addTree(name); err != nil {
				w.log.Warn("cannot watch new folder", slog.String("path", name), slog.String("error", err.Error()))
			}
		}
	}
	pending[rel] = true
	return true
}

// watch runs one source's watcher until ctx ends or stopping closes.
func (r *Registry) watch(ctx context.Context, stopping <-chan struct{}, w *watcher) {
	defer w.fs.Close()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	pending := map[string]bool{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-stopping:
			return
		case ev, ok := <-w.fs.Events:
			if !ok {
				return
			}
			if w.note(ev, pending) {
				timer.Reset(w.src.Debounce)
			}
		case err, ok := <-w.fs.Errors:
			if !ok {
				return
			}
			w.log.WarnContext(ctx, "file watcher error", slog.String("error", err.Error()))
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				pending["."] = true // events were lost: reload it all
				timer.Reset(w.src.Debounce)
			}
		case <-timer.C:
			rels := pending
			pending = map[string]bool{}
			r.loadMu.Lock()
			changes, err := r.reloadPaths(ctx, w.src, rels)
			r.loadMu.Unlock()
			r.notify(ctx, changes)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				w.log.ErrorContext(ctx, "reloading changed tasks", slog.String("error", err.Error()))
				pending["."] = true
				timer.Reset(max(w.src.Debounce, retryAfterError))
			}
		}
	}
}
