package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// saveDelay debounces state-file saves: a burst of changes costs one write.
const saveDelay = 250 * time.Millisecond

// stateFile keeps the state in a JSON file, written atomically (temp file + rename) by one
// goroutine so a burst of API calls never waits on the disk.
type stateFile struct {
	path string
	log  *slog.Logger

	kickCh    chan struct{}
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	snapshot  func() ([]byte, error)
	lastErr   error
}

// load reads the state file; a missing file is an empty sandbox (nil state).
func (f *stateFile) load() (*state, error) {
	data, err := os.ReadFile(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sandbox state file: %w", err)
	}
	st := newState()
	if err := json.Unmarshal(data, st); err != nil {
		// Refuse to start rather than overwrite a file we cannot read.
		return nil, fmt.Errorf("sandbox state file %s: %w", f.path, err)
	}
	st.reindex()
	return st, nil
}

func (f *stateFile) start(snapshot func() ([]byte, error)) {
	f.snapshot = snapshot
	f.kickCh = make(chan struct{}, 1)
	f.stop = make(chan struct{})
	f.done = make(chan struct{})
	go f.loop()
}

func (f *stateFile) kick() {
	select {
	case f.kickCh <- struct{}{}:
	default: // a save is already pending; it will see this change too
	}
}

func (f *stateFile) loop() {
	defer close(f.done)
	for {
		select {
		case <-f.stop:
			f.lastErr = f.save()
			return
		case <-f.kickCh:
			select {
			case <-time.After(saveDelay):
			case <-f.stop:
			}
			if err := f.save(); err != nil {
				f.log.Error("sandbox: saving the state file failed", "path", f.path, "err", err)
			}
		}
	}
}

func (f *stateFile) save() error {
	data, err := f.snapshot()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(f.path), filepath.Base(f.path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), f.path)
}

// close stops the saver after a final save and reports that save's error.
func (f *stateFile) close() error {
	f.closeOnce.Do(func() {
		close(f.stop)
		<-f.done
	})
	return f.lastErr
}

// snapshot serialises the state under the lock.
func (s *Server) snapshot() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return json.Marshal(s.st)
}
