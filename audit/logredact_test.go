package audit_test

import (
	"bytes"
	"errors"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/mcpkit-go/mcpkit/audit"
)

// Every way a string reaches a log line is masked: the message, a plain
// attribute, one added with With, a group, an error and a string slice.
func TestRedactLogsMasksEveryStringValue(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(audit.RedactLogs(slog.NewJSONHandler(&buf, nil), nil)).
		With("origin", "https://u:WithPass1@h.example")
	log.WithGroup("req").Warn("refused password=MsgPass22",
		"reason", "origin not allowed: https://u:AttrPass3@h.example",
		slog.Group("auth", "header", "Bearer ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
		"error", errors.New("token=ErrTok4444 rejected"),
		"list", []string{"api_key=ListKey555"}, "count", 3)
	out := buf.String()
	for _, s := range []string{"WithPass1", "MsgPass22", "AttrPass3", "ghp_abcdef", "ErrTok4444", "ListKey555"} {
		assert.NotContains(t, out, s)
	}
	assert.Contains(t, out, "origin not allowed: https://[REDACTED:url_password]@h.example")
	assert.Contains(t, out, `"count":3`)
}
