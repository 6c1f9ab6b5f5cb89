package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"runtime/debug"
	"sync"
)

// maxAdd bounds one /add so that a typo returns 400 instead of crashing the
// runtime with an impossible allocation.
const maxAdd = 1 << 40

// server is the interactive mode: the heap holds exactly the slabs that
// clients added and have not released.
type server struct {
	mu       sync.Mutex
	slabs    [][]byte
	retained int64
}

// Stats is the /stats body: the runtime figures that explain a GC decision,
// plus the current memory limit (GOMEMLIMIT or a hint) and what we retain.
type Stats struct {
	HeapAlloc    uint64
	HeapSys      uint64
	HeapIdle     uint64
	HeapReleased uint64
	NumGC        uint32
	NextGC       uint64
	Sys          uint64
	MemoryLimit  int64
	Retained     int64
}

func (s *server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/add", s.add)
	mux.HandleFunc("/rel", s.rel)
	mux.HandleFunc("/gc", func(w http.ResponseWriter, r *http.Request) {
		runtime.GC()
		s.stats(w, r)
	})
	mux.HandleFunc("/stats", s.stats)
	mux.HandleFunc("/reset", s.reset)
	return mux
}

// bytesParam reads ?bytes=, answering 400 itself when it is missing or bad.
func bytesParam(w http.ResponseWriter, r *http.Request) (int64, bool) {
	v := r.URL.Query().Get("bytes")
	if v == "" {
		http.Error(w, "missing query parameter bytes=N (e.g. bytes=1048576 or bytes=1MiB)", http.StatusBadRequest)
		return 0, false
	}
	n, err := parseSize(v)
	if err != nil {
		http.Error(w, "bytes: "+err.Error(), http.StatusBadRequest)
		return 0, false
	}
	return n, true
}

func (s *server) add(w http.ResponseWriter, r *http.Request) {
	n, ok := bytesParam(w, r)
	if !ok {
		return
	}
	if n > maxAdd {
		http.Error(w, fmt.Sprintf("bytes: %d exceeds the %d-byte maximum per /add", n, int64(maxAdd)), http.StatusBadRequest)
		return
	}
	b := make([]byte, n)
	touch(b)
	s.mu.Lock()
	s.slabs = append(s.slabs, b)
	s.retained += n
	total := s.retained
	s.mu.Unlock()
	writeJSON(w, map[string]int64{"added": n, "retained": total})
}

// rel releases whole slabs, newest first, until at least the requested
// bytes are released. Cutting a slab would not free memory (the backing
// array stays reachable) and copying it would allocate, which is not what
// a release should do; the body reports the bytes actually released.
func (s *server) rel(w http.ResponseWriter, r *http.Request) {
	n, ok := bytesParam(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	var released int64
	for released < n && len(s.slabs) > 0 {
		last := len(s.slabs) - 1
		released += int64(len(s.slabs[last]))
		s.slabs[last] = nil // the array must not stay reachable via the backing slice
		s.slabs = s.slabs[:last]
	}
	s.retained -= released
	total := s.retained
	s.mu.Unlock()
	writeJSON(w, map[string]int64{"released": released, "retained": total})
}

func (s *server) reset(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	released := s.retained
	s.slabs, s.retained = nil, 0
	s.mu.Unlock()
	writeJSON(w, map[string]int64{"released": released, "retained": 0})
}

func (s *server) stats(w http.ResponseWriter, r *http.Request) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s.mu.Lock()
	retained := s.retained
	s.mu.Unlock()
	writeJSON(w, Stats{
		HeapAlloc:    ms.HeapAlloc,
		HeapSys:      ms.HeapSys,
		HeapIdle:     ms.HeapIdle,
		HeapReleased: ms.HeapReleased,
		NumGC:        ms.NumGC,
		NextGC:       ms.NextGC,
		Sys:          ms.Sys,
		MemoryLimit:  debug.SetMemoryLimit(-1),
		Retained:     retained,
	})
}

func writeJSON(w http.ResponseWriter, v interface{}) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
