package main

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

//go:embed incidents.json
var incidentsJSON []byte

// Incident is one record of the embedded data set.
type Incident struct {
	ID         string    `json:"id" jsonschema:"description=Incident id, such as INC-1001"`
	Title      string    `json:"title" jsonschema:"description=One-line summary"`
	Service    string    `json:"service" jsonschema:"description=Affected service"`
	Severity   int       `json:"severity" jsonschema:"description=1 (critical) to 5 (low)"`
	Status     string    `json:"status" jsonschema:"description=open, acknowledged or resolved,enum=open,enum=acknowledged,enum=resolved"`
	CreatedAt  time.Time `json:"created_at" jsonschema:"description=When the incident was opened"`
	UpdatedAt  time.Time `json:"updated_at" jsonschema:"description=When the incident last changed"`
	Notes      []string  `json:"notes" jsonschema:"description=Timeline notes, oldest first"`
	Resolution string    `json:"resolution,omitempty" jsonschema:"description=How the incident was resolved"`
}

// Store holds the incidents in memory. It is safe for concurrent use.
type Store struct {
	mu        sync.RWMutex
	incidents []Incident
	now       func() time.Time
}

// NewStore loads the embedded data set. now stamps changes; pass a fixed
// clock in tests.
func NewStore(now func() time.Time) (*Store, error) {
	var incs []Incident
	if err := json.Unmarshal(incidentsJSON, &incs); err != nil {
		return nil, fmt.Errorf("load incidents: %w", err)
	}
	return &Store{incidents: incs, now: now}, nil
}

// Filter selects incidents for List.
type Filter struct {
	Status      string
	Service     string
	MaxSeverity int
}

func (f Filter) match(inc Incident) bool {
	return (f.Status == "" || inc.Status == f.Status) &&
		(f.Service == "" || inc.Service == f.Service) &&
		(f.MaxSeverity == 0 || inc.Severity <= f.MaxSeverity)
}

// List returns up to limit incidents matching f, starting at offset, and
// whether more follow.
func (s *Store) List(f Filter, offset, limit int) ([]Incident, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Incident
	seen := 0
	for _, inc := range s.incidents {
		if !f.match(inc) {
			continue
		}
		if seen >= offset {
			if len(out) == limit {
				return out, true
			}
			out = append(out, cloneIncident(inc))
		}
		seen++
	}
	return out, false
}

// All returns every incident, in the order List returns them.
func (s *Store) All() []Incident {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Incident, 0, len(s.incidents))
	for _, inc := range s.incidents {
		out = append(out, cloneIncident(inc))
	}
	return out
}

// Search returns incidents whose title, service or notes contain every word
// of query, case-insensitively.
func (s *Store) Search(query string, limit int) []Incident {
	words := strings.Fields(strings.ToLower(query))
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Incident
	for _, inc := range s.incidents {
		text := strings.ToLower(inc.Title + " " + inc.Service + " " + strings.Join(inc.Notes, " ") + " " + inc.Resolution)
		if !slices.ContainsFunc(words, func(w string) bool { return !strings.Contains(text, w) }) {
			out = append(out, cloneIncident(inc))
			if len(out) == limit {
				break
			}
		}
	}
	return out
}

// Get returns the incident with the given id.
func (s *Store) Get(id string) (Incident, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	i := s.index(id)
	if i < 0 {
		return Incident{}, false
	}
	return cloneIncident(s.incidents[i]), true
}

// Resolve marks an incident resolved with a resolution note.
func (s *Store) Resolve(id, resolution, by string) (Incident, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.index(id)
	if i < 0 {
		return Incident{}, errNotFound(id)
	}
	inc := &s.incidents[i]
	if inc.Status == "resolved" {
		return Incident{}, fmt.Errorf("incident %s is already resolved", id)
	}
	inc.Status = "resolved"
	inc.Resolution = resolution
	inc.UpdatedAt = s.now().UTC()
	inc.Notes = append(inc.Notes, fmt.Sprintf("Resolved by %s: %s", by, resolution))
	return cloneIncident(*inc), nil
}

// Delete removes an incident.
func (s *Store) Delete(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.index(id)
	if i < 0 {
		return errNotFound(id)
	}
	s.incidents = slices.Delete(s.incidents, i, i+1)
	return nil
}

func (s *Store) index(id string) int {
	return slices.IndexFunc(s.incidents, func(inc Incident) bool { return inc.ID == id })
}

func cloneIncident(inc Incident) Incident {
	inc.Notes = slices.Clone(inc.Notes)
	return inc
}

type notFoundError string

func (e notFoundError) Error() string { return fmt.Sprintf("incident %s not found", string(e)) }

func errNotFound(id string) error { return notFoundError(id) }
