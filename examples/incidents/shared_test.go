package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// A replica that cannot reach its shared state stops before serving, and
// neither its error nor its log shows the password in the URL, however
// the URL is wrong, nor the user, host and database pgx's connect error
// names: only that the connection failed.
func TestSharedStateFailsClosedWithoutShowingTheURL(t *testing.T) {
	t.Setenv("INCIDENTS_APPROVAL_KEYS", "k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	const secret = "pw-do-not-show-7f3a"
	for _, u := range []string{
		"postgres://zqfleetuser:" + secret + "@127.0.0.1:1/zqfleetdb?sslmode=disable&connect_timeout=2",     // nothing listens
		"postgres://fleet:" + secret + "@[::1/fleet",                                                        // malformed
		"host=127.0.0.1 port=1 user=zqfleetuser dbname=zqfleetdb password=" + secret + " connect_timeout=2", // key=value
	} {
		t.Setenv("INCIDENTS_SHARED_STATE", u)
		var logs bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err := run(ctx, []string{"-audit", t.TempDir() + "/a.jsonl", "-instance-id", "r1"}, strings.NewReader(""), io.Discard, &logs)
		cancel()
		if err == nil {
			t.Fatalf("%s: served without its shared state", u)
		}
		if !strings.Contains(err.Error(), "connecting to the shared state") {
			t.Errorf("error %q does not say what failed", err)
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(logs.String(), secret) {
			t.Errorf("the password leaked: error %q, log %q", err, logs.String())
		}
		for _, w := range []string{"zqfleet", "127.0.0.1"} {
			if strings.Contains(err.Error(), w) || strings.Contains(logs.String(), w) {
				t.Errorf("the connection's %q leaked: error %q, log %q", w, err, logs.String())
			}
		}
	}
}
