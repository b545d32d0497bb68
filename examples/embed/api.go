package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// The service's existing REST API. Nothing here knows about MCP.

func (s *Service) registerAPI(mux *http.ServeMux) {
	k := s.cfg.Keys
	mux.Handle("GET /api/orders", k.Require(PermOrdersRead, http.HandlerFunc(s.listOrders)))
	mux.Handle("GET /api/orders/{id}", k.Require(PermOrdersRead, http.HandlerFunc(s.getOrder)))
	mux.Handle("POST /api/orders/{id}/cancel", k.Require(PermOrdersWrite, http.HandlerFunc(s.cancelOrder)))
}

func (s *Service) listOrders(w http.ResponseWriter, r *http.Request) {
	limit, err := strconv.Atoi(r.URL.Query().Get("limit"))
	if r.URL.Query().Has("limit") && (err != nil || limit < 1 || limit > 100) {
		writeJSONError(w, http.StatusBadRequest, "limit must be a number from 1 to 100")
		return
	}
	orders, err := s.cfg.Orders.List(r.Context(), r.URL.Query().Get("status"), limit)
	if err != nil {
		writeStoreError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"orders": orders})
}

func (s *Service) getOrder(w http.ResponseWriter, r *http.Request) {
	o, err := s.cfg.Orders.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		writeStoreError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, o)
}

func (s *Service) cancelOrder(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Reason string `json:"reason"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10)).Decode(&body); err != nil || body.Reason == "" {
		writeJSONError(w, http.StatusBadRequest, `send {"reason": "..."}`)
		return
	}
	p, _ := PrincipalFrom(r.Context())
	o, err := s.cfg.Orders.Cancel(r.Context(), r.PathValue("id"), p.Name, body.Reason)
	if err != nil {
		writeStoreError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, o)
}

func writeStoreError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrNotFound):
		writeJSONError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, ErrNotCancellable):
		writeJSONError(w, http.StatusConflict, err.Error())
	default:
		writeJSONError(w, http.StatusInternalServerError, "internal error")
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// traced is the service's existing request tracing: one SERVER span per
// request from its own TracerProvider. MCP tool-call spans made by the
// audit middleware nest under it.
func traced(tracer trace.Tracer, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, span := tracer.Start(r.Context(), "HTTP "+r.Method, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.request.method", r.Method), attribute.String("url.path", r.URL.Path)))
		defer span.End()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r.WithContext(ctx))
		span.SetAttributes(attribute.Int("http.response.status_code", sw.status))
		if sw.status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(sw.status))
		}
	})
}

// statusWriter remembers the status; Flush and Unwrap keep MCP's SSE
// streaming working through it.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
