package flagdfile

import (
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// watch reloads the file a debounce interval after the last event that
// may have changed it, until stop is closed.
func (p *Provider) watch(w *fsnotify.Watcher, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	defer w.Close()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	base := filepath.Base(p.path)
	for {
		select {
		case <-stop:
			return
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			// Any change to the file's name counts: a write, a create or a
			// rename over it, a removal. Kubernetes-style symlink swaps
			// touch another name, so events on hidden "..data" entries
			// count too.
			name := filepath.Base(ev.Name)
			if name == base || len(name) > 1 && name[:2] == ".." {
				timer.Reset(p.debounce)
			}
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			p.logger.Warn("flag file watch error; reloading to be safe", "path", p.path, "error", err)
			timer.Reset(p.debounce)
		case <-timer.C:
			p.reload(stop)
		}
	}
}
