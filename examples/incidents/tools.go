package main

import (
	"context"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// Scopes the tools require.
const (
	ScopeRead  = "incidents:read"
	ScopeWrite = "incidents:write"
	ScopeAdmin = "incidents:admin"
	// ScopeApprove is not a tool's: a reviewer needs it, on top of the
	// scopes of the tool whose call they decide, to use the approval
	// console.
	ScopeApprove = "incidents:approve"
)

// AllScopes is every scope the server's policies name.
var AllScopes = []string{ScopeRead, ScopeWrite, ScopeAdmin}

// ListIn is the input of list_incidents.
type ListIn struct {
	Status      string `json:"status,omitempty" jsonschema:"description=Only incidents with this status,enum=open,enum=acknowledged,enum=resolved"`
	Service     string `json:"service,omitempty" jsonschema:"description=Only incidents of this service (for example checkout),maxLength=64"`
	MaxSeverity int    `json:"max_severity,omitempty" jsonschema:"description=Only incidents at least this severe: severity 1 is critical and 5 is low so 2 returns severities 1 and 2,minimum=1,maximum=5"`
	Limit       int    `json:"limit,omitempty" jsonschema:"description=Page size,minimum=1,maximum=100,default=20"`
	Cursor      string `json:"cursor,omitempty" jsonschema:"description=The next_cursor of a previous page; omit for the first page,maxLength=64"`
}

// ListOut is the output of list_incidents and search_incidents.
type ListOut struct {
	Incidents  []Incident `json:"incidents" jsonschema:"description=Matching incidents"`
	NextCursor string     `json:"next_cursor,omitempty" jsonschema:"description=Pass as cursor to get the next page; absent on the last page"`
}

// GetIn is the input of get_incident.
type GetIn struct {
	ID string `json:"id" jsonschema:"description=Incident id such as INC-1001,pattern=^INC-[0-9]{4}$,example=INC-1001"`
}

// SearchIn is the input of search_incidents.
type SearchIn struct {
	Query string `json:"query" jsonschema:"description=Words that must all appear in the title or service or notes,minLength=2,maxLength=200"`
	Limit int    `json:"limit,omitempty" jsonschema:"description=Maximum number of results,minimum=1,maximum=100,default=20"`
}

// ResolveIn is the input of resolve_incident.
type ResolveIn struct {
	ID         string `json:"id" jsonschema:"description=Incident id such as INC-1001,pattern=^INC-[0-9]{4}$,example=INC-1001"`
	Resolution string `json:"resolution" jsonschema:"description=What fixed the incident; recorded on its timeline,minLength=3,maxLength=2000"`
}

// DeleteIn is the input of delete_incident.
type DeleteIn struct {
	ID     string `json:"id" jsonschema:"description=Incident id such as INC-1001,pattern=^INC-[0-9]{4}$,example=INC-1001"`
	Reason string `json:"reason" jsonschema:"description=Why the incident is being deleted (duplicate or test data),minLength=3,maxLength=500"`
}

// DeleteOut is the output of delete_incident.
type DeleteOut struct {
	Deleted string `json:"deleted" jsonschema:"description=Id of the deleted incident"`
}

// registerTools adds the five incident tools to s.
func registerTools(s *mcpkit.Server, store *Store) error {
	read := mcpkit.Policy{Risk: mcpkit.ReadOnly, Scopes: []string{ScopeRead}}
	// HTTP clients of protocol 2026-07-28 also send a listing's service as
	// Mcp-Param-Service, so that a gateway can route it to that service's
	// on-call replica without reading the body; the server checks the two
	// agree. A service name is no secret.
	list := read
	list.Headers = map[string]string{"service": "Service"}
	return errors.Join(
		mcpkit.AddTool(s, mcpkit.Tool{
			Name:        "list_incidents",
			Title:       "List incidents",
			Description: "List incidents, newest last, filtered by status, service and severity. Results are paged: pass next_cursor back as cursor for the next page.",
			Policy:      list,
		}, func(_ context.Context, in ListIn) (ListOut, error) {
			offset, err := decodeCursor(in.Cursor)
			if err != nil {
				return ListOut{}, err
			}
			incs, more := store.List(Filter{Status: in.Status, Service: in.Service, MaxSeverity: in.MaxSeverity}, offset, in.Limit)
			out := ListOut{Incidents: nonNil(incs)}
			if more {
				out.NextCursor = encodeCursor(offset + len(incs))
			}
			return out, nil
		}),
		mcpkit.AddTool(s, mcpkit.Tool{
			Name:        "get_incident",
			Title:       "Get an incident",
			Description: "Get one incident by id, with its full timeline of notes and its resolution if resolved.",
			Policy:      read,
		}, func(_ context.Context, in GetIn) (Incident, error) {
			inc, ok := store.Get(in.ID)
			if !ok {
				return Incident{}, mcpkit.PublicError("incident %s not found", in.ID)
			}
			return inc, nil
		}),
		mcpkit.AddTool(s, mcpkit.Tool{
			Name:        "search_incidents",
			Title:       "Search incidents",
			Description: "Search incidents by words in their title, service or notes (all words must match, case-insensitive).",
			Policy:      read,
		}, func(_ context.Context, in SearchIn) (ListOut, error) {
			return ListOut{Incidents: nonNil(store.Search(in.Query, in.Limit))}, nil
		}),
		mcpkit.AddTool(s, mcpkit.Tool{
			Name:        "resolve_incident",
			Title:       "Resolve an incident",
			Description: "Mark an open or acknowledged incident as resolved, recording what fixed it on the incident's timeline.",
			Policy: mcpkit.Policy{Risk: mcpkit.Write, Scopes: []string{ScopeWrite}, Idempotent: false,
				Approval: mcpkit.ApprovalWhen("severity == 1", func(in ResolveIn) bool {
					inc, ok := store.Get(in.ID)
					return ok && inc.Severity == 1
				})},
		}, func(ctx context.Context, in ResolveIn) (Incident, error) {
			inc, err := store.Resolve(in.ID, in.Resolution, caller(ctx))
			if err != nil {
				return Incident{}, mcpkit.PublicError("%s", err.Error())
			}
			return inc, nil
		}),
		mcpkit.AddTool(s, mcpkit.Tool{
			Name:        "delete_incident",
			Title:       "Delete an incident",
			Description: "Permanently delete an incident record, for duplicates and test data only. This cannot be undone.",
			Policy:      mcpkit.Policy{Risk: mcpkit.Destructive, Scopes: []string{ScopeAdmin}},
		}, func(_ context.Context, in DeleteIn) (DeleteOut, error) {
			if err := store.Delete(in.ID); err != nil {
				return DeleteOut{}, mcpkit.PublicError("%s", err.Error())
			}
			return DeleteOut{Deleted: in.ID}, nil
		}),
	)
}

// caller names who is calling, for the incident timeline.
func caller(ctx context.Context) string {
	if c, ok := mcpkit.CallFromContext(ctx); ok && c.Identity.Subject != "" {
		return c.Identity.Subject
	}
	return "unknown"
}

func nonNil(incs []Incident) []Incident {
	if incs == nil {
		return []Incident{}
	}
	return incs
}

const cursorPrefix = "o:"

func encodeCursor(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + strconv.Itoa(offset)))
}

func decodeCursor(c string) (int, error) {
	if c == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	rest, ok := strings.CutPrefix(string(b), cursorPrefix)
	n, convErr := strconv.Atoi(rest)
	if err != nil || !ok || convErr != nil || n < 0 || n > 1_000_000 {
		return 0, mcpkit.PublicError("arguments.cursor: not a cursor this server issued; omit it to start from the first page")
	}
	return n, nil
}
