package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpkit-go/mcpkit/mcpkit"
)

// IncidentRef is the variable of the incident://{id} template: the same
// id, with the same pattern, as the tools take.
type IncidentRef struct {
	ID string `json:"id" jsonschema:"description=Incident id such as INC-1001,pattern=^INC-[0-9]{4}$,example=INC-1001"`
}

// PostmortemIn is the arguments of the postmortem prompt.
type PostmortemIn struct {
	ID       string `json:"id" jsonschema:"description=Incident id such as INC-1001,pattern=^INC-[0-9]{4}$,example=INC-1001"`
	Audience string `json:"audience,omitempty" jsonschema:"description=Who reads the postmortem: engineering (timeline and causes in detail) or leadership (impact and follow-ups in a page),enum=engineering,enum=leadership,default=engineering"`
}

// IndexEntry is one incident in the incidents://index resource.
type IndexEntry struct {
	ID       string `json:"id"`
	URI      string `json:"uri"`
	Title    string `json:"title"`
	Service  string `json:"service"`
	Severity int    `json:"severity"`
	Status   string `json:"status"`
}

const (
	incidentTemplate = "incident://{id}"
	indexURI         = "incidents://index"
	jsonMIME         = "application/json"
)

// incidentURI is the resource URI of one incident.
func incidentURI(id string) string { return strings.Replace(incidentTemplate, "{id}", id, 1) }

// registerResources adds the incident resources and the postmortem prompt
// to s. They need the scope the read tools need; the prompt is also gated
// by its flag (prompt.postmortem in flags.json), so that a team can roll it
// out to some callers first.
func registerResources(s *mcpkit.Server, store *Store) error {
	read := mcpkit.Policy{Risk: mcpkit.ReadOnly, Scopes: []string{ScopeRead}}
	return errors.Join(
		mcpkit.AddResource(s, mcpkit.Resource{
			URI:         indexURI,
			Name:        "incident_index",
			Title:       "Incident index",
			Description: "Every incident with its id, resource URI, title, service, severity and status, in the order list_incidents returns them.",
			MIMEType:    jsonMIME,
			Policy:      read,
		}, func(context.Context) ([]*mcp.ResourceContents, error) {
			incs := store.All()
			index := make([]IndexEntry, 0, len(incs))
			for _, inc := range incs {
				index = append(index, IndexEntry{ID: inc.ID, URI: incidentURI(inc.ID), Title: inc.Title,
					Service: inc.Service, Severity: inc.Severity, Status: inc.Status})
			}
			return jsonContents(index)
		}),
		mcpkit.AddResourceTemplate(s, mcpkit.ResourceTemplate{
			URITemplate: incidentTemplate,
			Name:        "incident",
			Title:       "Incident",
			Description: "One incident as JSON, with its full timeline of notes and its resolution if resolved; the same record get_incident returns.",
			MIMEType:    jsonMIME,
			Policy:      read,
		}, func(_ context.Context, in IncidentRef) ([]*mcp.ResourceContents, error) {
			inc, ok := store.Get(in.ID)
			if !ok {
				return nil, mcpkit.ResourceNotFound("incident://" + in.ID)
			}
			return jsonContents(inc)
		}),
		mcpkit.AddPrompt(s, mcpkit.Prompt{
			Name:        "postmortem",
			Title:       "Draft a postmortem",
			Description: "Draft a blameless postmortem of one incident from its record, for engineering or for leadership.",
			Policy:      read,
		}, func(_ context.Context, in PostmortemIn) ([]*mcp.PromptMessage, error) {
			inc, ok := store.Get(in.ID)
			if !ok {
				return nil, mcpkit.PublicError("incident %s not found", in.ID)
			}
			return postmortemMessages(inc, in.Audience)
		}),
	)
}

// jsonContents is v as the one JSON text of a resource; the URI and MIME
// type are filled in by mcpkit.
func jsonContents(v any) ([]*mcp.ResourceContents, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return []*mcp.ResourceContents{{Text: string(b)}}, nil
}

// postmortemMessages asks the model for a postmortem: the incident record
// travels as an embedded resource (the client can show or cache it by its
// URI), the instructions as text.
func postmortemMessages(inc Incident, audience string) ([]*mcp.PromptMessage, error) {
	body, err := jsonContents(inc)
	if err != nil {
		return nil, err
	}
	body[0].URI, body[0].MIMEType = incidentURI(inc.ID), jsonMIME
	focus := "the timeline in detail, the contributing causes and what detected the problem"
	if audience == "leadership" {
		focus = "the customer impact, how long it lasted and the follow-ups with owners, in one page"
	}
	status := "It is " + inc.Status + ": say what is still unknown."
	if inc.Status == "resolved" {
		status = "It was resolved: " + inc.Resolution
	}
	text := fmt.Sprintf("Write a blameless postmortem of incident %s (%q, service %s, severity %d). %s "+
		"Cover %s. Use only the facts in the incident record above; quote its notes rather than inventing events, and mark any guess as such.",
		inc.ID, inc.Title, inc.Service, inc.Severity, status, focus)
	return []*mcp.PromptMessage{
		{Role: "user", Content: &mcp.EmbeddedResource{Resource: body[0]}},
		{Role: "user", Content: &mcp.TextContent{Text: text}},
	}, nil
}
